"""The yearly contribution table of a case: validating rows (typed in the portal or imported from CSV),
and the amounts the money rules compute from it."""

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from agencies.models import Region
from applications.rules.money import ContributionRow, medical_amounts, overlapping_months, pension_amounts

COLUMNS = (
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
RATE_COLUMNS = ("employer_rate", "credited_rate", "individual_rate")
MONEY_COLUMNS = ("monthly_base", "credited_amount", "interest", "year_end_balance")
MAX_ROWS = 100  # a working life is at most a few dozen rows per place


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based, as a spreadsheet shows it (header is row 1 in a CSV)
    column: str
    message: str


def _decimal(value, places):
    number = Decimal(str(value).strip())
    if not number.is_finite() or number < 0 or number.as_tuple().exponent < -places:
        raise InvalidOperation
    return number


def validate_rows(raw_rows, first_row_number=1):
    """Each raw row (a dict of strings) becomes a clean dict, or errors name the row, column and problem.
    Returns (rows, errors); rows are only meaningful when errors is empty."""
    errors, rows = [], []
    if not raw_rows:
        return [], [RowError(first_row_number, "", str(_("The table has no rows.")))]
    if len(raw_rows) > MAX_ROWS:
        return [], [RowError(first_row_number, "", str(_("At most %(max)d rows.") % {"max": MAX_ROWS}))]
    codes = {str(r.get("region_code") or "").strip() for r in raw_rows}
    regions = {r.code: r for r in Region.objects.filter(code__in=codes).select_related("parent__parent")}
    for offset, raw in enumerate(raw_rows):
        number = first_row_number + offset
        row, problems = {}, []
        code = str(raw.get("region_code") or "").strip()
        if code not in regions:
            problems.append(("region_code", _("Unknown division code.")))
        else:
            row["region_code"], row["place"] = code, regions[code].full_name
        for name in ("year", "start_month", "end_month"):
            try:
                row[name] = int(str(raw.get(name) or "").strip())
            except ValueError:
                problems.append((name, _("Enter a whole number.")))
        if "year" in row and not 1950 <= row["year"] <= 2100:
            problems.append(("year", _("The year is out of range.")))
        for name in ("start_month", "end_month"):
            if name in row and not 1 <= row[name] <= 12:
                problems.append((name, _("A month is 1 to 12.")))
        if row.get("start_month", 1) > row.get("end_month", 12):
            problems.append(("end_month", _("The end month is before the start month.")))
        for name in MONEY_COLUMNS:
            try:
                row[name] = _decimal(raw.get(name), 2)
            except (InvalidOperation, ValueError):
                problems.append(
                    (name, _("Enter an amount in yuan, not negative, with at most two decimals."))
                )
        for name in RATE_COLUMNS:
            try:
                row[name] = _decimal(raw.get(name), 4)
                if row[name] > 1:
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                problems.append((name, _("Enter a rate between 0 and 1, e.g. 0.08 for 8%.")))
        if "start_month" in row and "end_month" in row:
            row["months"] = row["end_month"] - row["start_month"] + 1
        errors += [RowError(number, column, str(message)) for column, message in problems]
        rows.append(row)
    return rows, errors


def read_csv(uploaded_bytes: bytes):
    """Rows of a CSV file with a header row naming the columns. Returns (raw_rows, errors)."""
    try:
        text = uploaded_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError(1, "", str(_("The file is not UTF-8 text.")))]
    if "\x00" in text:
        # A binary file, and PostgreSQL refuses NUL in text: it would be a server error further on.
        return [], [RowError(1, "", str(_("This is not a CSV text file.")))]
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        return [], [RowError(1, ", ".join(missing), str(_("These columns are missing from the header.")))]
    return list(reader), []


def as_rule_rows(rows):
    """Rule rows from clean dicts or ContributionYear instances."""
    fields = (
        "region_code",
        "year",
        "start_month",
        "end_month",
        "monthly_base",
        "employer_rate",
        "credited_rate",
        "individual_rate",
        "interest",
    )
    return [
        ContributionRow(**{f: (row[f] if isinstance(row, dict) else getattr(row, f)) for f in fields})
        for row in rows
    ]


def computed_amounts(case):
    """The amounts the regulation gives for this case's table, or None when no table was entered."""
    years = list(case.contribution_years.all())
    if not years:
        return None
    if case.scheme == "medical":
        latest = max(years, key=lambda y: (y.year, y.end_month))
        return medical_amounts(latest.year_end_balance)
    return pension_amounts(as_rule_rows(years), temporary=case.temporary_account)


def overlaps(case):
    return overlapping_months(as_rule_rows(case.contribution_years.all()))
