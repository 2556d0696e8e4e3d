"""Reading rendered PDFs back, the way a receiver's software would (pypdf)."""

import re
from io import BytesIO

from pypdf import PdfReader
from pypdf.generic import IndirectObject, StreamObject


def reader(pdf: bytes) -> PdfReader:
    return PdfReader(BytesIO(pdf))


def squash(text: str) -> str:
    """Text without any whitespace: line breaks fall anywhere in a narrow table cell."""
    return re.sub(r"\s+", "", text)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in reader(pdf).pages)


def page_count(pdf: bytes) -> int:
    return len(reader(pdf).pages)


def fonts_of(pdf: bytes) -> dict[str, list[str]]:
    """Each font used on any page: its base name and the /FontFile* keys of its descriptor."""
    fonts = {}
    for page in reader(pdf).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptors = [d.get_object()["/FontDescriptor"] for d in font.get("/DescendantFonts", [])]
            if "/FontDescriptor" in font:
                descriptors.append(font["/FontDescriptor"])
            files = [key for d in descriptors for key in d.get_object() if key.startswith("/FontFile")]
            fonts[str(font["/BaseFont"])] = files
    return fonts


def attachments_of(pdf: bytes) -> list[str]:
    """Everything that would make the PDF carry a file: embedded files in the name tree, file
    attachment annotations, and embedded file streams anywhere."""
    found = []
    document = reader(pdf)
    names = document.trailer["/Root"].get("/Names")
    if names is not None and "/EmbeddedFiles" in names.get_object():
        found.append("/EmbeddedFiles")
    for number, page in enumerate(document.pages, 1):
        for annotation in page.get("/Annots") or []:
            if annotation.get_object().get("/Subtype") == "/FileAttachment":
                found.append(f"/FileAttachment on page {number}")
    for _name, contents in document.attachments.items():
        found.append(f"attachment {_name} ({sum(len(c) for c in contents)} bytes)")
    for obj in all_objects(document):
        if isinstance(obj, StreamObject) and obj.get("/Type") == "/EmbeddedFile":
            found.append("/EmbeddedFile stream")
    return found


def all_objects(document: PdfReader):
    size = int(document.trailer["/Size"])
    for number in range(1, size):
        try:
            obj = document.get_object(IndirectObject(number, 0, document))
        except Exception:  # noqa: S112 - a free entry of the cross-reference table
            continue
        if obj is not None:
            yield obj


def decoded_streams(pdf: bytes) -> bytes:
    """All stream contents, decompressed, concatenated: what a file in the PDF would be found in."""
    chunks = []
    for obj in all_objects(reader(pdf)):
        if isinstance(obj, StreamObject):
            try:
                chunks.append(obj.get_data())
            except Exception:  # noqa: S112 - an undecodable stream holds no text we look for
                continue
    return b"\n".join(chunks)
