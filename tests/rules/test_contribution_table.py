"""The yearly contribution table: per-row errors, CSV reading, the transfer-out clerk's page (all rows or
none), the amounts computed from it on the case page, and the enter_amounts step held to them."""

import html
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from agencies.models import AgencyStaff, Region
from applications.cases import services
from applications.cases.contributions import COLUMNS, MAX_ROWS, read_csv, validate_rows
from applications.csvio import CsvError
from applications.models import CaseEvent, ContributionYear
from tests.factories import AgencyStaffFactory
from tests.rules.conftest import agency, contact_letter_sent, csv_bytes, draft, upload, user
from tests.world import login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]

GOOD = {
    "region_code": "360400",
    "year": "2015",
    "start_month": "1",
    "end_month": "12",
    "monthly_base": "5000.00",
    "employer_rate": "0.16",
    "credited_rate": "0.08",
    "individual_rate": "0.08",
    "credited_amount": "4800.00",
    "interest": "100.00",
    "year_end_balance": "4900.00",
}
# The worked example of domain.md at Jiujiang, with interest: personal account 8% × 162,000 + 350.00.
TABLE = [
    GOOD,
    {
        **GOOD,
        "year": "2016",
        "monthly_base": "5500",
        "credited_amount": "5280",
        "interest": "200",
        "year_end_balance": "10380",
    },
    {
        **GOOD,
        "year": "2017",
        "end_month": "6",
        "monthly_base": "6000",
        "credited_amount": "2880",
        "interest": "50",
        "year_end_balance": "13310",
    },
]
PERSONAL, POOLED, TOTAL = Decimal("13310.00"), Decimal("19440.00"), Decimal("32750.00")


def english_errors(raw_rows, first_row=1):
    with translation.override("en"):
        return validate_rows(raw_rows, first_row)


@pytest.mark.parametrize(
    ("change", "column", "message"),
    [
        ({"region_code": "999999"}, "region_code", "Unknown division code."),
        ({"end_month": "13"}, "end_month", "A month is 1 to 12."),
        ({"start_month": "0"}, "start_month", "A month is 1 to 12."),
        ({"start_month": "7", "end_month": "3"}, "end_month", "The end month is before the start month."),
        (
            {"monthly_base": "-5000"},
            "monthly_base",
            "Enter an amount in yuan, not negative, with at most two decimals.",
        ),
        (
            {"monthly_base": "5000.001"},
            "monthly_base",
            "Enter an amount in yuan, not negative, with at most two decimals.",
        ),
        (
            {"interest": "abc"},
            "interest",
            "Enter an amount in yuan, not negative, with at most two decimals.",
        ),
        ({"individual_rate": "8"}, "individual_rate", "Enter a rate between 0 and 1, e.g. 0.08 for 8%."),
        ({"employer_rate": "-0.16"}, "employer_rate", "Enter a rate between 0 and 1, e.g. 0.08 for 8%."),
        ({"credited_rate": "8%"}, "credited_rate", "Enter a rate between 0 and 1, e.g. 0.08 for 8%."),
        ({"year": "二〇一五"}, "year", "Enter a whole number."),
        ({"year": "15"}, "year", "The year is out of range."),
        ({"start_month": ""}, "start_month", "Enter a whole number."),
    ],
)
def test_a_bad_value_gets_its_row_column_and_message(change, column, message):
    rows, errors = english_errors([GOOD, {**GOOD, **change}, GOOD], first_row=2)
    assert errors == [CsvError(3, column, message)]


def test_every_problem_of_every_row_is_reported():
    raw = [
        {**GOOD, "region_code": "999999", "individual_rate": "8"},
        GOOD,
        {**GOOD, "end_month": "13", "monthly_base": "x"},
    ]
    _rows, errors = english_errors(raw, first_row=2)
    assert [(e.row, e.column) for e in errors] == [
        (2, "region_code"),
        (2, "individual_rate"),
        (4, "end_month"),
        (4, "monthly_base"),
    ]


