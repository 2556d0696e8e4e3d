"""An employer's list of employees: adding one (with the document checks of sign-up) or importing many
from a CSV file, all rows or none.

A person already on record with the same document and no employer is linked, not duplicated (they may
have signed up themselves, or been removed from a former employer's list). A person on another
employer's list is not taken over: that employer removes them first.
"""

from django import forms
from django.db import IntegrityError, transaction
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from agencies.models import Region
from applications import csvio
from applications.csvio import CsvError
from applications.employers.bulk import number_problem
from applications.models import DocumentType, InsuredPerson
from applications.models.people import check_document_number
from applications.people.forms import RegionChoiceField, hukou_region_choices, mobile_phone

IMPORT_COLUMNS = ("name", "document_number")
IMPORT_OPTIONAL_COLUMNS = ("document_type", "hukou_region", "phone", "sex", "birth_date")
SEX_WORDS = {"m": "M", "male": "M", "男": "M", "f": "F", "female": "F", "女": "F"}


class EmployeeForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    document_type = forms.ChoiceField(
        label=_("Document type"), choices=DocumentType.choices, initial=DocumentType.RESIDENT_ID
    )
    document_number = forms.CharField(label=_("Document number"), max_length=18)
    sex = forms.ChoiceField(
        label=_("Sex"),
        choices=[("", "---------"), ("M", _("Male")), ("F", _("Female"))],
        required=False,
        help_text=_("Only for documents other than the resident ID card, whose number already says it."),
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Only for documents other than the resident ID card."),
    )
    hukou_region = RegionChoiceField(
        label=_("Hukou place"),
        queryset=Region.objects.none(),
        required=False,
        error_messages={
            "invalid_choice": _("Choose a current city (prefecture), by its 6-digit code such as 330100.")
        },
    )
    phone = forms.CharField(label=_("Mobile phone"), max_length=11, required=False, validators=[mobile_phone])

    def __init__(self, *args, employer, **kwargs):
        super().__init__(*args, **kwargs)
        self.employer = employer
        self.fields["hukou_region"].queryset = hukou_region_choices()
        self.parsed_id = None
        self.existing = None  # a person on record to link instead of creating

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the name as it is on the document."))
        return name

    def clean_document_number(self):
        number = self.cleaned_data["document_number"].strip()
        problem = number_problem(number)
        if problem:
            raise forms.ValidationError(problem)
        return number

    def clean(self):
        data = super().clean()
        document_type, number = data.get("document_type"), data.get("document_number")
        if document_type and number:
            try:
                self.parsed_id = check_document_number(document_type, number)
            except forms.ValidationError as error:
                self.add_error("document_number", error)
            else:
                self._check_existing(document_type, number, data.get("name"))
        on_record = self.existing is not None and self.existing.hukou_region_id is not None
        if document_type == DocumentType.RESIDENT_ID:
            if not data.get("hukou_region") and "hukou_region" not in self.errors and not on_record:
                self.add_error("hukou_region", _("Choose the place of the household registration."))
        elif document_type and self.existing is None:
            for name in ("sex", "birth_date"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("This document does not say it; please enter it."))
        return data

    def _check_existing(self, document_type, number, name):
        existing = InsuredPerson.objects.filter(document_type=document_type, document_number=number).first()
        if existing is None:
            return
        if existing.employer_id == self.employer.pk:
            self.add_error("document_number", _("This person is already on your list of employees."))
        elif existing.employer_id is not None:
            self.add_error(
                "document_number",
                _(
                    "This person is on another employer's list of employees; that employer must remove "
                    "them first."
                ),
            )
        elif name and existing.name != name:
            self.add_error("name", _("The name does not match the record held for this document number."))
        else:
            self.existing = existing

    def save(self):
        """Create the employee, or link the person on record; call inside a transaction."""
        data = self.cleaned_data
        if self.existing is not None:
            person = InsuredPerson.objects.select_for_update().get(pk=self.existing.pk)
            if person.employer_id is not None:
                raise IntegrityError("taken by an employer meanwhile")
            person.employer = self.employer
            # Fill what the record lacks; what the person entered themselves is theirs to change.
            if not person.phone and data.get("phone"):
                person.phone = data["phone"]
            if person.hukou_region_id is None and data.get("hukou_region"):
                person.hukou_region = data["hukou_region"]
            person.save(update_fields=["employer", "phone", "hukou_region"])
            return person, False
        person = InsuredPerson(
            name=data["name"],
            document_type=data["document_type"],
            document_number=data["document_number"],
            hukou_region=data.get("hukou_region"),
            phone=data.get("phone") or "",
            employer=self.employer,
        )
        if self.parsed_id is None:
            person.sex, person.birth_date = data["sex"], data["birth_date"]
        person.save()
        return person, True


