"""What an uploaded PDF holds, read with pypdf instead of searched for bytes.

A byte search misses names written with #-escapes (`/J#61vaScript` is `/JavaScript`) and objects packed
in compressed object streams, and it refuses harmless text such as "/JSON". pypdf resolves both, so every
object the file's cross-reference knows (object streams included) is read and judged by what it is:

- refused anywhere: JavaScript (an action, a /JS entry, the document's JavaScript name tree), actions
  that start a program or send or import data (Launch, SubmitForm, ImportData), embedded files (the
  EmbeddedFiles name tree, file specifications with /EF, file attachment annotations, GoToE), multimedia
  (RichMedia, Rendition, Movie, Sound) and XFA forms;
- refused when they run by themselves (the document's /OpenAction, and the /AA additional actions of the
  document, a page, a form field or an annotation, with their /Next chains): also actions that fetch
  (URI, GoToR). A link the reader clicks may still point to a web page.

Opening a PDF also unpacks its streams: everything unpacked is counted against one budget for the file,
and every image's pixels (the dictionary's /Width and /Height, and for JPEG data also the JPEG's own
header, which is what a viewer decodes) against the pixel limit.

Names of the PDF objects are those of ISO 32000-1 (sections 7.5.8 object streams, 12.6 actions, 7.11.4
embedded files, 13 multimedia, 12.7.8 XFA).
"""

from dataclasses import dataclass
from io import BytesIO

from pypdf import PdfReader, apply_configuration
from pypdf.errors import LimitReachedError
from pypdf.filters import decode_stream_data
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NullObject,
    StreamObject,
)

from applications.cases.image_headers import jpeg_size

# A scanned document has tens of objects per page; a file over this count is not a scan.
MAX_OBJECTS = 50_000
# Direct values (array items, dictionary entries) read in all, so that no shape of file keeps us busy.
MAX_VALUES = 2_000_000
MAX_ACTION_CHAIN = 100

# What was found (Finding.problem).
ACTIVE = "active_content"
UNPACKED = "unpacked_too_large"
PIXELS = "too_many_pixels"
ENCRYPTED = "encrypted"
UNREADABLE = "unreadable"

# Kinds of active content (Finding.detail).
JAVASCRIPT = "javascript"
LAUNCH = "launch"
FETCH = "fetch"
DATA_EXCHANGE = "data_exchange"
ATTACHMENT = "attachment"
MULTIMEDIA = "multimedia"
XFA = "xfa"

# Action types (the /S of an action dictionary) refused wherever they are.
ACTIONS_REFUSED = {
    "/JavaScript": JAVASCRIPT,
    "/Launch": LAUNCH,
    "/SubmitForm": DATA_EXCHANGE,
    "/ImportData": DATA_EXCHANGE,
    "/GoToE": ATTACHMENT,
    "/RichMediaExecute": MULTIMEDIA,
    "/Rendition": MULTIMEDIA,
    "/Movie": MULTIMEDIA,
    "/Sound": MULTIMEDIA,
}
# ... and these too when the viewer runs them without being asked (opening the file, a page, a field).
ACTIONS_REFUSED_WHEN_AUTOMATIC = {**ACTIONS_REFUSED, "/URI": FETCH, "/GoToR": FETCH}
ANNOTATIONS_REFUSED = {
    "/FileAttachment": ATTACHMENT,
    "/RichMedia": MULTIMEDIA,
    "/Movie": MULTIMEDIA,
    "/Sound": MULTIMEDIA,
}
# Image codecs: their data is decoded by the viewer into pixels, which the pixel limit bounds; the
# filters before them (Flate, LZW, ...) are unpacked and counted.
IMAGE_CODECS = {"/DCTDecode", "/DCT", "/JPXDecode", "/JBIG2Decode", "/CCITTFaxDecode", "/CCF"}
JPEG_CODECS = {"/DCTDecode", "/DCT"}