def test_good_rows_are_cleaned_with_their_place_and_months():
    rows, errors = english_errors(TABLE)
    assert errors == []
    assert rows[2]["months"] == 6
    assert rows[0]["monthly_base"] == Decimal("5000.00")
    assert rows[0]["individual_rate"] == Decimal("0.08")
    assert "九江" in rows[0]["place"]


def test_a_retired_division_code_still_resolves():
    """Old vouchers carry codes that no longer exist (邯郸地区, retired in 1993)."""
    retired = Region.objects.get(code="132100")
    assert not retired.current
    rows, errors = english_errors([{**GOOD, "region_code": "132100", "year": "1992"}])
    assert errors == []
    assert "邯郸地区" in rows[0]["place"]


def test_an_empty_or_oversized_table_is_refused():
    assert english_errors([])[1] == [CsvError(1, "", "The table has no rows.")]
    assert english_errors([GOOD] * (MAX_ROWS + 1))[1] == [CsvError(1, "", f"At most {MAX_ROWS} rows.")]


def test_read_csv_reports_missing_columns():
    columns = [c for c in COLUMNS if c not in ("interest", "year_end_balance")]
    with translation.override("en"):
        raw, errors = read_csv(csv_bytes(TABLE, columns))
    assert raw == []
    assert errors == [
        CsvError(
            1,
            "interest, year_end_balance",
            f"These columns are missing from the header row. The columns are: {', '.join(COLUMNS)}.",
        )
    ]


def test_read_csv_reads_a_table_excel_saved_as_gbk():
    # A spreadsheet saved as GBK, with a Chinese place name where the code should be.
    data = csv_bytes([GOOD, {**GOOD, "region_code": "九江"}], encoding="gbk")
    numbered, errors = read_csv(data)
    assert errors == []
    assert [values["region_code"] for _number, values in numbered] == ["360400", "九江"]


def test_read_csv_accepts_a_byte_order_mark():
    numbered, errors = read_csv(b"\xef\xbb\xbf" + csv_bytes(TABLE))
    assert errors == []
    assert [values["year"] for _number, values in numbered] == ["2015", "2016", "2017"]
    assert validate_rows([values for _number, values in numbered], 2)[1] == []


# Through the page, as the transfer-out clerk of Jiujiang.


@pytest.fixture
def letter_case():
    """张伟's pension, Jiujiang → Hangzhou, with the contact letter sent: the transfer-out clerk's turn."""
    return contact_letter_sent(draft())


def table_url(case):
    return f"/cases/{case.reference}/contributions/"


def saved_events(case):
    return CaseEvent.objects.filter(application=case, action="contribution_table_saved")


def messages_of(response, level=None):
    return [str(m) for m in response.context["messages"] if level in (None, m.level_tag)]


def test_a_csv_with_one_bad_row_saves_nothing_and_shows_the_row_and_column(client, letter_case):
    login(client, "clerk.jiujiang")
    bad = [TABLE[0], {**TABLE[1], "monthly_base": "5,500"}, TABLE[2]]
    response = upload(client, letter_case, csv_bytes(bad))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved" in page
    assert re.search(r"<td>3</td><td>monthly_base</td><td>Enter an amount", page)
    assert not ContributionYear.objects.filter(application=letter_case).exists()
    assert not saved_events(letter_case).exists()


def test_a_bad_csv_leaves_a_table_saved_before_untouched(client, letter_case):
    login(client, "clerk.jiujiang")
    assert upload(client, letter_case, csv_bytes(TABLE)).status_code == 302
    response = upload(client, letter_case, csv_bytes([{**GOOD, "year": "2018", "end_month": "13"}]))
    assert "Nothing was saved" in response.content.decode()
    assert list(letter_case.contribution_years.values_list("year", flat=True)) == [2015, 2016, 2017]
    assert saved_events(letter_case).count() == 1


