"""The one CSV reader and writer of the portal (CSV 导入导出).

Every CSV the portal reads (bulk filing, the employee import, the contribution table) goes through
`read_csv`, and every CSV it produces (the per-row report of a rejected upload, the bulk-filing template,
the agency queue export) through `write_csv` or `stream_csv`, so that encodings, limits, messages and the
formula-injection guard are written once. (A little over 400 lines on purpose: splitting the reader from
the writer would give the guard and the report two homes again.)

Reading
- Encodings, as Excel saves a sheet in China: a byte order mark decides first (UTF-8; UTF-16, which
  Excel's "Unicode text" writes, tab-separated); without one, strict UTF-8, then GB18030 (a superset of
  GBK and GB2312: Excel's plain "CSV (comma delimited)" on a Chinese Windows). UTF-8 is tried first
  because Chinese text in GBK is practically never valid UTF-8, while almost any bytes decode as GB18030.
- Not text: for the same reason a failed decoding does not catch every binary file. An Excel workbook
  (.xlsx, .xls) is recognised by its signature, and a NUL or another control character marks anything
  else that is not text.
- Sizes: the file (max_bytes), the data rows (max_rows), one value (max_field_chars) and one record
  (MAX_RECORD_CHARS). csv.field_size_limit() is one setting for the whole process, so the reader does not
  depend on it: it hands the csv module at most MAX_RECORD_CHARS characters per record, well below the
  module's default limit, and measures each value itself. A csv.Error never leaves this module.
- Every problem is a CsvError: the row as a spreadsheet numbers it (None for the whole file), the column
  (empty when the problem is not one column's) and the message in the user's language.

Writing
- UTF-8 with a byte order mark (so that Excel shows the Chinese), CRLF line ends, minimal quoting (a value
  holding a comma, a quotation mark or a line break is quoted, so it cannot spill into other cells), and
  every cell through `safe_cell`, the one formula-injection guard.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000
# The longest value any of our columns takes is a name of 60 characters; 1,000 leaves room for whatever a
# spreadsheet adds and still refuses pasted documents.
MAX_FIELD_CHARS = 1000
# Far below csv's own default field limit (131,072), so that the module never meets a field it refuses.
MAX_RECORD_CHARS = 20_000
BOM = "\ufeff"

# Signatures of the files an HR officer most likely sends instead of a CSV: the workbook itself.
WORKBOOK_SIGNATURES = (
    b"PK\x03\x04",  # .xlsx (a ZIP archive)
    b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",  # .xls (an OLE2 compound file)
)
# C0 control characters other than tab, line feed and carriage return, and DEL: no spreadsheet writes
# them into a CSV file.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class CsvError:
    """One problem of an uploaded CSV file: the row as a spreadsheet numbers it (the header is row 1;
    None for the whole file), the column (empty when the problem is not one column's), and the problem in
    the user's language."""

    row: int | None
    column: str
    message: str

    def as_dict(self):
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class CsvRows:
    """What `read_csv` found: the data rows as (row number, {column: stripped value}), blank rows left
    out but counted; the columns read, in the order of the header row; the problems (a file with problems
    has no rows); and the encoding it was read in."""

    rows: list[tuple[int, dict]] = field(default_factory=list)
    columns: tuple[str, ...] = ()
    errors: list[CsvError] = field(default_factory=list)
    encoding: str = ""


def file_error(message):
    return [CsvError(None, "", str(message))]


def _size(max_bytes):
    if max_bytes >= 1024 * 1024:
        return f"{max_bytes / 1024 / 1024:g} MB"
    return f"{max_bytes / 1024:g} KB"


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def _not_in_a_known_encoding(row):
    return CsvError(
        row,
        "",
        _(
            "The file is not text in UTF-8 or GB18030 (GBK). In Excel, save it as “CSV UTF-8 (comma "
            "delimited)” (CSV UTF-8（逗号分隔）)."
        ),
    )


def decode(data: bytes) -> tuple[str, str, CsvError | None]:
    """(text, encoding, None), or ("", "", the problem) for a file that is not text in an encoding we
    read. The text has no byte order mark."""
    if data.startswith(WORKBOOK_SIGNATURES):
        message = _(
            "This is an Excel workbook, not a CSV file. In Excel, choose “Save As” and the type “CSV UTF-8 "
            "(comma delimited)” (CSV UTF-8（逗号分隔）)."
        )
        return "", "", CsvError(None, "", message)
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if data.startswith(bom):
            try:
                text = data[len(bom) :].decode(encoding)
            except UnicodeDecodeError as error:
                # UTF-16 counts in pairs of bytes, so the line of a bad byte is not worth guessing.
                row = _line_of(data, error.start + len(bom)) if encoding == "utf-8" else None
                return "", "", _not_in_a_known_encoding(row)
            return text.lstrip(BOM), encoding, None
    if b"\x00" in data:
        # UTF-16 without a byte order mark ends here too: Excel always writes the mark.
        return "", "", CsvError(None, "", _("This is not a CSV text file."))
    try:
        return data.decode("utf-8"), "utf-8", None
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030").lstrip(BOM), "gb18030", None
        except UnicodeDecodeError as gb_error:
            # The encoding that read further is the one the file was meant to be in; the line where it
            # stopped is the line to look at.
            return "", "", _not_in_a_known_encoding(_line_of(data, max(utf8_error.start, gb_error.start)))


class _RecordTooLong(Exception):
    pass


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | None, CsvError | None]]:
    """(row number, values, None) for each record, blank ones included, or at the first record that
    cannot be read (row number, None, the problem), after which nothing more is read."""
    pending = [0]  # characters handed to the csv module since the last complete record

    def lines():
        for line in io.StringIO(text, newline=""):
            pending[0] += len(line)
            if pending[0] > MAX_RECORD_CHARS:
                raise _RecordTooLong
            yield line

    # strict: a quotation mark left open, or text after a closing one, is reported instead of swallowing
    # the rest of the file into one value.
    reader = csv.reader(lines(), delimiter=delimiter, strict=True)
    number = 0
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except (_RecordTooLong, csv.Error) as error:
            # csv.Error: a quotation mark left open or followed by text, or whatever the process-wide
            # field size limit is now; the rest of the file is not read.
            too_long = isinstance(error, _RecordTooLong) or "field limit" in str(error)
            message = (
                _("A value in this row is far too long, or a quotation mark is not closed.")
                if too_long
                else _("This row cannot be read as CSV; check its quotation marks.")
            )
            yield number + 1, None, CsvError(number + 1, "", message)
            return
        number += 1
        pending[0] = 0
        yield number, record, None


