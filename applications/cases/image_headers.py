"""An image's width and height, read from its header without decoding a single pixel: a picture whose
pixels would exhaust a viewer's memory is refused before anyone opens it."""

import struct

# Start-of-frame markers of JPEG (ITU-T T.81 table B.1): baseline, extended, progressive, lossless, and
# their hierarchical and arithmetic-coded variants. 0xC4, 0xC8 and 0xCC are other segments.
JPEG_START_OF_FRAME = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the IHDR chunk, which the PNG specification requires to come first."""
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def jpeg_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the first start-of-frame segment."""
    if not data.startswith(b"\xff\xd8"):
        return None
    index = 2
    while index + 9 < len(data):
        if data[index] != 0xFF:
            return None
        marker = data[index + 1]
        if marker == 0xFF:  # fill byte before a marker
            index += 1
            continue
        length = struct.unpack(">H", data[index + 2 : index + 4])[0]
        if marker in JPEG_START_OF_FRAME:
            height, width = struct.unpack(">HH", data[index + 5 : index + 9])
            return width, height
        if length < 2:
            return None
        index += 2 + length
    return None