def test_a_gbk_csv_is_read_and_its_bad_cell_reported_on_the_page(client, letter_case):
    login(client, "clerk.jiujiang")
    response = upload(client, letter_case, csv_bytes(TABLE).replace(b"360400", "九江".encode("gbk"), 1))
    assert re.search(
        r"<td>2</td><td>region_code</td><td>Unknown division code.</td>", response.content.decode()
    )
    assert not letter_case.contribution_years.exists()


def test_a_good_csv_saves_every_row_and_the_case_page_shows_the_computed_amounts(client, letter_case):
    login(client, "clerk.jiujiang")
    response = upload(client, letter_case, csv_bytes(TABLE), follow=True)
    assert response.redirect_chain == [(f"/cases/{letter_case.reference}/", 302)]
    assert "The contribution table is saved." in messages_of(response)
    years = list(letter_case.contribution_years.all())
    assert [(y.year, y.months, y.monthly_base) for y in years] == [
        (2015, 12, Decimal("5000.00")),
        (2016, 12, Decimal("5500.00")),
        (2017, 6, Decimal("6000.00")),
    ]
    (event,) = saved_events(letter_case)
    assert event.actor == user("clerk.jiujiang")
    assert event.note == "3 rows"
    page = response.content.decode()
    assert f"personal account = {PERSONAL}" in page
    assert "12% × Σ(base × months since 1998) = 12% × 162000.00" in page
    assert f"total = {PERSONAL} + {POOLED} = {TOTAL}" in page
    # The amounts form offers the computed figures.
    assert re.search(rf'name="personal_account_amount" value="{PERSONAL}"', page)
    assert re.search(rf'name="pooled_fund_amount" value="{POOLED}"', page)
    # Benefit place (66号 art. 6): 张伟's hukou is Jiujiang, where all his years are.
    assert "your hukou place, where your pension relationship is." in page


def test_overlapping_months_are_flagged_in_the_event_and_on_the_page(client, letter_case):
    login(client, "clerk.jiujiang")
    rows = [
        TABLE[2],
        {**GOOD, "region_code": "330100", "year": "2017", "start_month": "5", "end_month": "12"},
    ]
    response = upload(client, letter_case, csv_bytes(rows), follow=True)
    assert any("Some months were paid at two places" in m for m in messages_of(response))
    (event,) = saved_events(letter_case)
    assert event.note == "2 rows; overlapping months: 2017-05 330100/360400, 2017-06 330100/360400"
    assert "2017-05 (330100/360400), 2017-06 (330100/360400)" in response.content.decode()


def test_the_typed_table_is_saved_and_saving_it_again_keeps_every_row(client, letter_case):
    login(client, "clerk.jiujiang")
    client.cookies["django_language"] = "en"
    typed = {
        "rows-TOTAL_FORMS": "2",
        "rows-INITIAL_FORMS": "0",
        "rows-MIN_NUM_FORMS": "0",
        "rows-MAX_NUM_FORMS": "100",
    }
    for column in COLUMNS:
        typed[f"rows-0-{column}"] = TABLE[0][column]
        typed[f"rows-1-{column}"] = {**TABLE[1], "individual_rate": "8"}[column]
    response = client.post(table_url(letter_case), typed)
    assert re.search(r"<td>2</td><td>individual_rate</td>", response.content.decode())
    assert not letter_case.contribution_years.exists()

    typed["rows-1-individual_rate"] = "0.08"
    assert client.post(table_url(letter_case), typed).status_code == 302
    assert letter_case.contribution_years.count() == 2

    # The clerk opens the page again and sends the form back as shown.
    page = client.get(table_url(letter_case)).content.decode()
    shown = dict(re.findall(r'<input[^>]*name="(rows-[^"]+)"[^>]*value="([^"]*)"', page))
    assert shown["rows-INITIAL_FORMS"] == "2"
    assert client.post(table_url(letter_case), shown).status_code == 302
    assert list(letter_case.contribution_years.values_list("year", flat=True)) == [2015, 2016]
    assert saved_events(letter_case).count() == 2


