"""How much money moves (国办发〔2009〕66号 art. 4 and 5; 人社厅发〔2017〕7号 art. 7; 医保办发〔2021〕43号):
the worked example, the personal account crediting rules, temporary accounts, medical balances, and
properties of the totals (exact to the fen, never negative, monotone, rounded once at the end)."""

from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from applications.rules.money import (
    ContributionRow,
    medical_amounts,
    overlapping_months,
    pension_amounts,
    pooled_fund,
)

JIUJIANG, HANGZHOU = "360400", "330100"


def row(
    year,
    base,
    start=1,
    end=12,
    *,
    region=JIUJIANG,
    employer="0.16",
    credited="0.08",
    individual="0.08",
    interest="0",
):
    return ContributionRow(
        region_code=region,
        year=year,
        start_month=start,
        end_month=end,
        monthly_base=Decimal(base),
        employer_rate=Decimal(employer),
        credited_rate=Decimal(credited),
        individual_rate=Decimal(individual),
        interest=Decimal(interest),
    )


WORKED_EXAMPLE = [row(2015, "5000"), row(2016, "5500"), row(2017, "6000", 1, 6)]


def test_the_worked_example_of_domain_md():
    """2015 base 5,000 × 12, 2016 5,500 × 12, 2017 6,000 × 6 → Σ 162,000.00 → pooled fund 19,440.00."""
    amount, working = pooled_fund(WORKED_EXAMPLE)
    assert amount == Decimal("19440.00")
    assert "162000.00" in working
    amounts = pension_amounts(WORKED_EXAMPLE)
    assert amounts.pooled_fund == Decimal("19440.00")
    # From 2006 the personal account is credited at 8%: 8% × 162,000.
    assert amounts.personal_account == Decimal("12960.00")
    assert amounts.total == Decimal("32400.00")
    assert amounts.temporary_account == Decimal("0.00")
    assert "total = 12960.00 + 19440.00 = 32400.00" in amounts.working


def test_the_order_of_the_rows_does_not_matter():
    assert pension_amounts(reversed(WORKED_EXAMPLE)) == pension_amounts(WORKED_EXAMPLE)


def test_before_1998_only_own_contributions_count_and_nothing_enters_the_pooled_fund():
    # 1996 and 1997: the employer paid 20% and 11% was credited, the person paid 3%.
    early = [
        row(1996, "800", employer="0.20", credited="0.11", individual="0.03", interest="15.50"),
        row(1997, "900", employer="0.20", credited="0.11", individual="0.04", interest="20.00"),
    ]
    amounts = pension_amounts(early)
    # 800 × 12 × 3% + 15.50 + 900 × 12 × 4% + 20.00 = 288 + 15.50 + 432 + 20
    assert amounts.personal_account == Decimal("755.50")
    assert amounts.pooled_fund == Decimal("0.00")
    assert amounts.total == Decimal("755.50")
    # With one year from 1998 added, only that year enters the pooled fund.
    assert pension_amounts([*early, row(1998, "1000", credited="0.11")]).pooled_fund == Decimal("1440.00")


@pytest.mark.parametrize(
    ("year", "credited_rate", "moved"),
    [
        # 1998–2005: normalised at 11% of the base.
        (1998, "0.11", "1320.00"),
        (1998, "0.16", "1320.00"),  # credited above 11%: the excess does not move
        (2003, "0.05", "1320.00"),  # credited below 11%: topped up to 11%
        (2005, "0.08", "1320.00"),
        # From 2006: 8%.
        (2006, "0.11", "960.00"),  # the excess over 8% does not move
        (2006, "0.08", "960.00"),
        (2020, "0.06", "960.00"),  # a shortfall is topped up
    ],
)
def test_from_1998_the_personal_account_is_normalised(year, credited_rate, moved):
    amounts = pension_amounts([row(year, "1000", credited=credited_rate)])
    assert amounts.personal_account == Decimal(moved)
    assert amounts.pooled_fund == Decimal("1440.00")  # 12% whatever the local rates


def test_recorded_interest_moves_with_the_personal_account():
    assert pension_amounts([row(2010, "1000", interest="37.25")]).personal_account == Decimal("997.25")


def test_a_temporary_account_moves_all_contributions_and_interest():
    rows = [
        row(2019, "6000", 7, 12, employer="0.16", individual="0.08", interest="120.00"),
        row(2020, "6500", employer="0.16", individual="0.08", interest="310.40"),
    ]
    amounts = pension_amounts(rows, temporary=True)
    # 6000 × 6 × 24% + 6500 × 12 × 24% + 120.00 + 310.40 = 8640 + 18720 + 430.40
    assert amounts.temporary_account == Decimal("27790.40")
    assert amounts.total == Decimal("27790.40")
    assert amounts.personal_account == amounts.pooled_fund == Decimal("0.00")
    # Not 12%: the same rows as an ordinary transfer move much less.
    assert pension_amounts(rows).total < amounts.total


def test_medical_moves_the_personal_account_balance_only():
    amounts = medical_amounts(Decimal("3456.785"))
    assert amounts.personal_account == Decimal("3456.79")
    assert amounts.pooled_fund == amounts.temporary_account == Decimal("0.00")
    assert amounts.total == Decimal("3456.79")