def _column_name(name):
    return name.replace(BOM, "").strip().lower()


def _shown(name, limit=40):
    """A column name as a problem quotes it: a header cell can hold anything."""
    return name if len(name) <= limit else name[:limit] + "…"


def _header_problems(row, columns, required, optional, unknown_columns):
    named = [name for name in columns if name]
    listed = ", ".join((*required, *optional))
    errors = []
    missing = [name for name in required if name not in named]
    if missing:
        errors.append(
            CsvError(
                row,
                ", ".join(missing),
                _("These columns are missing from the header row. The columns are: %(columns)s.")
                % {"columns": listed},
            )
        )
    if unknown_columns == "refuse":
        unknown = [_shown(name) for name in named if name not in required and name not in optional]
        if unknown:
            errors.append(
                CsvError(
                    row,
                    ", ".join(unknown),
                    _("Unknown columns. The columns are: %(columns)s.") % {"columns": listed},
                )
            )
    repeated = sorted({_shown(name) for name in named if named.count(name) > 1})
    if repeated:
        errors.append(CsvError(row, ", ".join(repeated), _("These columns appear more than once.")))
    return errors


def read_csv(
    upload,
    required: Iterable[str],
    optional: Iterable[str] = (),
    *,
    unknown_columns: str = "refuse",
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_BYTES,
    max_field_chars: int = MAX_FIELD_CHARS,
) -> CsvRows:
    """Read an uploaded CSV file (an UploadedFile or bytes): a header row naming the columns (any order,
    any case), then data rows. Blank rows are skipped but still counted, so that row numbers are those a
    spreadsheet shows. `unknown_columns` is "refuse" (a column we do not read is reported: it is most
    likely a misspelt one) or "ignore" (for tables exported from other systems with extra columns)."""
    required, optional = tuple(required), tuple(optional)
    result = CsvRows()
    too_large = file_error(_("The file is larger than %(size)s.") % {"size": _size(max_bytes)})
    if isinstance(upload, bytes | bytearray):
        data = bytes(upload[: max_bytes + 1])
    else:
        if getattr(upload, "size", None) is not None and upload.size > max_bytes:
            result.errors = too_large
            return result
        data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        result.errors = too_large
        return result
    if not data.strip().lstrip(codecs.BOM_UTF8).strip():
        result.errors = file_error(_("The file is empty."))
        return result
    text, result.encoding, problem = decode(data)
    if problem is not None:
        result.errors = [problem]
        return result
    text = text.rstrip("\x1a")  # the end-of-file mark old DOS programs append
    control = CONTROL.search(text)
    if control is not None:
        result.errors = [
            CsvError(text.count("\n", 0, control.start()) + 1, "", _("This is not a CSV text file."))
        ]
        return result
    if not text.strip():
        result.errors = file_error(_("The file is empty."))
        return result

    # Excel's "Unicode text" separates the cells with tabs; everything else we read with commas.
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","

    records = _records(text, delimiter)
    header = None
    for number, record, problem in records:
        if problem is not None:
            result.errors = [problem]
            return result
        if any(value.strip() for value in record):
            header_row, header = number, record
            break
    if header is None:
        result.errors = file_error(_("The file is empty."))
        return result
    columns = [_column_name(name) for name in header]
    if len(columns) == 1 and "，" in columns[0]:
        # Typed with a Chinese input method: the columns are separated by full-width commas.
        message = _(
            "The header row is separated by full-width commas (，); a CSV file separates its columns with "
            "ASCII commas (,)."
        )
        result.errors = [CsvError(header_row, "", message)]
        return result
    errors = _header_problems(header_row, columns, required, optional, unknown_columns)
    if errors:
        result.errors = errors
        return result
    # The values a row must have: up to the last named column (a spreadsheet may add empty header cells).
    needed = max((i + 1 for i, name in enumerate(columns) if name), default=0)

    wanted = set(required) | set(optional)
    rows = []
    for number, record, problem in records:
        if problem is not None:
            errors.append(problem)
            break
        if not any(value.strip() for value in record):
            continue  # a blank row (spreadsheets often leave some at the end)
        if len(record) > len(columns) and any(value.strip() for value in record[len(columns) :]):
            errors.append(CsvError(number, "", _("This row has more values than the header has columns.")))
            continue
        if len(record) < needed:
            errors.append(
                CsvError(
                    number,
                    "",
                    _(
                        "This row has fewer values than the header has columns: a comma may be missing, or a "
                        "quotation mark not closed."
                    ),
                )
            )
            continue
        values = {}
        for name, value in zip(columns, record, strict=False):
            if name not in wanted:
                continue  # an unnamed column, or one of those ignored
            value = value.strip()
            if len(value) > max_field_chars:
                errors.append(
                    CsvError(
                        number,
                        name,
                        _("This value is longer than %(max)s characters.") % {"max": f"{max_field_chars:,}"},
                    )
                )
            values[name] = value
        rows.append((number, values))
    if errors:
        result.errors = errors
        return result
    if not rows:
        result.errors = file_error(_("The file has a header row but no data rows."))
        return result
    if len(rows) > max_rows:
        result.errors = file_error(
            _("The file has %(count)d rows; at most %(max)d rows can be sent in one file.")
            % {"count": len(rows), "max": max_rows}
        )
        return result
    result.rows, result.columns = rows, tuple(name for name in columns if name in wanted)
    return result