def enter_amounts(client, case, **amounts):
    data = {"expected_state": "contact_letter_sent", "remittance_reference": "HK-2026-001", **amounts}
    client.cookies["django_language"] = "en"
    return client.post(f"/cases/{case.reference}/act/enter_amounts/", data, follow=True)


def test_enter_amounts_is_held_to_the_amounts_computed_from_the_table(client, letter_case):
    login(client, "clerk.jiujiang")
    upload(client, letter_case, csv_bytes(TABLE))

    response = enter_amounts(
        client, letter_case, personal_account_amount="13310.01", pooled_fund_amount="19440.00"
    )
    (message,) = messages_of(response, "error")
    assert (
        message == f"The amounts must equal those computed from the contribution table: {PERSONAL}, {POOLED}"
    )
    letter_case.refresh_from_db()
    assert letter_case.state == "contact_letter_sent"
    assert letter_case.transfer_total is None

    # 12% of the local employer rate would be another figure: refused as well.
    enter_amounts(client, letter_case, personal_account_amount="13310.00", pooled_fund_amount="25920.00")
    letter_case.refresh_from_db()
    assert letter_case.state == "contact_letter_sent"

    enter_amounts(client, letter_case, personal_account_amount="13310.00", pooled_fund_amount="19440.00")
    letter_case.refresh_from_db()
    assert letter_case.state == "amounts_pending_approval"
    assert (letter_case.personal_account_amount, letter_case.pooled_fund_amount) == (PERSONAL, POOLED)
    assert letter_case.transfer_total == TOTAL
    assert letter_case.amounts_entered_by == user("clerk.jiujiang")


@pytest.mark.parametrize(
    "username",
    [
        "clerk.hangzhou",
        "reviewer.jiujiang",
        "reviewer.hangzhou",
        "360426199101010071",
        "hr.hangzhou",
        "clerk.elsewhere",
    ],
)
def test_only_the_transfer_out_clerk_may_open_the_table(client, letter_case, username):
    AgencyStaffFactory(
        agency=agency("YL420100"), role=AgencyStaff.Role.CLERK, user__username="clerk.elsewhere"
    )
    login(client, username)
    assert client.get(table_url(letter_case)).status_code == 404
    assert upload(client, letter_case, csv_bytes(TABLE)).status_code == 404
    assert not letter_case.contribution_years.exists()
    assert not saved_events(letter_case).exists()


def test_an_anonymous_visitor_is_sent_to_log_in(client, letter_case):
    response = client.get(table_url(letter_case))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_the_table_cannot_change_once_the_amounts_are_entered(client, letter_case):
    login(client, "clerk.jiujiang")
    upload(client, letter_case, csv_bytes(TABLE))
    case = services.advance(
        letter_case,
        "enter_amounts",
        user("clerk.jiujiang"),
        personal_account_amount=PERSONAL,
        pooled_fund_amount=POOLED,
    )
    assert case.state == "amounts_pending_approval"

    response = upload(client, case, csv_bytes([GOOD]), follow=True)
    assert "The contribution table can only be changed before the amounts are entered." in messages_of(
        response
    )
    assert list(case.contribution_years.values_list("year", flat=True)) == [2015, 2016, 2017]
    assert saved_events(case).count() == 1
    assert table_url(case) not in client.get(f"/cases/{case.reference}/").content.decode()


# The CSV files a careless clerk or an attacker sends, through the page.

TOO_LONG = "A value in this row is far too long, or a quotation mark is not closed."


def upload_in_chinese(client, case, data):
    """The page in its default language (the clerk never chose English)."""
    client.cookies.pop("django_language", None)
    return client.post(
        table_url(case), {"csv-csv_file": SimpleUploadedFile("table.csv", data, content_type="text/csv")}
    )


def assert_refused_on_the_form(response, case, message):
    """A clear problem on the page, the upload form shown again, nothing saved."""
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved." in page or "未保存任何内容。" in page
    assert message in html.unescape(page)
    assert 'name="csv-csv_file"' in page
    assert not case.contribution_years.exists()
    assert not saved_events(case).exists()