def test_rounding_happens_once_at_the_end_not_per_line():
    """Two months at base 1,001.50 credited at 11% are 110.165 each: rounded per line they would make
    2 × 110.17 = 220.34; the exact sum 220.33 is rounded once."""
    rows = [row(2001, "1001.50", 3, 3), row(2001, "1001.50", 4, 4, region=HANGZHOU)]
    assert pension_amounts(rows).personal_account == Decimal("220.33")
    # Pooled fund: 12% × 1,000.04 = 120.0048 per month; per line 120.00 + 120.00, at the end 240.01.
    assert pooled_fund([row(2010, "1000.04", 1, 1), row(2011, "1000.04", 1, 1)])[0] == Decimal("240.01")


def test_half_a_fen_rounds_up_not_to_even():
    # 1,001.50 × 11% = 110.165: half-up gives 110.17 where banker's rounding would give 110.16.
    assert Decimal("110.165").quantize(Decimal("0.01"), ROUND_HALF_EVEN) == Decimal("110.16")
    assert pension_amounts([row(2001, "1001.50", 5, 5)]).personal_account == Decimal("110.17")
    assert medical_amounts(Decimal("0.125")).total == Decimal("0.13")


def test_overlapping_months_between_two_places_are_reported():
    rows = [
        row(2017, "6000", 1, 6),
        row(2017, "7000", 5, 12, region=HANGZHOU),
        row(2018, "7000", region=HANGZHOU),
    ]
    assert overlapping_months(rows) == [(2017, 5, HANGZHOU, JIUJIANG), (2017, 6, HANGZHOU, JIUJIANG)]


def test_consecutive_rows_do_not_overlap():
    rows = [row(2017, "6000", 1, 4), row(2017, "6000", 5, 12, region=HANGZHOU), row(2018, "6000", 1, 12)]
    assert overlapping_months(rows) == []


# Properties over arbitrary tables.

money = st.integers(min_value=0, max_value=5_000_000).map(lambda fen: Decimal(fen) / 100)  # up to 50,000.00
rates = st.integers(min_value=0, max_value=3000).map(lambda r: Decimal(r) / 10000)  # 0 to 30%, 4 places


@st.composite
def contribution_rows(draw):
    start = draw(st.integers(1, 12))
    return ContributionRow(
        region_code=draw(st.sampled_from([JIUJIANG, HANGZHOU, "510100"])),
        year=draw(st.integers(1990, 2030)),
        start_month=start,
        end_month=draw(st.integers(start, 12)),
        monthly_base=draw(money),
        employer_rate=draw(rates),
        credited_rate=draw(rates),
        individual_rate=draw(rates),
        interest=draw(st.integers(0, 1_000_000).map(lambda fen: Decimal(fen) / 100)),
    )


tables = st.lists(contribution_rows(), max_size=20)


def pooled_fund_in_fen(rows):
    """12% of Σ base × months from 1998, in integer fen, rounded half-up (no Decimal arithmetic)."""
    wages_in_fen = sum(
        int(r.monthly_base * 100) * (r.end_month - r.start_month + 1) for r in rows if r.year >= 1998
    )
    return (wages_in_fen * 12 + 50) // 100


@settings(max_examples=100, deadline=None)
@given(tables)
def test_the_pooled_fund_is_12_percent_of_the_wages_since_1998_exactly_to_the_fen(rows):
    expected = Decimal(pooled_fund_in_fen(rows)) / 100
    assert pension_amounts(rows).pooled_fund == expected
    assert pension_amounts(rows).pooled_fund.as_tuple().exponent == -2


@settings(max_examples=100, deadline=None)
@given(tables, st.booleans())
def test_amounts_are_never_negative_and_add_up(rows, temporary):
    amounts = pension_amounts(rows, temporary=temporary)
    figures = (amounts.personal_account, amounts.pooled_fund, amounts.temporary_account, amounts.total)
    assert all(figure >= 0 for figure in figures)
    assert all(figure.as_tuple().exponent == -2 for figure in figures)
    assert amounts.total == amounts.personal_account + amounts.pooled_fund + amounts.temporary_account


@settings(max_examples=100, deadline=None)
@given(tables, contribution_rows(), st.booleans())
def test_adding_a_year_never_lowers_any_total(rows, extra, temporary):
    before = pension_amounts(rows, temporary=temporary)
    after = pension_amounts([*rows, extra], temporary=temporary)
    assert after.personal_account >= before.personal_account
    assert after.pooled_fund >= before.pooled_fund
    assert after.temporary_account >= before.temporary_account
    assert after.total >= before.total


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10**12).map(lambda n: Decimal(n) / 1000), max_size=3))
def test_a_medical_balance_is_moved_rounded_half_up_to_the_fen(balances):
    for balance in balances:
        amounts = medical_amounts(balance)
        assert amounts.total == amounts.personal_account
        assert abs(amounts.total - balance) <= Decimal("0.005")
        assert amounts.pooled_fund == Decimal("0.00")
