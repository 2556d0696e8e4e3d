"""Money that does not fit its database column is refused with a clear message, never a server error
(DataError on PostgreSQL): in the contribution table (typed and CSV), in the entered amounts, and where
amounts that each fit add up to a total that does not (the total transferred, the amounts a table gives).
Every form field and validator takes its digits from the model's column."""

from decimal import Decimal

import pytest
from django.db.models import DecimalField

from applications.cases import columns, services
from applications.cases.contributions import COLUMNS, MONEY_COLUMNS, RATE_COLUMNS
from applications.models import CaseEvent, ContributionYear, State, TransferApplication
from applications.views.case_forms import ACTION_FIELDS
from tests.rules.conftest import contact_letter_sent, csv_bytes, draft, upload, user
from tests.rules.test_contribution_table import GOOD, messages_of, saved_events, table_url
from tests.world import login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]

LARGEST_BASE = "9999999999.99"  # monthly_base: 12 digits, 2 after the point


@pytest.fixture
def letter_case():
    return contact_letter_sent(draft())


def typed(client, case, rows):
    """Post the typed table (the formset) in English."""
    client.cookies["django_language"] = "en"
    data = {"rows-TOTAL_FORMS": str(len(rows)), "rows-INITIAL_FORMS": "0", "rows-MAX_NUM_FORMS": "100"}
    for index, row in enumerate(rows):
        data.update({f"rows-{index}-{name}": value for name, value in row.items()})
    return client.post(table_url(case), data)


def assert_refused(response, case, message):
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing was saved." in page
    assert message in page, page
    assert not ContributionYear.objects.filter(application=case).exists()
    assert not saved_events(case).exists()


TOO_LARGE = [
    ("monthly_base", "10000000000.00", "The amount is too large: at most 9,999,999,999.99."),
    ("monthly_base", "1e15", "The amount is too large: at most 9,999,999,999.99."),
    ("monthly_base", "１２３４５６７８９０１２３", "The amount is too large: at most 9,999,999,999.99."),
    ("credited_amount", "99999999999999", "The amount is too large: at most 9,999,999,999.99."),
    ("interest", "1E+11", "The amount is too large: at most 9,999,999,999.99."),
    ("year_end_balance", "1000000000000", "The amount is too large: at most 999,999,999,999.99."),
    ("year_end_balance", "1e40", "The amount is too large: at most 999,999,999,999.99."),
    ("employer_rate", "0.00001", "Enter a rate between 0 and 1, e.g. 0.08 for 8%."),
]


@pytest.mark.parametrize(("column", "value", "message"), TOO_LARGE)
@pytest.mark.parametrize("way", ["typed", "csv"])
def test_a_value_larger_than_its_column_is_a_clear_error(client, letter_case, column, value, message, way):
    login(client, "clerk.jiujiang")
    row = {**GOOD, column: value}
    response = (
        typed(client, letter_case, [row]) if way == "typed" else upload(client, letter_case, csv_bytes([row]))
    )
    assert_refused(response, letter_case, message)


def test_the_largest_value_of_each_column_is_accepted(client, letter_case):
    login(client, "clerk.jiujiang")
    row = {**GOOD, "monthly_base": LARGEST_BASE, "credited_amount": LARGEST_BASE, "interest": "0"}
    row["year_end_balance"] = "999999999999.99"
    response = typed(client, letter_case, [row])
    assert response.status_code == 302, messages_of(response)
    assert ContributionYear.objects.get(application=letter_case).monthly_base == Decimal(LARGEST_BASE)


def hundred_largest_years():
    """Each row fits its columns; a hundred of them give a pooled fund (12% of every wage since 1998) of
    1,439,999,999,998.56 yuan, which no amount column holds."""
    return [
        {**GOOD, "year": str(year), "monthly_base": LARGEST_BASE, "credited_amount": "0", "interest": "0"}
        for year in range(1998, 2098)
    ]


