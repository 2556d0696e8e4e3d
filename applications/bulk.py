"""Bulk filing by an employer's HR staff (批量申报): a CSV file of up to 1,000 rows, each one transfer of
one employee. Every row is validated before anything is filed; a file with any error files nothing and
gets a per-row report (row, column, problem). A valid file is filed in one transaction: every
application is created and submitted through the workflow service, or none is.

Also the CSV reading shared with the employee import (applications/employees.py).
"""

import csv
import io
import logging
import re
from dataclasses import asdict, dataclass, field

from django import forms
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from agencies.models import Agency, Region, Scheme
from applications import services
from applications.models import Employer, FilingBatch, TransferApplication
from applications.states import CLOSED_STATES

logger = logging.getLogger(__name__)

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 1000

COLUMNS = ("document_number", "scheme", "transfer_out_region", "transfer_in_region")
OPTIONAL_COLUMNS = ("old_person_number", "name")

BOTH = "both"
# Spreadsheets prepared in Chinese often say the scheme in Chinese.
SCHEME_WORDS = {
    "pension": (Scheme.PENSION,),
    "养老": (Scheme.PENSION,),
    "养老保险": (Scheme.PENSION,),
    "medical": (Scheme.MEDICAL,),
    "医疗": (Scheme.MEDICAL,),
    "医保": (Scheme.MEDICAL,),
    "医疗保险": (Scheme.MEDICAL,),
    BOTH: (Scheme.PENSION, Scheme.MEDICAL),
    "养老和医疗": (Scheme.PENSION, Scheme.MEDICAL),
    "全部": (Scheme.PENSION, Scheme.MEDICAL),
}

# What HR declares for every employee of the file when filing in bulk (the upload form asks them to
# confirm it); the eligibility pre-check of each application reads these.
BULK_DECLARATIONS = {
    "retired": False,
    "contributions_paused": True,
    "arrears": False,
    "in_hospital": False,
    "unfinished_transfer": False,
    "approved_job_transfer": False,
    "old_medical_kind": "employee",
    "new_medical_kind": "employee",
}


@dataclass(frozen=True)
class RowError:
    """One problem: the row as a spreadsheet numbers it (the header is row 1; None for the whole file),
    the column (empty when the problem is not one column's), and the problem in words."""

    row: int | None
    column: str
    message: str

    def as_dict(self):
        return asdict(self)


def file_error(message):
    return [RowError(None, "", str(message))]


# CSV reading


@dataclass
class CsvRows:
    rows: list[tuple[int, dict]] = field(default_factory=list)  # (row number, {column: stripped value})
    columns: tuple[str, ...] = ()
    errors: list[RowError] = field(default_factory=list)


def _line_of(data: bytes, position: int) -> int:
    return data.count(b"\n", 0, position) + 1


