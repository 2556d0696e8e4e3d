"""Files the journeys upload, and reading a downloaded PDF."""

import csv
import io
import struct
import zlib

from pypdf import PdfReader

CONTRIBUTION_COLUMNS = (
    "region_code",
    "year",
    "start_month",
    "end_month",
    "monthly_base",
    "employer_rate",
    "credited_rate",
    "individual_rate",
    "credited_amount",
    "interest",
    "year_end_balance",
)
# Jiujiang, 2015 to June 2017: 162,000 yuan of contribution wages, 350.00 interest.
CONTRIBUTION_ROWS = [
    ("360400", "2015", "1", "12", "5000.00", "0.16", "0.08", "0.08", "4800.00", "100.00", "4900.00"),
    ("360400", "2016", "1", "12", "5500", "0.16", "0.08", "0.08", "5280", "200", "10380"),
    ("360400", "2017", "1", "6", "6000", "0.16", "0.08", "0.08", "2880", "50", "13310"),
]


def csv_bytes(header, rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def contribution_csv() -> bytes:
    return csv_bytes(CONTRIBUTION_COLUMNS, CONTRIBUTION_ROWS)


def small_png(width=16, height=10) -> bytes:
    """A valid greyscale PNG (a scan of an ID card, as far as the portal can tell)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes((x * 16) % 256 for x in range(width)) for _y in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