def test_a_200_kb_value_is_a_clear_error_on_the_page_not_a_server_error(client, letter_case):
    """Until csvio, the csv module's own field limit (128 KB) raised csv.Error here: a server error."""
    login(client, "clerk.jiujiang")
    data = csv_bytes([TABLE[0], {**GOOD, "interest": "9" * 200_000}])
    response = upload(client, letter_case, data)
    assert_refused_on_the_form(response, letter_case, TOO_LONG)
    assert re.search(
        r"<td>3</td><td>—</td><td>A value in this row is far too long", response.content.decode()
    )

    response = upload_in_chinese(client, letter_case, data)
    assert_refused_on_the_form(response, letter_case, "该行中有值过长，或有引号未闭合。")
    with translation.override("zh-hans"):
        assert translation.gettext(TOO_LONG) in response.content.decode()


def test_a_table_excel_saved_as_gb18030_with_crlf_and_a_chinese_column_is_saved(client, letter_case):
    """Excel's plain "CSV (comma delimited)" on a Chinese Windows: GB18030/GBK, CRLF, and here a column of
    place names the table does not read (an agency system's export carries such columns)."""
    login(client, "clerk.jiujiang")
    rows = [{**row, "place": "江西省九江市"} for row in TABLE]
    data = csv_bytes(rows, (*COLUMNS, "place"), encoding="gb18030")
    assert b"\r\n" in data and "九江".encode("gb18030") in data
    response = upload(client, letter_case, data)
    assert response.status_code == 302
    assert list(letter_case.contribution_years.values_list("year", flat=True)) == [2015, 2016, 2017]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf-8", "utf-8-with-bom"])
def test_a_utf_8_table_is_saved_with_or_without_a_byte_order_mark(client, letter_case, bom):
    login(client, "clerk.jiujiang")
    assert upload(client, letter_case, bom + csv_bytes(TABLE)).status_code == 302
    assert letter_case.contribution_years.count() == 3


def xlsx_bytes():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as workbook:
        workbook.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "message", "chinese"),
    [
        (
            xlsx_bytes(),
            "This is an Excel workbook, not a CSV file.",
            "这是Excel工作簿，不是CSV文件。",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "This is not a CSV text file.",
            "该文件不是CSV文本文件。",
        ),
        (b" \r\n\r\n", "The file is empty.", "文件为空。"),
        (
            ",".join(COLUMNS).encode() + b"\r\n",
            "The file has a header row but no data rows.",
            "文件只有标题行",
        ),
        (
            (",".join((*COLUMNS, "year")) + "\r\n").encode() + csv_bytes(TABLE).split(b"\r\n", 1)[1],
            "These columns appear more than once.",
            "这些列重复出现。",
        ),
        (
            csv_bytes(TABLE) + b"360400,2018,1,12,5000\r\n",
            "This row has fewer values than the header has columns",
            "该行的值少于标题行的列数",
        ),
        (
            csv_bytes(TABLE) + b'"360400,2018,1,12,5000,0.16,0.08,0.08,4800,100,4900\r\n',
            "This row cannot be read as CSV; check its quotation marks.",
            "该行无法按CSV格式读取，请检查其中的引号。",
        ),
        (
            csv_bytes(TABLE).replace(b"2016", b"20\x0016"),
            "This is not a CSV text file.",
            "该文件不是CSV文本文件。",
        ),
    ],
    ids=["xlsx", "png", "empty", "header-only", "duplicate-header", "too-few-values", "open-quote", "nul"],
)
def test_a_file_that_is_no_table_is_refused_with_a_clear_message(client, letter_case, data, message, chinese):
    login(client, "clerk.jiujiang")
    assert_refused_on_the_form(upload(client, letter_case, data), letter_case, message)
    assert_refused_on_the_form(upload_in_chinese(client, letter_case, data), letter_case, chinese)
