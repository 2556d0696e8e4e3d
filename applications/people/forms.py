from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.core.validators import RegexValidator
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from agencies.models import Region
from applications.models import DocumentType, InsuredPerson, UserProfile
from applications.models.people import check_document_number

mobile_phone = RegexValidator(
    r"^1[3-9]\d{9}$", _("Enter an 11-digit mainland mobile number, for example 13800138000.")
)


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.full_name


def hukou_region_choices():
    """Current prefecture-level places (the level at which hukou and agencies are organised)."""
    return (
        Region.objects.filter(current=True, level=Region.Level.PREFECTURE)
        .select_related("parent")
        .order_by("code")
    )


class SignUpForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=60)
    document_type = forms.ChoiceField(
        label=_("Document type"), choices=DocumentType.choices, initial=DocumentType.RESIDENT_ID
    )
    document_number = forms.CharField(
        label=_("Document number"),
        max_length=18,
        help_text=_("Your document number is also your user name."),
    )
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
    hukou_region = RegionChoiceField(label=_("Hukou place"), queryset=Region.objects.none(), required=False)
    phone = forms.CharField(label=_("Mobile phone"), max_length=11, validators=[mobile_phone])
    email = forms.EmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We send a link to confirm it. It is how you get back in if you forget your password."),
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["hukou_region"].queryset = hukou_region_choices()
        self.parsed_id = None

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter your name as it is on your document."))
        return name

    def clean_document_number(self):
        return self.cleaned_data["document_number"].strip()

    def clean(self):
        data = super().clean()
        document_type, number = data.get("document_type"), data.get("document_number")
        if document_type and number:
            try:
                self.parsed_id = check_document_number(document_type, number)
            except forms.ValidationError as error:
                self.add_error("document_number", error)
            else:
                self._check_not_registered(document_type, number, data.get("name"))
        if document_type == DocumentType.RESIDENT_ID:
            if not data.get("hukou_region"):
                self.add_error("hukou_region", _("Choose the place of your household registration."))
        elif document_type:
            for field in ("sex", "birth_date"):
                if not data.get(field):
                    self.add_error(field, _("This document does not say it; please enter it."))
        if data.get("password1") and data.get("password2"):
            if data["password1"] != data["password2"]:
                self.add_error("password2", _("The two passwords differ."))
            else:
                user = get_user_model()(username=number or "", first_name=data.get("name") or "")
                try:
                    password_validation.validate_password(data["password1"], user)
                except forms.ValidationError as error:
                    self.add_error("password1", error)
        return data

    def _check_not_registered(self, document_type, number, name):
        existing = InsuredPerson.objects.filter(document_type=document_type, document_number=number).first()
        if existing is not None and existing.user_id is not None:
            self.add_error("document_number", _("This document number is already registered. Please log in."))
        elif existing is not None and existing.name != name:
            # A record made by an employer: the name must match it before the account is linked.
            self.add_error("name", _("The name does not match the record held for this document number."))
        elif get_user_model().objects.filter(username=number).exists():
            self.add_error("document_number", _("This document number is already registered. Please log in."))

    def save(self):
        data = self.cleaned_data
        try:
            with transaction.atomic():
                user = get_user_model().objects.create_user(
                    username=data["document_number"], password=data["password1"], first_name=data["name"]
                )
                person = (
                    InsuredPerson.objects.select_for_update()
                    .filter(document_type=data["document_type"], document_number=data["document_number"])
                    .first()
                ) or InsuredPerson(
                    document_type=data["document_type"], document_number=data["document_number"]
                )
                if person.user_id is not None:
                    raise IntegrityError("already linked")
                person.user = user
                person.name = data["name"]
                person.phone = data["phone"]
                person.address = data["address"]
                person.hukou_region = data["hukou_region"]
                if self.parsed_id is None:
                    person.sex, person.birth_date = data["sex"], data["birth_date"]
                person.save()
                UserProfile.objects.update_or_create(
                    user=user,
                    defaults={"pending_email": data["email"], "language": translation.get_language()},
                )
        except IntegrityError:
            # Someone registered the same number between our check and our insert.
            self.add_error("document_number", _("This document number is already registered. Please log in."))
            raise
        return user
