"""Forms of the case pages: filing an application, and the data each workflow action needs."""

from django import forms
from django.urls import reverse_lazy
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Region, Scheme
from applications.cases.columns import amount_field
from applications.cases.contributions import COLUMNS as CSV_COLUMNS
from applications.cases.contributions import MAX_ROWS as CONTRIBUTION_ROWS
from applications.cases.contributions import computed_amounts
from applications.cases.eligibility import DECLARATION_FIELDS
from applications.cases.guards import amount_fields
from applications.cases.uploads import check_upload
from applications.models import MaterialKind, TransferApplication
from applications.people.forms import RegionChoiceField

ACTION_FIELDS = {
    "reason": lambda: forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    ),
    "legal_basis": lambda: forms.CharField(
        label=_("Legal basis"), max_length=200, help_text=_("For example: 国办发〔2009〕66号 第五条")
    ),
    # Amounts have the digits of their columns (applications/cases/columns.py).
    "personal_account_amount": lambda: amount_field(
        TransferApplication, "personal_account_amount", label=_("Personal account amount (yuan)")
    ),
    "pooled_fund_amount": lambda: amount_field(
        TransferApplication,
        "pooled_fund_amount",
        label=_("Pooled fund amount (yuan)"),
        required=False,
        help_text=_("Pension only: 12 per cent of the contribution wages since 1998."),
    ),
    "temporary_account_amount": lambda: amount_field(
        TransferApplication,
        "temporary_account_amount",
        label=_("Temporary account amount (yuan)"),
        help_text=_("All employer and individual contributions plus interest."),
    ),
    "remittance_reference": lambda: forms.CharField(
        label=_("Remittance reference"), max_length=40, required=False
    ),
    "received_amount": lambda: amount_field(
        TransferApplication, "received_amount", label=_("Amount received (yuan)")
    ),
}


AMOUNT_NAMES = ("personal_account_amount", "pooled_fund_amount", "temporary_account_amount")


def initial_amounts(transition, case):
    """The amounts computed from the contribution table, offered to the clerk who enters them."""
    if transition.action != "enter_amounts":
        return {}
    computed = computed_amounts(case)
    if computed is None:
        return {}
    return {
        "personal_account_amount": computed.personal_account,
        "pooled_fund_amount": computed.pooled_fund,
        "temporary_account_amount": computed.temporary_account,
    }


def action_form(transition, case, data=None):
    """The form for one transition: its fields, plus the state the user saw (to detect a case that moved on)."""
    form = forms.Form(data, initial=initial_amounts(transition, case))
    moving = amount_fields(case)
    for name in transition.fields:
        if name in AMOUNT_NAMES and name not in moving:
            continue
        form.fields[name] = ACTION_FIELDS[name]()
    form.fields["expected_state"] = forms.CharField(widget=forms.HiddenInput, initial=case.state)
    return form


def prefecture_choices():
    return Region.objects.filter(agency__isnull=False).distinct().select_related("parent").order_by("code")


def provinces():
    return Region.objects.filter(current=True, level=Region.Level.PROVINCE).order_by("code")


def picker_attrs(url_name, target):
    """htmx: choosing a province narrows the list of cities; choosing a city shows its agencies."""
    return {
        "hx-get": reverse_lazy(url_name),
        "hx-target": target,
        "hx-swap": "outerHTML",
        "hx-trigger": "change",
    }


