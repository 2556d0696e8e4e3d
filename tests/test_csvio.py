"""The one CSV reader and writer (applications/csvio.py): files as Excel saves them in China, files an
attacker or a careless HR officer sends, and cells a spreadsheet must never run."""

import codecs
import csv
import io
import random
import sys
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from applications import csvio
from applications.csvio import CsvError, read_csv, report_csv, safe_cell, stream_csv, write_csv

REQUIRED = ("name", "document_number")
OPTIONAL = ("phone",)
ROWS = [("王芳", "330106199001020011", "13900000011"), ("欧阳娜娜", "330106199102030012", "")]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def text_of(rows, header=("name", "document_number", "phone"), delimiter=","):
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")  # CRLF, as Excel writes
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def read(data, **options):
    return read_csv(data, REQUIRED, OPTIONAL, **options)


def values(result):
    return [(number, row["name"], row["document_number"], row.get("phone")) for number, row in result.rows]


EXPECTED = [(2, *ROWS[0]), (3, *ROWS[1])]


# --- encodings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (text_of(ROWS).encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + text_of(ROWS).encode("utf-8"), "utf-8"),  # "CSV UTF-8 (comma delimited)"
        (text_of(ROWS).encode("gbk"), "gb18030"),  # plain "CSV (comma delimited)" on a Chinese Windows
        (text_of(ROWS).encode("gb18030"), "gb18030"),
        # "Unicode text": UTF-16 little-endian with a byte order mark, tab-separated.
        (codecs.BOM_UTF16_LE + text_of(ROWS, delimiter="\t").encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF16_BE + text_of(ROWS, delimiter="\t").encode("utf-16-be"), "utf-16-be"),
    ],
    ids=["utf-8", "utf-8-bom", "gbk", "gb18030", "utf-16-le-tabs", "utf-16-be-tabs"],
)
def test_the_encodings_excel_saves_in_china_are_read_alike(data, encoding):
    result = read(data)
    assert result.errors == []
    assert result.encoding == encoding
    assert values(result) == EXPECTED
    assert result.columns == ("name", "document_number", "phone")


def test_characters_only_gb18030_has_are_read():
    """Rare name characters (here 䶮 and 𠀀, four bytes in GB18030) are not in GBK; Excel may still
    write them when the system code page is GB18030."""
    rows = [("刘䶮", "330106199001020011", ""), ("张𠀀", "330106199102030012", "")]
    assert [row["name"] for _n, row in read(text_of(rows).encode("gb18030")).rows] == ["刘䶮", "张𠀀"]


def test_a_byte_order_mark_is_not_part_of_the_first_column_name():
    result = read(codecs.BOM_UTF8 + text_of(ROWS).encode("utf-8"))
    assert result.columns[0] == "name"


def test_a_file_in_no_known_encoding_names_the_line_to_look_at():
    data = text_of(ROWS).encode("utf-8") + b"\xff\xfe\xff,1\r\n"
    assert read(data).errors == [
        CsvError(
            4,
            "",
            "The file is not text in UTF-8 or GB18030 (GBK). In Excel, save it as “CSV UTF-8 (comma "
            "delimited)” (CSV UTF-8（逗号分隔）).",
        )
    ]


def test_a_file_that_says_utf_8_but_is_not_is_refused():
    data = codecs.BOM_UTF8 + text_of(ROWS).encode("gbk")
    ((error,),) = [read(data).errors]
    assert error.row == 2 and error.message.startswith("The file is not text in UTF-8 or GB18030")


# --- not a CSV file at all -------------------------------------------------------------------------------


def xlsx_bytes():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as workbook:
        workbook.writestr("[Content_Types].xml", "<Types/>")
        workbook.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return out.getvalue()


WORKBOOK = (
    "This is an Excel workbook, not a CSV file. In Excel, choose “Save As” and the type “CSV UTF-8 (comma "
    "delimited)” (CSV UTF-8（逗号分隔）)."
)


@pytest.mark.parametrize(
    "data",
    [xlsx_bytes(), b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)],
    ids=["xlsx", "xls"],
)
def test_an_excel_workbook_is_told_apart(data):
    assert read(data).errors == [CsvError(None, "", WORKBOOK)]


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Length 5 >>\nstream\n\x01\x02\x03\x04\x05",
        random.Random(9).randbytes(4096),
        text_of(ROWS).encode("utf-16-le"),  # UTF-16 without its byte order mark
        b"name,document_number\r\n\x00\x00\x00\r\n",
    ],
    ids=["png", "pdf", "random-bytes", "utf-16-without-bom", "nul-bytes"],
)
def test_a_file_that_is_not_text_is_refused_as_such(data):
    (error,) = read(data).errors
    assert error.column == "" and error.message == "This is not a CSV text file."


