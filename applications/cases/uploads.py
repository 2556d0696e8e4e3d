"""Checking an uploaded material by its content, not its name: PDF, JPEG or PNG, at most 10 MB; a PDF
without active content that unpacks to at most 100 MB (applications/cases/pdf_content.py), and no image,
alone or in a PDF, whose pixels could exhaust a viewer's memory. Every refusal says why, with the limit."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from applications.cases import pdf_content
from applications.cases.image_headers import jpeg_size, png_size

MAX_BYTES = 10 * 1024 * 1024
MAX_MEGABYTES = MAX_BYTES // (1024 * 1024)
# A phone photo is 12 megapixels (4032 × 3024), an A4 page scanned at 400 dpi 15.5 (3307 × 4677); a
# 25-megapixel RGBA picture already takes 100 MB once a viewer decodes it.
MAX_PIXELS = 25_000_000
MAX_MEGAPIXELS = MAX_PIXELS // 1_000_000
# A 10 MB scan unpacks to a few tens of MB (photos compress 2-3 times, a white page tenfold); a flate
# "bomb" of the same size unpacks to gigabytes in the clerk's browser.
MAX_UNPACKED_BYTES = 100 * 1024 * 1024
MAX_UNPACKED_MEGABYTES = MAX_UNPACKED_BYTES // (1024 * 1024)

ACTIVE_CONTENT = {
    pdf_content.JAVASCRIPT: _("a script (JavaScript)"),
    pdf_content.LAUNCH: _("an action that starts a program"),
    pdf_content.FETCH: _("an action that opens a web address or another file by itself"),
    pdf_content.DATA_EXCHANGE: _("a form that sends or imports data"),
    pdf_content.ATTACHMENT: _("an attached file"),
    pdf_content.MULTIMEDIA: _("embedded multimedia"),
    pdf_content.XFA: _("an XFA form"),
}


def content_type_of(head: bytes) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def too_many_pixels(width, height, *, in_pdf=False):
    values = {
        "width": width,
        "height": height,
        "megapixels": f"{width * height / 1_000_000:.1f}",
        "limit": MAX_MEGAPIXELS,
    }
    if in_pdf:
        message = _(
            "An image in this PDF is %(width)d × %(height)d pixels (%(megapixels)s megapixels); at most "
            "%(limit)d megapixels are accepted. Please scan at a lower resolution."
        )
    else:
        message = _(
            "The image is %(width)d × %(height)d pixels (%(megapixels)s megapixels); at most %(limit)d "
            "megapixels are accepted. Please upload a smaller scan or photo."
        )
    return ValidationError(message, code="bomb", params=values)


def pdf_refusal(finding: pdf_content.Finding) -> ValidationError:
    if finding.problem == pdf_content.ACTIVE:
        return ValidationError(
            _(
                "This PDF contains active content (%(what)s), which the portal does not accept. Please upload "
                "a plain scan, or print the document to a new PDF and upload that."
            ),
            code="active_content",
            params={"what": ACTIVE_CONTENT[finding.detail]},
        )
    if finding.problem == pdf_content.PIXELS:
        return too_many_pixels(finding.width, finding.height, in_pdf=True)
    if finding.problem == pdf_content.UNPACKED:
        return ValidationError(
            _(
                "This PDF unpacks to more than %(limit)d MB (or holds more than %(objects)s objects) when "
                "opened; please upload a smaller scan."
            ),
            code="unpacked_too_large",
            params={"limit": MAX_UNPACKED_MEGABYTES, "objects": f"{pdf_content.MAX_OBJECTS:,}"},
        )
    if finding.problem == pdf_content.ENCRYPTED:
        return ValidationError(
            _("This PDF is encrypted or protected by a password; please upload it without the protection."),
            code="encrypted",
        )
    return ValidationError(
        _("This PDF is damaged or incomplete and cannot be read; please save or scan it again."),
        code="damaged",
    )


def check_upload(uploaded) -> tuple[bytes, str]:
    """Returns (content, content type) or raises ValidationError saying why the file is refused."""
    too_large = ValidationError(
        _("The file is larger than %(size)s."), code="too_large", params={"size": f"{MAX_MEGABYTES} MB"}
    )
    if uploaded.size > MAX_BYTES:
        raise too_large
    content = uploaded.read(MAX_BYTES + 1)
    if len(content) > MAX_BYTES:
        raise too_large
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
    if content_type == "application/pdf":
        finding = pdf_content.inspect_pdf(
            content, max_unpacked_bytes=MAX_UNPACKED_BYTES, max_pixels=MAX_PIXELS
        )
        if finding is not None:
            raise pdf_refusal(finding)
        return content, content_type
    size = png_size(content) if content_type == "image/png" else jpeg_size(content)
    if size is None:
        raise ValidationError(_("The image is damaged and cannot be read."), code="damaged")
    width, height = size
    if width == 0 or height == 0 or width * height > MAX_PIXELS:
        raise too_many_pixels(width, height)
    return content, content_type