@dataclass(frozen=True)
class Finding:
    """Why a PDF is refused: the problem, what kind of active content, an image's size."""

    problem: str
    detail: str = ""
    width: int = 0
    height: int = 0


class _Refused(Exception):
    def __init__(self, finding: Finding):
        super().__init__(finding.problem)
        self.finding = finding


def inspect_pdf(content: bytes, *, max_unpacked_bytes: int, max_pixels: int) -> Finding | None:
    """None for a PDF that may be accepted, else the first reason to refuse it."""
    # pypdf's own limit per unpacked stream (an object stream it unpacks to find objects) is the file's
    # budget; and it must never call the external jbig2dec program on an upload.
    limits = {
        "zlib_maximum_output_length": max_unpacked_bytes,
        "lzw_maximum_output_length": max_unpacked_bytes,
        "run_length_maximum_output_length": max_unpacked_bytes,
        "brotli_maximum_output_length": max_unpacked_bytes,
        "jbig2dec_binary": None,
    }
    try:
        with apply_configuration(**limits):
            reader = PdfReader(BytesIO(content), strict=False)
            if reader.is_encrypted:
                return Finding(ENCRYPTED)
            _Inspection(reader, max_unpacked_bytes, max_pixels).run()
    except _Refused as refused:
        return refused.finding
    except LimitReachedError:
        return Finding(UNPACKED)
    except Exception:  # pypdf raises many kinds of error on a damaged file: each means "cannot be read"
        return Finding(UNREADABLE)
    return None


def _resolved(value):
    return value.get_object() if isinstance(value, IndirectObject) else value


def _name(value) -> str | None:
    value = _resolved(value)
    return str(value) if isinstance(value, NameObject) else None


def _names(value) -> list[str]:
    """A /Filter entry: one name or an array of names."""
    value = _resolved(value)
    if isinstance(value, ArrayObject):
        return [name for name in (_name(item) for item in value) if name]
    name = _name(value)
    return [name] if name else []