def test_a_control_character_in_text_marks_it_as_not_text_at_its_row():
    data = text_of([*ROWS, ("赵\x1b[2J", "330106199001020011", "")]).encode("utf-8")
    assert read(data).errors == [CsvError(4, "", "This is not a CSV text file.")]


def test_the_end_of_file_mark_of_old_programs_is_tolerated():
    assert values(read(text_of(ROWS).encode("gbk") + b"\x1a")) == EXPECTED


# --- the shape of the file -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data", [b"", b"   \r\n\r\n", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, b",,\r\n,,\r\n"], ids=repr
)
def test_an_empty_file(data):
    assert read(data).errors == [CsvError(None, "", "The file is empty.")]


def test_a_header_without_rows():
    data = codecs.BOM_UTF8 + b"name,document_number,phone\r\n\r\n,,\r\n"
    assert read(data).errors == [CsvError(None, "", "The file has a header row but no data rows.")]


def test_blank_rows_are_skipped_but_counted_as_a_spreadsheet_numbers_them():
    data = ("\r\n" + text_of(ROWS[:1]) + ",,\r\n\r\n" + "钱一,330106199001020011,\r\n").encode("utf-8")
    result = read(data)
    assert [number for number, _row in result.rows] == [3, 6]


def test_a_value_on_several_lines_is_one_row():
    data = text_of([("王\r\n芳", "330106199001020011", ""), ROWS[1]]).encode("utf-8")
    assert [(number, row["name"]) for number, row in read(data).rows] == [(2, "王\r\n芳"), (3, "欧阳娜娜")]


def test_header_names_are_read_in_any_case_and_order_and_values_are_stripped():
    data = " Phone ,DOCUMENT_NUMBER,Name\r\n  13900000011 ,330106199001020011,\u3000王芳 \r\n".encode()
    assert read(data).rows == [
        (2, {"phone": "13900000011", "document_number": "330106199001020011", "name": "王芳"})
    ]


@pytest.mark.parametrize(
    ("header", "column", "message"),
    [
        (
            "name,phone",
            "document_number",
            "These columns are missing from the header row. The columns are: name, document_number, phone.",
        ),
        (
            "name,document_number,remark",
            "remark",
            "Unknown columns. The columns are: name, document_number, phone.",
        ),
        ("name,document_number,Name ", "name", "These columns appear more than once."),
    ],
)
def test_header_problems(header, column, message):
    data = (header + "\r\n王芳,330106199001020011,x\r\n").encode()
    assert read(data).errors == [CsvError(1, column, message)]


def test_a_header_typed_with_full_width_commas_is_told_apart():
    data = "name，document_number\r\n王芳，330106199001020011\r\n".encode()
    assert read(data).errors == [
        CsvError(
            1,
            "",
            "The header row is separated by full-width commas (，); a CSV file separates its columns with "
            "ASCII commas (,).",
        )
    ]
    with translation.override("zh-hans"):
        assert (
            read(data).errors[0].message
            == "标题行使用了全角逗号（，）分隔；CSV文件须用半角逗号（,）分隔各列。"
        )


def test_a_tab_separated_file_with_blank_lines_first():
    data = ("\r\n" + text_of(ROWS, delimiter="\t")).encode("utf-8")
    assert [number for number, _row in read(data).rows] == [3, 4]


def test_unknown_columns_may_be_ignored():
    data = "name,document_number,place\r\n王芳,330106199001020011,九江市\r\n".encode()
    assert read(data, unknown_columns="ignore").rows == [
        (2, {"name": "王芳", "document_number": "330106199001020011"})
    ]


def test_a_column_name_quoted_in_a_problem_is_cut_short():
    data = ("name,document_number," + "x" * 500 + "\r\n").encode()
    (error,) = read(data).errors
    assert error.column == "x" * 40 + "…"


def test_a_row_with_too_many_values():
    data = (text_of(ROWS) + "钱一,330106199001020011,,surplus\r\n").encode()
    assert read(data).errors == [CsvError(4, "", "This row has more values than the header has columns.")]


def test_empty_values_past_the_header_are_tolerated():
    assert values(read((text_of(ROWS[:1]) + "钱一,330106199001020011,,,\r\n").encode()))[1][1] == "钱一"


def test_a_row_with_too_few_values_is_not_shifted_into_other_columns():
    data = (text_of(ROWS) + "钱一 330106199001020011\r\n").encode()  # a missing comma
    assert read(data).errors == [
        CsvError(
            4,
            "",
            "This row has fewer values than the header has columns: a comma may be missing, or a quotation "
            "mark not closed.",
        )
    ]


