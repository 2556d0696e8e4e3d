"""How much money moves (国办发〔2009〕66号 art. 4 and 5; 人社厅发〔2017〕7号 art. 7; 医保办发〔2021〕43号).

All figures are Decimal. Products are summed exactly and rounded half-up to the fen once, at the end,
never line by line, so that every total is reproducible from the yearly table.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")
POOLED_FUND_RATE = Decimal(
    "0.12"
)  # 66号 art. 4: 12% of the contribution wages from 1998, whatever the local rate
NORMALISED_CREDIT = ((1998, 2005, Decimal("0.11")), (2006, 9999, Decimal("0.08")))  # 2017〕7号 art. 7
POOLING_START = 1998


def to_fen(value: Decimal) -> Decimal:
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class ContributionRow:
    """One year (or part of a year) at one place, as on the information form."""

    region_code: str
    year: int
    start_month: int
    end_month: int
    monthly_base: Decimal
    employer_rate: Decimal
    credited_rate: Decimal  # the rate that was actually credited to the personal account
    individual_rate: Decimal
    interest: Decimal = Decimal("0")

    @property
    def months(self) -> int:
        return self.end_month - self.start_month + 1

    @property
    def wages(self) -> Decimal:
        """The year's contribution wages: monthly base × months (part years by month)."""
        return self.monthly_base * self.months


def normalised_credit_rate(year: int) -> Decimal | None:
    for first, last, rate in NORMALISED_CREDIT:
        if first <= year <= last:
            return rate
    return None


@dataclass(frozen=True)
class Amounts:
    personal_account: Decimal
    pooled_fund: Decimal
    temporary_account: Decimal
    total: Decimal
    working: tuple[str, ...]  # each figure with how it was computed, line by line


def pooled_fund(rows) -> tuple[Decimal, str]:
    wages = sum((r.wages for r in rows if r.year >= POOLING_START), Decimal("0"))
    return to_fen(wages * POOLED_FUND_RATE), f"12% × Σ(base × months since 1998) = 12% × {wages:.2f}"


def pension_personal_account(rows) -> tuple[Decimal, list[str]]:
    """Before 1998 the person's own contributions; from 1998 the crediting normalised to 11% (to 2005)
    and 8% (from 2006): an excess is not moved, a shortfall is topped up. Interest as recorded."""
    total = Decimal("0")
    working = []
    for r in rows:
        rate = r.individual_rate if r.year < POOLING_START else normalised_credit_rate(r.year)
        credited = r.wages * rate
        total += credited + r.interest
        working.append(
            f"{r.year} {r.region_code}: {r.monthly_base:.2f} × {r.months} × {rate:%} = {credited:.4f}; "
            f"+ interest {r.interest:.2f}"
        )
    return to_fen(total), working


def temporary_account(rows) -> tuple[Decimal, str]:
    """A temporary contribution account moves whole: every employer and individual contribution plus interest
    (66号 art. 5)."""
    contributions = sum((r.wages * (r.employer_rate + r.individual_rate) for r in rows), Decimal("0"))
    interest = sum((r.interest for r in rows), Decimal("0"))
    return (
        to_fen(contributions + interest),
        f"Σ base × months × (employer + individual rate) = {contributions:.4f}; + interest {interest:.2f}",
    )


def pension_amounts(rows, *, temporary: bool = False) -> Amounts:
    rows = sorted(rows, key=lambda r: (r.year, r.start_month))
    if temporary:
        amount, line = temporary_account(rows)
        return Amounts(Decimal("0.00"), Decimal("0.00"), amount, amount, (line, f"total = {amount}"))
    account, working = pension_personal_account(rows)
    pooled, pooled_line = pooled_fund(rows)
    total = account + pooled
    return Amounts(
        account,
        pooled,
        Decimal("0.00"),
        total,
        (
            *working,
            f"personal account = {account}",
            f"pooled fund: {pooled_line} = {pooled}",
            f"total = {account} + {pooled} = {total}",
        ),
    )


def medical_amounts(personal_account_balance: Decimal) -> Amounts:
    """Only the employee-scheme personal account balance moves; the pooled fund stays (医保办发〔2021〕43号)."""
    balance = to_fen(personal_account_balance)
    return Amounts(
        balance, Decimal("0.00"), Decimal("0.00"), balance, (f"personal account balance = {balance}",)
    )


def overlapping_months(rows) -> list[tuple[int, int, str, str]]:
    """Months paid at two places at once: (year, month, place, other place). They are flagged and the
    transfer goes ahead first; the overlap is cleared afterwards (先转后清)."""
    seen: dict[tuple[int, int], str] = {}
    overlaps = []
    for r in sorted(rows, key=lambda r: (r.year, r.start_month)):
        for month in range(r.start_month, r.end_month + 1):
            other = seen.get((r.year, month))
            if other is not None and other != r.region_code:
                overlaps.append((r.year, month, r.region_code, other))
            seen.setdefault((r.year, month), r.region_code)
    return overlaps
