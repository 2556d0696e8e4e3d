"""The yearly contribution table: per-row errors, CSV reading, the transfer-out clerk's page (all rows or
none), the amounts computed from it on the case page, and the enter_amounts step held to them."""

import re
from decimal import Decimal

import pytest
from django.utils import translation

from agencies.models import AgencyStaff, Region
from applications import services
from applications.contributions import COLUMNS, MAX_ROWS, RowError, read_csv, validate_rows
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
    assert errors == [RowError(3, column, message)]


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
    assert english_errors([])[1] == [RowError(1, "", "The table has no rows.")]
    assert english_errors([GOOD] * (MAX_ROWS + 1))[1] == [RowError(1, "", f"At most {MAX_ROWS} rows.")]


def test_read_csv_reports_missing_columns():
    columns = [c for c in COLUMNS if c not in ("interest", "year_end_balance")]
    with translation.override("en"):
        raw, errors = read_csv(csv_bytes(TABLE, columns))
    assert raw == []
    assert errors == [RowError(1, "interest, year_end_balance", "These columns are missing from the header.")]


def test_read_csv_refuses_text_that_is_not_utf_8():
    # A spreadsheet saved as GBK, with a Chinese note in it.
    data = csv_bytes([{**GOOD, "region_code": "九江"}], encoding="gbk")
    with translation.override("en"):
        raw, errors = read_csv(data)
    assert raw == []
    assert errors == [RowError(1, "", "The file is not UTF-8 text.")]


def test_read_csv_accepts_a_byte_order_mark():
    raw, errors = read_csv(b"\xef\xbb\xbf" + csv_bytes(TABLE))
    assert errors == []
    assert [r["year"] for r in raw] == ["2015", "2016", "2017"]
    assert validate_rows(raw, 2)[1] == []


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


def test_a_csv_that_is_not_utf_8_is_reported_on_the_page(client, letter_case):
    login(client, "clerk.jiujiang")
    response = upload(client, letter_case, csv_bytes(TABLE).replace(b"360400", "九江".encode("gbk"), 1))
    assert "The file is not UTF-8 text." in response.content.decode()
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