def add_employee(form):
    """Save one valid EmployeeForm in a transaction. Returns (person, created), or None when someone else
    registered or took the person between the check and the save (the form then carries the error)."""
    try:
        with transaction.atomic():
            return form.save()
    except IntegrityError:
        form.add_error(
            "document_number", _("This document number was registered meanwhile; please check it.")
        )
        return None


def _form_data(values):
    """A CSV row as the data of an EmployeeForm."""
    data = {name: values.get(name, "") for name in (*IMPORT_COLUMNS, *IMPORT_OPTIONAL_COLUMNS)}
    data["document_type"] = data["document_type"] or DocumentType.RESIDENT_ID
    data["sex"] = SEX_WORDS.get(data["sex"].lower(), data["sex"])
    return data


def validate_import(employer, rows):
    """Check every row with the same form as adding one employee, and the rows against each other.
    Returns (forms, errors)."""
    forms_, errors, seen = [], [], {}
    document_types = ", ".join(DocumentType.values)
    for number, values in rows:
        form = EmployeeForm(_form_data(values), employer=employer)
        form.fields["document_type"].error_messages["invalid_choice"] = gettext(
            "Unknown document type; use one of: %(types)s (empty means resident_id)."
        ) % {"types": document_types}
        if form.is_valid():
            key = (form.cleaned_data["document_type"], form.cleaned_data["document_number"])
            if key in seen:
                errors.append(
                    CsvError(
                        number,
                        "document_number",
                        gettext("The same person is already in row %(row)d.") % {"row": seen[key]},
                    )
                )
                continue
            seen[key] = number
            forms_.append((number, form))
            continue
        for column, messages in form.errors.items():
            for message in messages:
                errors.append(CsvError(number, "" if column == "__all__" else column, str(message)))
    return forms_, errors


class ImportFailed(Exception):
    def __init__(self, row, message):
        super().__init__(f"row {row}: {message}")
        self.row = row
        self.message = str(message)


def import_employees(employer, upload):
    """Read, check and save an employee CSV: every row or none. Returns (created, linked, errors)."""
    read = csvio.read_csv(upload, IMPORT_COLUMNS, IMPORT_OPTIONAL_COLUMNS)
    if read.errors:
        return 0, 0, read.errors
    valid, errors = validate_import(employer, read.rows)
    if errors:
        return 0, 0, errors
    created = linked = 0
    try:
        with transaction.atomic():
            for number, form in valid:
                try:
                    _person, new = form.save()
                except IntegrityError as error:
                    raise ImportFailed(
                        number, gettext("This document number was registered meanwhile; please check it.")
                    ) from error
                created += new
                linked += not new
    except ImportFailed as failure:
        return 0, 0, [CsvError(failure.row, "document_number", failure.message)]
    return created, linked, []


class EmployeeImportForm(forms.Form):
    csv_file = forms.FileField(
        label=_("Employees (CSV file)"),
        help_text=_(
            "CSV as Excel saves it (UTF-8 or GBK), at most 2 MB and 1,000 rows, with a header row. Columns: "
            "name, document_number; optional: document_type, hukou_region (6-digit code), phone, sex (M/F), "
            "birth_date (YYYY-MM-DD)."
        ),
    )