def read_csv_upload(upload, required, optional=(), max_rows=MAX_ROWS, max_bytes=MAX_BYTES) -> CsvRows:
    """Read an uploaded CSV file: UTF-8 with or without BOM, a header row naming the columns (any order,
    any case), then data rows. Blank rows are skipped but still counted, so that row numbers are the
    ones a spreadsheet shows. File-level problems (too large, not UTF-8, empty, bad header, too many
    rows) come back as errors with no data rows."""
    result = CsvRows()
    if upload.size is not None and upload.size > max_bytes:
        result.errors = file_error(
            _("The file is larger than %(size)s MB.") % {"size": f"{max_bytes / 1024 / 1024:g}"}
        )
        return result
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        result.errors = file_error(
            _("The file is larger than %(size)s MB.") % {"size": f"{max_bytes / 1024 / 1024:g}"}
        )
        return result
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        result.errors = [
            RowError(
                _line_of(data, error.start),
                "",
                _(
                    "The file is not UTF-8 text. In Excel, save it as “CSV UTF-8 (comma delimited)” "
                    "(CSV UTF-8（逗号分隔）)."
                ),
            )
        ]
        return result
    if not text.strip():
        result.errors = file_error(_("The file is empty."))
        return result
    if "\x00" in text:
        result.errors = file_error(_("This is not a CSV text file."))
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
        records = list(reader)
    except csv.Error as error:
        result.errors = [
            RowError(reader.line_num or None, "", _("The CSV is malformed: %(error)s") % {"error": error})
        ]
        return result
    columns = [name.strip().lower() for name in header]
    errors = []
    missing = [name for name in required if name not in columns]
    if missing:
        errors.append(
            RowError(
                1,
                ", ".join(missing),
                _("These columns are missing from the header row. The columns are: %(columns)s.")
                % {"columns": ", ".join((*required, *optional))},
            )
        )
    unknown = [name for name in columns if name and name not in required and name not in optional]
    if unknown:
        errors.append(
            RowError(
                1,
                ", ".join(unknown),
                _("Unknown columns. The columns are: %(columns)s.")
                % {"columns": ", ".join((*required, *optional))},
            )
        )
    repeated = sorted({name for name in columns if name and columns.count(name) > 1})
    if repeated:
        errors.append(RowError(1, ", ".join(repeated), _("These columns appear more than once.")))
    if errors:
        result.errors = errors
        return result
    rows = []
    for offset, record in enumerate(records):
        if not any(value.strip() for value in record):
            continue  # a blank row (spreadsheets often leave some at the end)
        number = offset + 2  # the header is row 1
        if len(record) > len(columns) and any(value.strip() for value in record[len(columns) :]):
            errors.append(RowError(number, "", _("This row has more values than the header has columns.")))
            continue
        values = {
            name: (record[i].strip() if i < len(record) else "") for i, name in enumerate(columns) if name
        }
        rows.append((number, values))
    if not rows and not errors:
        result.errors = file_error(_("The file has a header row but no data rows."))
        return result
    if len(rows) > max_rows:
        result.errors = file_error(
            _("The file has %(count)d rows; at most %(max)d rows can be sent in one file.")
            % {"count": len(rows), "max": max_rows}
        )
        return result
    result.rows, result.columns, result.errors = rows, tuple(columns), errors
    return result


SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE][+]?\d+$")


def number_problem(value):
    """A spreadsheet that shows an 18-digit number as 3.60426E+17 has already lost its last digits."""
    if SCIENTIFIC.match(value):
        return _(
            "The spreadsheet turned this number into scientific notation and lost digits: format the "
            "column as text and type the number again."
        )
    return None


