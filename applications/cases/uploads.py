"""Checking an uploaded material by its content, not its name: PDF, JPEG or PNG, at most 10 MB, no
active content in PDFs, no image whose pixel size could exhaust a viewer's memory."""

import struct

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel scan is already larger than any phone photo of a document
PDF_ACTIVE_CONTENT = (b"/JavaScript", b"/JS", b"/Launch", b"/EmbeddedFile", b"/RichMedia", b"/XFA")


def content_type_of(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def png_size(data: bytes):
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def jpeg_size(data: bytes):
    """Width and height from the first start-of-frame marker."""
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        index += 2 + length
    return None


def check_upload(uploaded) -> tuple[bytes, str]:
    """Returns (content, content type) or raises ValidationError saying why the file is refused."""
    if uploaded.size > MAX_BYTES:
        raise ValidationError(_("The file is larger than 10 MB."), code="too_large")
    content = uploaded.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise ValidationError(_("The file is larger than 10 MB."), code="too_large")
    if not content:
        raise ValidationError(_("The file is empty."), code="empty")
    content_type = content_type_of(content[:16])
    if content_type is None:
        raise ValidationError(
            _(
                "Only PDF, JPEG or PNG files are accepted; this file's content is none of them, whatever its name."
            ),
            code="type",
        )
    if content_type == "application/pdf" and any(token in content for token in PDF_ACTIVE_CONTENT):
        raise ValidationError(
            _("This PDF contains scripts, attachments or other active content; please upload a plain scan."),
            code="active_content",
        )
    if content_type != "application/pdf":
        size = png_size(content) if content_type == "image/png" else jpeg_size(content)
        if size is None:
            raise ValidationError(_("The image is damaged and cannot be read."), code="damaged")
        width, height = size
        if width == 0 or height == 0 or width * height > MAX_PIXELS:
            raise ValidationError(
                _("The image's dimensions are too large; please upload a smaller scan."), code="bomb"
            )
    return content, content_type