@pytest.mark.parametrize(
    "line",
    ['"钱一,330106199001020011,\r\n', '"钱一"x,330106199001020011,\r\n', '"钱一" ,330106199001020011,\r\n'],
    ids=["never-closed", "text-after-the-closing-quote", "space-after-the-closing-quote"],
)
def test_a_misplaced_quotation_mark_is_reported_at_its_row(line):
    data = (text_of(ROWS) + line + "钱二,330106199102030012,\r\n").encode()
    assert read(data).errors == [
        CsvError(4, "", "This row cannot be read as CSV; check its quotation marks.")
    ]


# --- sizes ---------------------------------------------------------------------------------------------

TOO_LONG = "A value in this row is far too long, or a quotation mark is not closed."


def test_a_value_over_the_limit_names_its_row_and_column():
    data = text_of([ROWS[0], ("钱一", "330106199001020011", "1" * 1001)]).encode()
    assert read(data).errors == [CsvError(3, "phone", "This value is longer than 1,000 characters.")]
    assert read(data, max_field_chars=2000).errors == []


@pytest.mark.parametrize("quoted", [False, True])
def test_a_200_kb_value_is_a_row_error_not_a_csv_error(quoted):
    value = "9" * 200_000
    line = f'钱一,"{value}",\r\n' if quoted else f"钱一,{value},\r\n"
    data = (text_of(ROWS) + line).encode()
    assert read(data).errors == [CsvError(4, "", TOO_LONG)]


def test_a_quotation_mark_left_open_over_many_short_lines_is_stopped():
    data = (text_of(ROWS) + '钱一,"330106199001020011\r\n' + "短行,1,2\r\n" * 5000).encode()
    assert read(data).errors == [CsvError(4, "", TOO_LONG)]


@pytest.mark.parametrize("limit", [100, sys.maxsize])
def test_the_process_wide_csv_field_limit_does_not_change_the_answer(limit):
    """csv.field_size_limit() is one setting for the whole process: whatever other code set it to, the
    reader answers with a CsvError, never a csv.Error."""
    before = csv.field_size_limit()
    try:
        csv.field_size_limit(limit)
        long_value = read((text_of(ROWS) + "钱一,330106199001020011," + "1" * 5000 + "\r\n").encode())
        huge_value = read((text_of(ROWS) + "钱一,330106199001020011," + "1" * 200_000 + "\r\n").encode())
    finally:
        csv.field_size_limit(before)
    assert long_value.errors in (
        [CsvError(4, "phone", "This value is longer than 1,000 characters.")],
        [CsvError(4, "", TOO_LONG)],
    )
    assert huge_value.errors == [CsvError(4, "", TOO_LONG)]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    class Upload(io.BytesIO):
        size = 3 * 1024 * 1024

        def read(self, *args):
            raise AssertionError("a file larger than the limit is not read")

    assert read(Upload()).errors == [CsvError(None, "", "The file is larger than 2 MB.")]
    data = text_of(ROWS * 20).encode()
    assert len(data) > 1024
    assert read(data, max_bytes=1024).errors == [CsvError(None, "", "The file is larger than 1 KB.")]
    assert read(data + b" " * 600_000, max_bytes=512 * 1024).errors == [
        CsvError(None, "", "The file is larger than 512 KB.")
    ]


def test_more_rows_than_allowed():
    assert read(text_of(ROWS * 3).encode(), max_rows=5).errors == [
        CsvError(None, "", "The file has 6 rows; at most 5 rows can be sent in one file.")
    ]


def test_an_uploaded_file_is_read_like_bytes():
    upload = SimpleUploadedFile("employees.csv", text_of(ROWS).encode("gbk"), content_type="text/csv")
    assert values(read(upload)) == EXPECTED


def test_problems_are_in_chinese_by_default():
    with translation.override("zh-hans"):
        assert read(b"").errors[0].message == "文件为空。"
        assert read(xlsx_bytes()).errors[0].message == (
            "这是Excel工作簿，不是CSV文件。请在Excel中选择“另存为”，文件类型选“CSV UTF-8（逗号分隔）”。"
        )
        assert read((text_of(ROWS) + "钱一," + "9" * 200_000 + ",\r\n").encode()).errors == [
            CsvError(4, "", "该行中有值过长，或有引号未闭合。")
        ]
        assert read(b"name,document_number\r\n\xff\xff\r\n").errors[0].message == (
            "文件不是UTF-8或GB18030（GBK）编码的文本。请在Excel中将其另存为“CSV UTF-8（逗号分隔）”格式。"
        )


