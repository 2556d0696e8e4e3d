"""PDFs an attacker (or an odd scanner) sends, written byte by byte: a classic cross-reference table, or
objects packed into a compressed object stream with a cross-reference stream (PDF 1.5), so that what the
checker sees is exactly what a viewer sees. Names may be written with #-escapes."""

import io
import struct
import zlib
from functools import cache

from pypdf import PdfWriter

CATALOG = b"<< /Type /Catalog /Pages 2 0 R >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = (
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
    b"/Resources << /Font << /F1 5 0 R >> >> >>"
)
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def content_stream(text: bytes, *, compressed=False) -> bytes:
    data = b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
    if compressed:
        data = zlib.compress(data)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def one_page(changes: dict[int, bytes] | None = None, *, text=b"scan of an ID card") -> dict[int, bytes]:
    """The objects of a plain one-page PDF (1 catalog, 2 pages, 3 page, 4 content, 5 font), with changes."""
    objects = {1: CATALOG, 2: PAGES, 3: PAGE, 4: content_stream(text), 5: FONT}
    objects.update(changes or {})
    return objects


def build(objects: dict[int, bytes], *, packed=(), trailer=b"") -> bytes:
    """A PDF of these objects. Objects named in `packed` go into one compressed object stream, found
    through a cross-reference stream; the others are written out plainly."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number, body in sorted(objects.items()):
        if number not in packed:
            offsets[number] = out.tell()
            out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    size = max(objects) + 1
    if not packed:
        start = out.tell()
        out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
        for number in range(1, size):
            out.write(
                b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 00000 f \n"
            )
        out.write(b"trailer\n<< /Size %d /Root 1 0 R " % size + trailer + b">>\n")
        out.write(b"startxref\n%d\n%%%%EOF\n" % start)
        return out.getvalue()
    stream_number, xref_number = size, size + 1
    header, body = [], b""
    for number in packed:
        header.append(b"%d %d" % (number, len(body)))
        body += objects[number] + b"\n"
    head = b" ".join(header) + b"\n"
    data = zlib.compress(head + body)
    offsets[stream_number] = out.tell()
    out.write(
        b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\nstream\n"
        % (stream_number, len(packed), len(head), len(data))
        + data
        + b"\nendstream\nendobj\n"
    )
    offsets[xref_number] = out.tell()
    rows = b""
    for number in range(xref_number + 1):
        if number in offsets:
            rows += struct.pack(">BIH", 1, offsets[number], 0)
        elif number in packed:
            rows += struct.pack(">BIH", 2, stream_number, list(packed).index(number))
        else:
            rows += struct.pack(">BIH", 0, 0, 65535 if number == 0 else 0)
    rows = zlib.compress(rows)
    out.write(
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length %d "
        % (xref_number, xref_number + 1, len(rows))
        + trailer
        + b">>\nstream\n"
        + rows
        + b"\nendstream\nendobj\n"
    )
    out.write(b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number])
    return out.getvalue()


def with_open_action(action: bytes, **kwargs) -> bytes:
    return build(one_page({1: b"<< /Type /Catalog /Pages 2 0 R /OpenAction 6 0 R >>", 6: action}), **kwargs)


def with_annotation(annotation: bytes) -> bytes:
    page = PAGE.replace(b"/Contents", b"/Annots [6 0 R] /Contents")
    return build(one_page({3: page, 6: annotation}))


def with_page_action(trigger: bytes, action: bytes) -> bytes:
    """An additional action (/AA) of the page: /O runs when the page is opened."""
    page = PAGE.replace(b"/Contents", b"/AA << " + trigger + b" 6 0 R >> /Contents")
    return build(one_page({3: page, 6: action}))


def with_catalog(entries: bytes, extra: dict[int, bytes] | None = None, **kwargs) -> bytes:
    return build(
        one_page({1: b"<< /Type /Catalog /Pages 2 0 R " + entries + b" >>", **(extra or {})}), **kwargs
    )


def jpeg_header(width: int, height: int) -> bytes:
    """The start of a baseline JPEG: its start-of-frame segment says how large the picture is."""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + sof + b"\xff\xd9" + b"\x00" * 16


def png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk + struct.pack(">I", zlib.crc32(chunk))


def with_image(dictionary_size: tuple[int, int], data: bytes, filters=b"/DCTDecode") -> bytes:
    """A page showing one image XObject whose dictionary claims `dictionary_size`."""
    width, height = dictionary_size
    image = (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /BitsPerComponent 8 /ColorSpace /DeviceRGB "
        b"/Filter %s /Length %d >>\nstream\n" % (width, height, filters, len(data)) + data + b"\nendstream"
    )
    page = PAGE.replace(b"/Font", b"/XObject << /Im1 6 0 R >> /Font")
    return build(one_page({3: page, 4: content_stream(b"image"), 6: image}))


@cache
def zeros_deflated(megabytes: int) -> bytes:
    return zlib.compress(b"\0" * (megabytes * 1024 * 1024), 9)


def flate_bomb(megabytes=200, streams=1) -> bytes:
    """Page contents that unpack to `megabytes` of zeros in all, spread over `streams` streams."""
    share = zeros_deflated(megabytes // streams)
    objects = one_page()
    numbers = list(range(6, 6 + streams))
    for number in numbers:
        objects[number] = (
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(share) + share + b"\nendstream"
        )
    objects[3] = PAGE.replace(
        b"/Contents 4 0 R", b"/Contents [" + b" ".join(b"%d 0 R" % n for n in numbers) + b"]"
    )
    return build(objects)


def written_by_pypdf(*, password=None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    if password is not None:
        writer.encrypt(user_password=password, owner_password="owner-secret", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
