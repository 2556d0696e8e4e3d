"""The yearly contribution table of a case: validating rows (typed in the portal or imported from CSV),
and the amounts the money rules compute from it."""

from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from agencies.models import Region
from applications import csvio
from applications.cases import columns
from applications.csvio import CsvError
from applications.models import ContributionYear, TransferApplication
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
MAX_BYTES = 512 * 1024


def _decimal(value, places):
    number = Decimal(str(value).strip())
    if not number.is_finite() or number < 0 or number.as_tuple().exponent < -places:
        raise InvalidOperation
    return number


def _too_large(model, name):
    return _("The amount is too large: at most %(largest)s.") % {
        "largest": columns.shown(columns.largest(model, name))
    }


def validate_rows(raw_rows, first_row_number=1, *, row_numbers=None):
    """Each raw row (a dict of strings) becomes a clean dict, or errors (CsvError) name the row, column
    and problem. Rows are numbered from first_row_number on, or by row_numbers (a CSV file's rows, as a
    spreadsheet numbers them, blank rows skipped). Returns (rows, errors); rows are only meaningful when
    errors is empty."""
    errors, rows = [], []
    if not raw_rows:
        return [], [CsvError(first_row_number, "", str(_("The table has no rows.")))]
    if len(raw_rows) > MAX_ROWS:
        return [], [CsvError(first_row_number, "", str(_("At most %(max)d rows.") % {"max": MAX_ROWS}))]
    if row_numbers is None:
        row_numbers = range(first_row_number, first_row_number + len(raw_rows))
    codes = {str(r.get("region_code") or "").strip() for r in raw_rows}
    regions = {r.code: r for r in Region.objects.filter(code__in=codes).select_related("parent__parent")}
    for number, raw in zip(row_numbers, raw_rows, strict=True):
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
                row[name] = _decimal(raw.get(name), columns.digits_of(ContributionYear, name)[1])
            except (InvalidOperation, ValueError):
                problems.append(
                    (name, _("Enter an amount in yuan, not negative, with at most two decimals."))
                )
                continue
            if not columns.fits(ContributionYear, name, row[name]):
                problems.append((name, _too_large(ContributionYear, name)))
        for name in RATE_COLUMNS:
            try:
                row[name] = _decimal(raw.get(name), columns.digits_of(ContributionYear, name)[1])
                if row[name] > 1 or not columns.fits(ContributionYear, name, row[name]):
                    raise InvalidOperation
            except (InvalidOperation, ValueError):
                problems.append((name, _("Enter a rate between 0 and 1, e.g. 0.08 for 8%.")))
        if "start_month" in row and "end_month" in row:
            row["months"] = row["end_month"] - row["start_month"] + 1
        errors += [CsvError(number, column, str(message)) for column, message in problems]
        rows.append(row)
    return rows, errors


def read_csv(upload):
    """The rows of a contribution table CSV (an upload or bytes) with a header row naming the columns,
    through the one CSV reader (applications/csvio.py). Other columns are ignored: a table exported from
    an agency's own system may carry more. Returns ([(row number, {column: value})], errors)."""
    read = csvio.read_csv(upload, COLUMNS, unknown_columns="ignore", max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
    return read.rows, read.errors


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
    return amounts_of(case, list(case.contribution_years.all()))


def amounts_of(case, years):
    """The amounts the regulation gives for these rows (clean dicts or ContributionYear), or None."""
    if not years:
        return None
    if case.scheme == "medical":
        latest = max(years, key=lambda y: _value(y, "year") * 100 + _value(y, "end_month"))
        return medical_amounts(_value(latest, "year_end_balance"))
    return pension_amounts(as_rule_rows(years), temporary=case.temporary_account)


def _value(row, name):
    return row[name] if isinstance(row, dict) else getattr(row, name)


# The amounts computed from a table and the columns of the case that will hold them.
COMPUTED_COLUMNS = (
    ("personal_account", "personal_account_amount"),
    ("pooled_fund", "pooled_fund_amount"),
    ("temporary_account", "temporary_account_amount"),
    ("total", "transfer_total"),
)


def amounts_too_large(case, rows):
    """Problems (CsvError, for the whole table) when the amounts these clean rows give do not fit the
    case's columns: each row may fit while their sum does not, and the clerk could then never enter the
    amounts the regulation gives."""
    amounts = amounts_of(case, rows)
    problems = []
    for attribute, name in COMPUTED_COLUMNS if amounts else ():
        value = getattr(amounts, attribute)
        if not columns.fits(TransferApplication, name, value):
            message = _(
                "From this table, %(what)s would be %(amount)s yuan, more than the information form can "
                "hold (at most %(largest)s yuan): check the monthly bases and the interest."
            ) % {
                "what": TransferApplication._meta.get_field(name).verbose_name,
                "amount": columns.shown(value),
                "largest": columns.shown(columns.largest(TransferApplication, name)),
            }
            problems.append(CsvError(None, "", str(message)))
    return problems


def overlaps(case):
    return overlapping_months(as_rule_rows(case.contribution_years.all()))
