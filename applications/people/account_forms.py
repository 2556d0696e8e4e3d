"""Forms of the account pages: login, password reset, profile, e-mail change, second factor."""

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.validators import RegexValidator
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from agencies.models import AgencyStaff
from applications.cases import audit
from applications.people import throttle
from applications.people.mail import language_of

User = get_user_model()

phone_number = RegexValidator(
    r"^[0-9+\- ]{5,20}$", _("Enter a phone number: digits, with + - or spaces if you like.")
)


class LoginForm(AuthenticationForm):
    remember = forms.BooleanField(
        label=_("Keep me signed in on this device"),
        required=False,
        help_text=_(
            "For insured persons and employers, not on a shared computer. Agency staff are always signed "
            "out when the browser closes or after 30 minutes without activity."
        ),
    )


class PortalPasswordResetForm(PasswordResetForm):
    """Django's reset form, with two differences: the mail is in the account's language, and an account
    gets at most PASSWORD_RESET_LIMIT_PER_ACCOUNT mails per window (more requests get the same answer
    and no mail, so the page says nothing about whether the account exists)."""

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()

    def get_users(self, email):
        for user in super().get_users(email):
            mailed = throttle.within_limit(
                "reset-account",
                str(user.pk),
                settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT,
                settings.PASSWORD_RESET_LIMIT_WINDOW,
            )
            audit.password_reset_requested(user, mailed=mailed)
            if mailed:
                yield user

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        with translation.override(language_of(context["user"])):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False, validators=[phone_number])
    language = forms.ChoiceField(label=_("Language of the portal and of e-mails"), choices=settings.LANGUAGES)

    def __init__(self, *args, name_fixed=False, **kwargs):
        super().__init__(*args, **kwargs)
        if name_fixed:
            # An insured person's name is the one on their identity document and on the official forms.
            self.fields["name"].disabled = True
            self.fields["name"].help_text = _(
                "As on your identity document; the agency corrects it if it is wrong."
            )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter your name."))
        return name


class EmailChangeForm(forms.Form):
    email = forms.EmailField(label=_("New e-mail address"), max_length=254)
    password = forms.CharField(label=_("Your password"), strip=False, widget=forms.PasswordInput)

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if email.lower() == (self.user.email or "").lower():
            raise forms.ValidationError(_("This is already your e-mail address."))
        return email

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct."))
        return password


class SecondFactorForm(forms.Form):
    token = forms.CharField(
        label=_("Code from your authenticator app, or a backup code"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )

    def __init__(self, *args, enrolling=False, **kwargs):
        super().__init__(*args, **kwargs)
        if enrolling:
            self.fields["token"].label = _("6-digit code from your authenticator app")
            self.fields["token"].widget.attrs["inputmode"] = "numeric"

    def clean_token(self):
        return "".join(self.cleaned_data["token"].split())


class InviteForm(forms.Form):
    username = forms.RegexField(
        label=_("User name"),
        max_length=150,
        regex=r"^[a-z0-9._-]{3,150}$",
        error_messages={"invalid": _("Use 3 or more small letters, digits, dots, hyphens or underscores.")},
        help_text=_("For example wang.fang; the new member logs in with it."),
    )
    name = forms.CharField(label=_("Name"), max_length=150)
    email = forms.EmailField(label=_("E-mail address"), max_length=254)
    role = forms.ChoiceField(
        label=_("Role"),
        choices=[(role.value, role.label) for role in (AgencyStaff.Role.CLERK, AgencyStaff.Role.REVIEWER)],
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip().lower()
        if User.objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(_("This user name is taken; choose another."))
        return username

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the member's name."))
        return name


class RoleForm(forms.Form):
    role = InviteForm.base_fields["role"]