class _Inspection:
    def __init__(self, reader: PdfReader, max_unpacked_bytes: int, max_pixels: int):
        self.reader = reader
        self.max_unpacked_bytes = max_unpacked_bytes
        self.max_pixels = max_pixels
        self.unpacked = 0

    def every_object(self):
        """References to every object the cross-reference knows, those in object streams included."""
        for generation, table in self.reader.xref.items():
            for number in table:
                yield IndirectObject(number, generation, self.reader)
        for number in self.reader.xref_objStm:
            yield IndirectObject(number, 0, self.reader)

    def run(self):
        pending = [self.reader.trailer, *self.every_object()]
        seen = set()
        values = 0
        while pending:
            item = pending.pop()
            values += 1
            if values > MAX_VALUES:
                raise _Refused(Finding(UNPACKED))
            if isinstance(item, IndirectObject):
                key = (item.idnum, item.generation)
                if key in seen:
                    continue
                seen.add(key)
                if len(seen) > MAX_OBJECTS:
                    raise _Refused(Finding(UNPACKED))
                item = item.get_object()
            if isinstance(item, DictionaryObject):
                self.judge(item)
                if isinstance(item, StreamObject):
                    self.unpack(item)
                pending.extend(item.values())
            elif isinstance(item, ArrayObject):
                pending.extend(item)

    def judge(self, dictionary: DictionaryObject):
        """Refuse a dictionary that is, or names, active content."""
        keys = set(dictionary.keys())
        if "/JS" in keys or "/JavaScript" in keys:  # a JavaScript action, or the JavaScript name tree
            raise _Refused(Finding(ACTIVE, JAVASCRIPT))
        action = _name(dictionary.get("/S"))
        if action in ACTIONS_REFUSED:
            raise _Refused(Finding(ACTIVE, ACTIONS_REFUSED[action]))
        if keys & {"/EmbeddedFiles", "/EF"} or _name(dictionary.get("/Type")) == "/EmbeddedFile":
            raise _Refused(Finding(ACTIVE, ATTACHMENT))
        subtype = _name(dictionary.get("/Subtype"))
        if subtype in ANNOTATIONS_REFUSED:
            raise _Refused(Finding(ACTIVE, ANNOTATIONS_REFUSED[subtype]))
        if keys & {"/RichMediaContent", "/RichMediaSettings"}:
            raise _Refused(Finding(ACTIVE, MULTIMEDIA))
        if "/XFA" in keys:
            raise _Refused(Finding(ACTIVE, XFA))
        if "/OpenAction" in keys:
            self.judge_automatic(dictionary.get("/OpenAction"))
        if "/AA" in keys:
            triggers = _resolved(dictionary.get("/AA"))
            if isinstance(triggers, DictionaryObject):
                for action in triggers.values():
                    self.judge_automatic(action)

    def judge_automatic(self, action):
        """An action the viewer runs by itself, and every action chained to it by /Next."""
        chain, seen = [action], 0
        while chain:
            seen += 1
            if seen > MAX_ACTION_CHAIN:
                raise _Refused(Finding(UNPACKED))
            current = _resolved(chain.pop())
            if isinstance(current, ArrayObject):  # /Next may be an array; /OpenAction may be a destination
                if any(isinstance(_resolved(item), DictionaryObject) for item in current):
                    chain.extend(current)
                continue
            if not isinstance(current, DictionaryObject):
                continue
            kind = ACTIONS_REFUSED_WHEN_AUTOMATIC.get(_name(current.get("/S")))
            if kind:
                raise _Refused(Finding(ACTIVE, kind))
            if "/Next" in current:
                chain.append(current.get("/Next"))

    def unpack(self, stream: StreamObject):
        """Count what the stream unpacks to, and check the pixels of an image."""
        filters = _names(stream.get("/Filter"))
        is_image = _name(stream.get("/Subtype")) == "/Image"
        if is_image:
            self.check_pixels(_resolved(stream.get("/Width")), _resolved(stream.get("/Height")))
        packing = []
        for name in filters:
            if name in IMAGE_CODECS:
                break
            packing.append(name)
        codec = filters[len(packing)] if len(packing) < len(filters) else None
        data = self.unpacked_data(stream, packing)
        self.unpacked += len(data)
        if self.unpacked > self.max_unpacked_bytes:
            raise _Refused(Finding(UNPACKED))
        if is_image and codec in JPEG_CODECS:
            size = jpeg_size(data)
            if size is not None:
                self.check_pixels(*size)

    def unpacked_data(self, stream: StreamObject, packing: list[str]) -> bytes:
        data = stream._data  # the encoded bytes (pypdf's own decoder reads the same attribute)
        if not packing or not data:
            return data
        parameters = _resolved(stream.get("/DecodeParms"))
        if not isinstance(parameters, ArrayObject):
            parameters = ArrayObject([parameters] if parameters is not None else [])
        partial = StreamObject()
        partial._data = data
        partial[NameObject("/Filter")] = ArrayObject(NameObject(name) for name in packing)
        # One entry per filter: pypdf pairs them with zip(), so a short list would leave filters unapplied.
        partial[NameObject("/DecodeParms")] = ArrayObject(
            parameters[index] if index < len(parameters) else NullObject() for index in range(len(packing))
        )
        remaining = self.max_unpacked_bytes - self.unpacked + 1  # + 1: one byte more tells it is too much
        with apply_configuration(
            zlib_maximum_output_length=remaining,
            lzw_maximum_output_length=remaining,
            run_length_maximum_output_length=remaining,
            brotli_maximum_output_length=remaining,
        ):
            return decode_stream_data(partial)

    def check_pixels(self, width, height):
        if not all(isinstance(side, int | float) and not isinstance(side, bool) for side in (width, height)):
            raise _Refused(Finding(UNREADABLE))  # an image whose size is not a number cannot be shown
        width, height = int(width), int(height)
        if width <= 0 or height <= 0 or width * height > self.max_pixels:
            raise _Refused(Finding(PIXELS, width=width, height=height))
