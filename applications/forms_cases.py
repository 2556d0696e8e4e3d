"""Forms of the case pages: filing an application, and the data each workflow action needs."""

from django import forms
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency, Region, Scheme
from applications.forms import RegionChoiceField

AMOUNT = {"max_digits": 14, "decimal_places": 2, "min_value": 0}

ACTION_FIELDS = {
    "reason": lambda: forms.CharField(
        label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    ),
    "legal_basis": lambda: forms.CharField(
        label=_("Legal basis"), max_length=200, help_text=_("For example: 国办发〔2009〕66号 第五条")
    ),
    "personal_account_amount": lambda: forms.DecimalField(
        label=_("Personal account amount (yuan)"), **AMOUNT
    ),
    "pooled_fund_amount": lambda: forms.DecimalField(
        label=_("Pooled fund amount (yuan)"),
        required=False,
        **AMOUNT,
        help_text=_("Pension only: 12% of the contribution wages since 1998."),
    ),
    "remittance_reference": lambda: forms.CharField(
        label=_("Remittance reference"), max_length=40, required=False
    ),
    "received_amount": lambda: forms.DecimalField(label=_("Amount received (yuan)"), **AMOUNT),
}


def action_form(transition, case, data=None):
    """The form for one transition: its fields, plus the state the user saw (to detect a case that moved on)."""
    form = forms.Form(data)
    for name in transition.fields:
        if name == "pooled_fund_amount" and case.scheme != Scheme.PENSION:
            continue
        form.fields[name] = ACTION_FIELDS[name]()
    form.fields["expected_state"] = forms.CharField(widget=forms.HiddenInput, initial=case.state)
    return form


def prefecture_choices():
    return Region.objects.filter(agency__isnull=False).distinct().select_related("parent").order_by("code")


class FilingForm(forms.Form):
    """Filing a transfer (step 1): the schemes, the old and the new place."""

    schemes = forms.MultipleChoiceField(
        label=_("What to transfer"),
        choices=Scheme.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose pension, medical insurance, or both.")},
    )
    transfer_out_region = RegionChoiceField(
        label=_("Old place (transfer-out)"), queryset=Region.objects.none()
    )
    transfer_in_region = RegionChoiceField(label=_("New place (transfer-in)"), queryset=Region.objects.none())
    old_person_number = forms.CharField(
        label=_("Personal number at the old place"), max_length=30, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["transfer_out_region"].queryset = prefecture_choices()
        self.fields["transfer_in_region"].queryset = prefecture_choices()

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