def report_csv(errors) -> str:
    """The error report as CSV text (with a BOM, so that Excel opens it as UTF-8)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Problem")])
    for error in errors:
        row = error["row"] if isinstance(error, dict) else error.row
        column = error["column"] if isinstance(error, dict) else error.column
        message = error["message"] if isinstance(error, dict) else error.message
        writer.writerow([row if row is not None else "", _safe_cell(column), _safe_cell(message)])
    return "\ufeff" + out.getvalue()


def _safe_cell(text):
    # A cell starting with = + - @ would be run as a formula by a spreadsheet (CSV injection).
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


# Validation of a bulk filing


@dataclass
class Filing:
    """One valid row: the employee and, per scheme, its (transfer-out agency, transfer-in agency)."""

    row: int
    person: object
    agencies: dict
    old_person_number: str = ""


def _agencies_by_region_and_scheme(codes):
    found = {}
    # Several agencies of one scheme in a place: the first by code, as the filing form does.
    for agency in Agency.objects.filter(region_id__in=codes).order_by("code"):
        found.setdefault((agency.region_id, agency.scheme), agency)
    return found


def _region_problem(code, scheme, regions, agencies):
    if not re.fullmatch(r"\d{6}", code):
        return _("Enter the 6-digit division code of the city (prefecture), for example 330100.")
    region = regions.get(code)
    if region is None:
        return _("%(code)s is not a known division code.") % {"code": code}
    if (code, scheme) in agencies:
        return None
    prefecture = code[:4] + "00"
    if prefecture != code and (prefecture, scheme) in agencies:
        return _(
            "%(code)s is a district or county; agencies are listed per city: use %(prefecture)s (%(name)s)."
        ) % {"code": code, "prefecture": prefecture, "name": regions[prefecture].full_name}
    return _("No %(scheme)s agency is listed for %(place)s (%(code)s).") % {
        "scheme": Scheme(scheme).label,
        "place": region.full_name,
        "code": code,
    }


def open_cases(person_ids):
    """(person id, scheme) -> the open application (not completed, refused or withdrawn) of that person."""
    found = {}
    for case in (
        TransferApplication.objects.filter(person_id__in=person_ids)
        .exclude(state__in=CLOSED_STATES)
        .only("person_id", "scheme", "reference", "state", "filed_for_employer_id")
    ):
        found.setdefault((case.person_id, case.scheme), case)
    return found


def _open_case_problem(case, employer):
    if case.filed_for_employer_id == employer.pk:
        return _("This person already has an open %(scheme)s application: %(reference)s (%(state)s).") % {
            "scheme": Scheme(case.scheme).label,
            "reference": case.reference,
            "state": case.get_state_display(),
        }
    # Filed by the person or another employer: the reference is not the HR user's to see.
    return _(
        "This person already has an open %(scheme)s application, filed by themselves or another employer."
    ) % {"scheme": Scheme(case.scheme).label}


def validate_filings(employer, rows):
    """Check every row of a bulk filing. Returns (filings, errors); filings are meant to be filed only
    when errors is empty."""
    numbers = {values.get("document_number", "").upper() for _number, values in rows}
    employees = {}
    for person in employer.employees.filter(document_number__in=numbers):
        employees.setdefault(person.document_number, []).append(person)
    codes = {
        values.get(c, "") for _number, values in rows for c in ("transfer_out_region", "transfer_in_region")
    }
    codes |= {code[:4] + "00" for code in codes if re.fullmatch(r"\d{6}", code)}
    regions = {r.code: r for r in Region.objects.filter(code__in=codes).select_related("parent__parent")}
    agencies = _agencies_by_region_and_scheme(codes)
    people = [p for persons in employees.values() for p in persons]
    already_open = open_cases([p.pk for p in people])

    filings, errors, seen = [], [], {}
    for number, values in rows:
        problems = []
        document_number = values.get("document_number", "").upper()
        person = None
        if not document_number:
            problems.append(("document_number", _("Enter the document number.")))
        elif number_problem(document_number):
            problems.append(("document_number", number_problem(document_number)))
        else:
            matches = employees.get(document_number, [])
            if not matches:
                problems.append(
                    (
                        "document_number",
                        _("None of your employees has this document number; add the employee first."),
                    )
                )
            elif len(matches) > 1:
                problems.append(
                    (
                        "document_number",
                        _("Several of your employees have this number on different documents."),
                    )
                )
            else:
                person = matches[0]
                name = values.get("name", "")
                if name and name != person.name:
                    problems.append(
                        ("name", _("The name does not match the employee with this document number."))
                    )

        scheme_word = values.get("scheme", "").strip().lower()
        schemes = SCHEME_WORDS.get(scheme_word)
        if schemes is None:
            problems.append(
                (
                    "scheme",
                    _("Enter pension, medical or both.")
                    if scheme_word
                    else _("Enter the scheme: pension, medical or both."),
                )
            )
            schemes = ()

        out_code, in_code = values.get("transfer_out_region", ""), values.get("transfer_in_region", "")
        pairs = {}
        for column, code in (("transfer_out_region", out_code), ("transfer_in_region", in_code)):
            if not code:
                problems.append((column, _("Enter the 6-digit division code of the city.")))
                continue
            reported = set()
            for scheme in schemes:
                problem = _region_problem(code, scheme, regions, agencies)
                if problem and problem not in reported:
                    reported.add(problem)
                    problems.append((column, problem))
        if out_code and out_code == in_code:
            problems.append(("transfer_in_region", _("The new place must differ from the old place.")))

        old_person_number = values.get("old_person_number", "")
        if len(old_person_number) > 30:
            problems.append(("old_person_number", _("At most 30 characters.")))

        if person is not None:
            for scheme in schemes:
                first = seen.get((person.pk, scheme))
                if first is not None:
                    problems.append(
                        (
                            "document_number",
                            _("Row %(row)d already files %(scheme)s for this person.")
                            % {"row": first, "scheme": Scheme(scheme).label},
                        )
                    )
                else:
                    seen[(person.pk, scheme)] = number
                case = already_open.get((person.pk, scheme))
                if case is not None:
                    problems.append(("scheme", _open_case_problem(case, employer)))

        if problems:
            errors += [RowError(number, column, str(message)) for column, message in problems]
            continue
        for scheme in schemes:
            pairs[scheme] = (agencies[(out_code, scheme)], agencies[(in_code, scheme)])
        filings.append(Filing(number, person, pairs, old_person_number))
    return filings, errors


# Filing


class FilingFailed(Exception):
    """Filing stopped at a row; the transaction was rolled back, so nothing of the file was filed."""

    def __init__(self, row, message):
        super().__init__(f"row {row}: {message}")
        self.row = row
        self.message = str(message)


REFERENCE_ATTEMPTS = 3


def _create_drafts(filing, employer, user):
    """The drafts of one row. Case references are random (8 digits a day), so among a thousand new cases
    two may collide now and then; create_drafts runs in its own savepoint, so the row is simply tried
    again with new references instead of failing the whole file."""
    for attempt in range(REFERENCE_ATTEMPTS):
        try:
            return services.create_drafts(
                person=filing.person,
                schemes_and_agencies=filing.agencies,
                filed_by=user,
                filed_for_employer=employer,
                new_employer=employer,
                old_person_number=filing.old_person_number,
                declarations=dict(BULK_DECLARATIONS),
            )
        except IntegrityError:
            if attempt == REFERENCE_ATTEMPTS - 1:
                raise
            logger.warning("bulk filing: a case reference collided at row %s; trying again", filing.row)
    raise AssertionError("unreachable")


def file_all(employer, user, filings, file_name=""):
    """Create and submit every application of a validated file in ONE transaction, through the workflow
    service (create_drafts, then advance "submit"), and record the batch. Any failure rolls everything
    back and raises FilingFailed naming the row. The application forms are rendered after commit (the
    workflow service queues them with transaction.on_commit)."""
    with transaction.atomic():
        # One bulk filing at a time per employer, so that two uploads of the same file cannot both pass
        # the open-application check below.
        Employer.objects.select_for_update().filter(pk=employer.pk).first()
        still_open = open_cases([filing.person.pk for filing in filings])
        batch = FilingBatch.objects.create(
            employer=employer,
            uploaded_by=user,
            file_name=file_name[:200],
            row_count=len(filings),
            status=FilingBatch.Status.FILED,
        )
        case_ids = []
        for filing in filings:
            try:
                for scheme in filing.agencies:
                    if (filing.person.pk, scheme) in still_open:
                        raise services.WorkflowError(
                            _open_case_problem(still_open[(filing.person.pk, scheme)], employer)
                        )
                drafts = _create_drafts(filing, employer, user)
                for draft in drafts:
                    services.advance(draft, "submit", user)
                    case_ids.append(draft.pk)
            except services.WorkflowError as error:
                raise FilingFailed(filing.row, error.message) from error
            except Exception as error:
                logger.exception("bulk filing of employer %s stopped at row %s", employer.pk, filing.row)
                raise FilingFailed(
                    filing.row, _("An unexpected error stopped the filing at this row.")
                ) from error
        batch.cases.add(*case_ids)
    return batch


def reject(employer, user, errors, file_name="", row_count=0):
    """Record a rejected upload with its error report (no uploaded values are kept)."""
    return FilingBatch.objects.create(
        employer=employer,
        uploaded_by=user,
        file_name=file_name[:200],
        row_count=row_count,
        status=FilingBatch.Status.REJECTED,
        errors=[error.as_dict() for error in errors],
    )


def template_csv() -> str:
    """An empty file with the header row, to fill in."""
    return "\ufeff" + ",".join((*COLUMNS, *OPTIONAL_COLUMNS)) + "\r\n"


class BulkFilingForm(forms.Form):
    csv_file = forms.FileField(
        label=_lazy("Transfers to file (CSV file)"),
        help_text=_lazy(
            "UTF-8 CSV, at most 2 MB and 1,000 rows, with a header row. Columns: document_number, scheme "
            "(pension, medical or both), transfer_out_region and transfer_in_region (6-digit city codes); "
            "optional: old_person_number, name."
        ),
    )
    confirm = forms.BooleanField(
        label=_lazy(
            "For every employee in the file I confirm: contributions at the old place are paused, there are "
            "no arrears, the employee has not retired, and is not in hospital (medical insurance)."
        ),
        error_messages={"required": _lazy("Confirm this before filing.")},
    )
