"""Bulk filing by an employer's HR staff (批量申报): a CSV file of up to 1,000 rows, each one transfer of
one employee. Every row is validated before anything is filed; a file with any error files nothing and
gets the per-row report of applications/csvio.py (row, column, status, problem). A valid file is filed in
one transaction: every application is created and submitted through the workflow service, or none is.
"""

import logging
import re
from dataclasses import dataclass

from django import forms
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies.models import Agency, Region, Scheme
from applications import csvio
from applications.cases import services
from applications.cases.states import CLOSED_STATES
from applications.csvio import CsvError
from applications.models import Employer, FilingBatch, TransferApplication

logger = logging.getLogger(__name__)

MAX_BYTES = csvio.MAX_BYTES
MAX_ROWS = csvio.MAX_ROWS

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


SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE][+]?\d+$")


def number_problem(value):
    """A spreadsheet that shows an 18-digit number as 3.60426E+17 has already lost its last digits."""
    if SCIENTIFIC.match(value):
        return _(
            "The spreadsheet turned this number into scientific notation and lost digits: format the "
            "column as text and type the number again."
        )
    return None


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
            errors += [CsvError(number, column, str(message)) for column, message in problems]
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


def read_upload(upload):
    """The rows of an uploaded bulk-filing file, or its problems (applications/csvio.py)."""
    return csvio.read_csv(upload, COLUMNS, OPTIONAL_COLUMNS, max_rows=MAX_ROWS, max_bytes=MAX_BYTES)


def template_csv() -> str:
    """An empty file with the header row, to fill in."""
    return csvio.write_csv((*COLUMNS, *OPTIONAL_COLUMNS))


# gettext_lazy by its own name: makemessages does not know an alias such as _lazy, and left these out.
class BulkFilingForm(forms.Form):
    csv_file = forms.FileField(
        label=gettext_lazy("Transfers to file (CSV file)"),
        help_text=gettext_lazy(
            "CSV as Excel saves it (UTF-8 or GBK), at most 2 MB and 1,000 rows, with a header row. Columns: "
            "document_number, scheme (pension, medical or both), transfer_out_region and transfer_in_region "
            "(6-digit city codes); optional: old_person_number, name."
        ),
    )
    confirm = forms.BooleanField(
        label=gettext_lazy(
            "For every employee in the file I confirm: contributions at the old place are paused, there are "
            "no arrears, the employee has not retired, and is not in hospital (medical insurance)."
        ),
        error_messages={"required": gettext_lazy("Confirm this before filing.")},
    )