class FilingForm(forms.Form):
    """Filing a transfer (step 1): the schemes, the old and the new place (province, then city, whose
    agencies are shown with their online connection), and the new employer or self-paying."""

    schemes = forms.MultipleChoiceField(
        label=_("What to transfer"),
        choices=Scheme.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose pension, medical insurance, or both.")},
    )
    transfer_out_province = forms.ModelChoiceField(
        label=_("Old place: province"), queryset=Region.objects.none(), required=False
    )
    transfer_out_region = RegionChoiceField(
        label=_("Old place: city (transfer-out)"), queryset=Region.objects.none()
    )
    transfer_in_province = forms.ModelChoiceField(
        label=_("New place: province"), queryset=Region.objects.none(), required=False
    )
    transfer_in_region = RegionChoiceField(
        label=_("New place: city (transfer-in)"), queryset=Region.objects.none()
    )
    self_paying = forms.BooleanField(
        label=_("I have no new employer and pay contributions myself (灵活就业)."), required=False
    )
    old_person_number = forms.CharField(
        label=_("Personal number at the old place"), max_length=30, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for side in ("transfer_out", "transfer_in"):
            province = self.fields[f"{side}_province"]
            province.queryset = provinces()
            province.widget.attrs.update(picker_attrs("region_picker", f"#id_{side}_region"))
            province.widget.attrs["hx-vals"] = f'{{"field": "{side}_region"}}'
            city = self.fields[f"{side}_region"]
            city.queryset = prefecture_choices()
            city.widget.attrs.update(picker_attrs("agency_picker", f"#agencies-{side}"))
            city.widget.attrs["hx-vals"] = f'{{"side": "{side}"}}'

    def clean(self):
        data = super().clean()
        out_region, in_region = data.get("transfer_out_region"), data.get("transfer_in_region")
        if out_region and in_region and out_region == in_region:
            self.add_error("transfer_in_region", _("The new place must differ from the old place."))
            return data
        self.agencies = {}
        for scheme in data.get("schemes") or []:
            pair = []
            for field, region in (("transfer_out_region", out_region), ("transfer_in_region", in_region)):
                agency = Agency.objects.filter(region=region, scheme=scheme).first() if region else None
                if region and agency is None:
                    self.add_error(field, _("No agency of this scheme is listed for this place yet."))
                pair.append(agency)
            self.agencies[scheme] = tuple(pair)
        return data


YES_NO_DECLARATIONS = (
    ("retired", _("I have retired (receive a pension).")),
    ("contributions_paused", _("My contributions at the old place have been paused (暂停缴费).")),
    ("arrears", _("I have contribution arrears at the old place.")),
    ("in_hospital", _("I am in hospital now (medical insurance).")),
    ("unfinished_transfer", _("Another transfer of mine is not finished.")),
    (
        "approved_job_transfer",
        _("This is a job transfer (调动) approved by the organisation or personnel department."),
    ),
)
MEDICAL_KINDS = (("employee", _("Employee medical insurance")), ("resident", _("Resident medical insurance")))


class DeclarationsForm(forms.Form):
    """What the applicant declares for the eligibility pre-check (stored on the case)."""

    old_medical_kind = forms.ChoiceField(label=_("Medical insurance at the old place"), choices=MEDICAL_KINDS)
    new_medical_kind = forms.ChoiceField(label=_("Medical insurance at the new place"), choices=MEDICAL_KINDS)
    gap_months = forms.IntegerField(
        label=_("Months without medical cover between the two places"), min_value=0, max_value=600, initial=0
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in YES_NO_DECLARATIONS:
            self.fields[name] = forms.BooleanField(
                label=label, required=False, initial=name == "contributions_paused"
            )

    def declarations(self):
        return {name: self.cleaned_data[name] for name in DECLARATION_FIELDS if name in self.cleaned_data}


class FilingWithDeclarationsForm(FilingForm, DeclarationsForm):
    pass


class ContributionTableUploadForm(forms.Form):
    csv_file = forms.FileField(
        label=_("Contribution table (CSV)"),
        # Filled in when shown: a lazy text formatted here would be fixed in the language of start-up.
        help_text=lazy(
            lambda: (
                _("CSV as Excel saves it (UTF-8 or GBK), with a header row: %(columns)s")
                % {"columns": ", ".join(CSV_COLUMNS)}
            ),
            str,
        )(),
    )

    def clean_csv_file(self):
        upload = self.cleaned_data["csv_file"]
        if upload.size > 512 * 1024:
            raise forms.ValidationError(_("The file is larger than 512 KB."))
        return upload


# Text, not numbers: the typed table and the CSV import are checked by one validator,
# contributions.validate_rows, which reads each column's digits from the model and names the row and
# column of every problem. The lengths here only keep absurd input out.
VALUE_LENGTH = 40


class ContributionRowForm(forms.Form):
    region_code = forms.CharField(label=_("Division code"), max_length=6)
    year = forms.CharField(label=_("Year"), max_length=4)
    start_month = forms.CharField(label=_("Start month"), max_length=2)
    end_month = forms.CharField(label=_("End month"), max_length=2)
    monthly_base = forms.CharField(label=_("Monthly base"), max_length=VALUE_LENGTH)
    employer_rate = forms.CharField(label=_("Employer rate"), max_length=VALUE_LENGTH)
    credited_rate = forms.CharField(label=_("Rate credited to the personal account"), max_length=VALUE_LENGTH)
    individual_rate = forms.CharField(label=_("Individual rate"), max_length=VALUE_LENGTH)
    credited_amount = forms.CharField(label=_("Credited amount"), max_length=VALUE_LENGTH)
    interest = forms.CharField(label=_("Interest"), max_length=VALUE_LENGTH)
    year_end_balance = forms.CharField(label=_("Year-end balance"), max_length=VALUE_LENGTH)


class BoundedFormSet(forms.BaseFormSet):
    """A formset that never builds more forms than it accepts. Django builds as many forms as the posted
    TOTAL_FORMS says, up to absolute_max, which defaults to max_num + 1,000: a post claiming 99,999,999,999
    rows built 1,100 forms before saying no. Here absolute_max is max_num, and the refusal says the limit."""

    default_error_messages = {
        **forms.BaseFormSet.default_error_messages,
        "too_many_forms": _("A table has at most %(num)d rows; this one was sent with more."),
    }


def bounded_formset_factory(form, *, max_num, **kwargs):
    """Every formset of the portal: at most `max_num` forms are built, and a post with more is refused."""
    return forms.formset_factory(
        form, formset=BoundedFormSet, max_num=max_num, absolute_max=max_num, validate_max=True, **kwargs
    )


ContributionRowFormSet = bounded_formset_factory(ContributionRowForm, extra=1, max_num=CONTRIBUTION_ROWS)


class MaterialForm(forms.Form):
    kind = forms.ChoiceField(label=_("Which material"), choices=MaterialKind.choices)
    file = forms.FileField(label=_("File (PDF, JPEG or PNG, at most 10 MB)"))

    def clean_file(self):
        content, content_type = check_upload(self.cleaned_data["file"])
        self.content, self.content_type = content, content_type
        return self.cleaned_data["file"]