# --- writing: the formula-injection guard --------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        '=HYPERLINK("http://evil.example","点击")',
        "+86 138 0013 8000",
        "+1+1",
        "-2+3",
        "-A1",
        "-",
        "@SUM(A1)",
        "\t=cmd|' /C calc'!A0",
        "\r=cmd",
        "\n=1+1",
        " =1+1",  # some spreadsheets skip leading spaces before a formula
        "\u3000=1+1",  # the ideographic space a Chinese input method types
        "＝1+1",  # full-width forms
        "＋1",
        "－1",
        "＠SUM(A1)",
    ],
    ids=repr,
)
def test_cells_that_a_spreadsheet_could_run_get_a_leading_apostrophe(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    [
        "张伟",
        "欧阳娜娜",
        "YL2026",
        "1+1",
        "a=b",
        "email@example.com",
        " 张伟",
        "",
        "2026-01-05",
        # Decision: a plain number keeps its sign, so that a negative amount is still a number one can add
        # up; a spreadsheet reads it as a number, never as a formula.
        "-2",
        "-120.50",
        "-1,234.50",
        "+86",
        "0",
    ],
    ids=repr,
)
def test_other_cells_are_left_as_they_are(value):
    assert safe_cell(value) == value


def test_cells_that_are_not_text():
    from decimal import Decimal

    assert [safe_cell(v) for v in (None, 42, Decimal("-12.50"), -3)] == ["", "42", "-12.50", "-3"]


def test_the_written_file_is_utf_8_with_a_bom_and_crlf_and_a_value_cannot_spill_into_other_cells():
    text = write_csv(["姓名", "备注"], [["王芳", 'a,b "c"\r\n=1+1'], ["-2", "@x"]])
    assert text.startswith("\ufeff")
    assert text.endswith("\r\n") and "\r\n" in text
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))) == [
        ["姓名", "备注"],
        ["王芳", 'a,b "c"\r\n=1+1'],
        ["-2", "'@x"],
    ]


def test_the_header_is_guarded_too():
    assert write_csv(["=cmd"]).removeprefix("\ufeff") == "'=cmd\r\n"


def test_streaming_writes_one_row_at_a_time():
    def rows():
        yield ("王芳", "1")
        raise AssertionError("the second row is asked for only when the first is sent")

    lines = stream_csv(["name", "n"], rows())
    assert next(lines) == "\ufeffname,n\r\n"
    assert next(lines) == "王芳,1\r\n"


def test_the_csv_written_is_read_back_by_the_reader():
    text = write_csv(["name", "document_number", "phone"], ROWS)
    assert values(read(text.encode("utf-8"))) == EXPECTED


# --- the per-row report --------------------------------------------------------------------------------


def report_lines(text):
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_the_report_has_row_column_status_and_problem_for_every_problem():
    problems = [
        CsvError(None, "", "The file is empty."),
        CsvError(4, "scheme", "Enter pension, medical or both."),
        {"row": 5, "column": "", "message": "-2"},  # as a rejected batch keeps it
    ]
    assert report_lines(report_csv(problems)) == [
        ["Row", "Column", "Status", "Problem"],
        ["", "", "error", "The file is empty."],
        ["4", "scheme", "error", "Enter pension, medical or both."],
        ["5", "", "error", "-2"],
    ]


def test_the_report_is_in_chinese_by_default():
    with translation.override("zh-hans"):
        lines = report_lines(report_csv([CsvError(2, "name", "x")]))
    assert lines == [["行", "列", "状态", "问题"], ["2", "name", "错误", "x"]]


def test_report_cells_cannot_run():
    lines = report_lines(report_csv([CsvError(2, "=cmd|'/C calc'!A0", "+1+1"), CsvError(3, "\t@x", "-A1")]))
    assert lines[1:] == [["2", "'=cmd|'/C calc'!A0", "error", "'+1+1"], ["3", "'\t@x", "error", "'-A1"]]


def test_the_module_is_the_only_user_of_the_csv_module():
    from pathlib import Path

    root = Path(csvio.__file__).resolve().parent.parent
    users = sorted(
        str(path.relative_to(root))
        for folder in ("applications", "agencies")
        for path in (root / folder).rglob("*.py")
        if any(
            call in path.read_text(encoding="utf-8")
            for call in ("csv.reader", "csv.DictReader", "csv.writer")
        )
    )
    # agencies/reference.py reads the bundled regions file: the reference data may not import from
    # applications, so it keeps its own csv.DictReader of a file we ship.
    assert users == ["agencies/reference.py", "applications/csvio.py"]