# Writing

# The first characters with which a spreadsheet takes a cell for a formula (CSV injection, OWASP's list):
# = + - @, tab and carriage return (some spreadsheets skip them before a formula), and line feed for the
# same reason; also their full-width forms (＝ ＋ － ＠), which a Chinese input method types and some
# spreadsheets read as the ASCII ones.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
# Spaces a spreadsheet may skip before a formula: the cell is judged by what follows them.
LEADING_SPACES = " \u3000\xa0"
# A plain number, negative or with a sign: a spreadsheet reads it as a number, never as a formula.
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]+)?")


def safe_cell(value) -> str:
    """A cell a spreadsheet will not run: text that starts like a formula, after any leading spaces, gets
    a leading apostrophe, which spreadsheets show as text and never run. A plain number ("-120.50",
    "+86") is left as it is, so that a negative amount is still a number one can add up; "-1+2" or "-A1"
    is not a plain number and is neutralised."""
    text = "" if value is None else str(value)
    if text.startswith(("\t", "\r", "\n")):
        return "'" + text
    bare = text.lstrip(LEADING_SPACES)
    if bare.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(bare):
        return "'" + text
    return text


class _Line:
    def write(self, value):
        return value


def _writer():
    return csv.writer(_Line(), lineterminator="\r\n")


def stream_csv(header, rows: Iterable[Iterable]) -> Iterator[str]:
    """The lines of a CSV file, one at a time (for a StreamingHttpResponse): the byte order mark, the
    header, then the rows, every cell through safe_cell."""
    writer = _writer()
    yield BOM + writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def write_csv(header, rows: Iterable[Iterable] = ()) -> str:
    """A whole CSV file as text, as `stream_csv` writes it."""
    return "".join(stream_csv(header, rows))


# The per-row report of a rejected upload (bulk filing, employee import)


def report_header():
    return [_("Row"), _("Column"), _("Status"), _("Problem")]


def report_csv(problems) -> str:
    """The per-row report of an upload: row, column, status and message, one line per problem (CsvError
    or its as_dict(), as a rejected bulk filing keeps it). The row is empty for a problem of the file."""
    status = _("error")
    lines = []
    for problem in problems:
        if isinstance(problem, dict):
            row, column, message = problem["row"], problem["column"], problem["message"]
        else:
            row, column, message = problem.row, problem.column, problem.message
        lines.append(("" if row is None else row, column, status, message))
    return write_csv(report_header(), lines)