@pytest.mark.parametrize("way", ["typed", "csv"])
def test_a_table_whose_amounts_add_up_past_the_columns_is_refused(client, letter_case, way):
    login(client, "clerk.jiujiang")
    rows = hundred_largest_years()
    response = (
        typed(client, letter_case, rows) if way == "typed" else upload(client, letter_case, csv_bytes(rows))
    )
    assert_refused(
        response,
        letter_case,
        "From this table, pooled fund amount would be 1,439,999,999,998.56 yuan, more than the information "
        "form can hold (at most 999,999,999,999.99 yuan)",
    )


def test_the_service_refuses_such_a_table_too(letter_case):
    from applications.cases.contributions import validate_rows

    rows, errors = validate_rows(hundred_largest_years())
    assert errors == []
    with pytest.raises(services.ActionRefused):
        services.save_contribution_table(letter_case, user("clerk.jiujiang"), rows)
    assert not ContributionYear.objects.filter(application=letter_case).exists()


def enter_amounts(client, case, **amounts):
    client.cookies["django_language"] = "en"
    data = {"expected_state": case.state, "remittance_reference": "HK-1", **amounts}
    return client.post(f"/cases/{case.reference}/act/enter_amounts/", data, follow=True)


def test_two_amounts_that_fit_but_whose_total_does_not_are_refused(client, letter_case):
    """999,999,999,999.99 twice is 1,999,999,999,999.98: the total transferred has 14 digits."""
    login(client, "clerk.jiujiang")
    events = CaseEvent.objects.filter(application=letter_case).count()
    response = enter_amounts(
        client, letter_case, personal_account_amount="999999999999.99", pooled_fund_amount="999999999999.99"
    )
    assert response.status_code == 200
    assert (
        "Total transferred: 1,999,999,999,999.98 yuan is more than the form can hold (at most "
        "999,999,999,999.99 yuan)." in messages_of(response, "error")
    )
    letter_case.refresh_from_db()
    assert (letter_case.state, letter_case.transfer_total) == (State.CONTACT_LETTER_SENT, None)
    assert CaseEvent.objects.filter(application=letter_case).count() == events


def test_an_amount_with_more_digits_than_its_column_is_a_form_error(client, letter_case):
    login(client, "clerk.jiujiang")
    response = enter_amounts(client, letter_case, personal_account_amount="1e15", pooled_fund_amount="10.00")
    errors = messages_of(response, "error")
    assert any(error.startswith("Personal account amount (yuan): ") for error in errors), errors
    assert TransferApplication.objects.get(pk=letter_case.pk).state == State.CONTACT_LETTER_SENT


def test_the_service_refuses_a_total_that_does_not_fit(letter_case):
    largest = Decimal("999999999999.99")
    with pytest.raises(services.ActionRefused):
        services.advance(
            letter_case,
            "enter_amounts",
            user("clerk.jiujiang"),
            personal_account_amount=largest,
            pooled_fund_amount=largest,
        )
    assert TransferApplication.objects.get(pk=letter_case.pk).transfer_total is None


def test_every_money_field_has_the_digits_of_its_column():
    for name, make in ACTION_FIELDS.items():
        field = make()
        if not hasattr(field, "max_digits"):
            continue
        column = TransferApplication._meta.get_field(name)
        assert (field.max_digits, field.decimal_places) == (column.max_digits, column.decimal_places), name
    # The contribution table's values are checked against ContributionYear's columns, every one of them.
    decimal_columns = {f.name for f in ContributionYear._meta.get_fields() if isinstance(f, DecimalField)}
    assert decimal_columns == set(MONEY_COLUMNS) | set(RATE_COLUMNS)
    assert set(MONEY_COLUMNS) | set(RATE_COLUMNS) <= set(COLUMNS)
    assert columns.largest(ContributionYear, "monthly_base") == Decimal(LARGEST_BASE)
    assert columns.largest(ContributionYear, "employer_rate") == Decimal("9.9999")
