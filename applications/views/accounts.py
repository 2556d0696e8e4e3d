"""Accounts: sign-up, login, password reset by e-mail, the profile page, e-mail confirmation, agency
staff invitations, and the idle-session poll."""

from axes.helpers import get_client_ip_address
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.db import IntegrityError, transaction
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from applications.cases import audit
from applications.models import InsuredPerson, UserProfile
from applications.people import backup_codes, language, mail, sessions, throttle, tokens
from applications.people.account_forms import EmailChangeForm, LoginForm, PortalPasswordResetForm, ProfileForm
from applications.people.forms import SignUpForm
from applications.people.second_factor import is_agency_staff
from applications.people.staff import accept_invitation

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@sensitive_post_parameters("password1", "password2")
def signup(request):
    """Sign-up for insured persons: the account and the person record are created together or not at all;
    the e-mail address is confirmed by a link before it is used."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = form.save()
                mail.confirm_address(user, form.cleaned_data["email"])
        except IntegrityError:
            return render(request, "registration/signup.html", {"form": form})
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, _("Your account has been created. Your user name is your document number."))
        messages.info(
            request,
            _("We sent a link to %(address)s: open it to confirm your e-mail address.")
            % {"address": form.cleaned_data["email"]},
        )
        return redirect("home")
    return render(request, "registration/signup.html", {"form": form})


class PortalLoginView(auth_views.LoginView):
    form_class = LoginForm

    def get(self, request, *args, **kwargs):
        minutes = request.session.pop(sessions.IDLE_ENDED_KEY, None)
        if minutes:
            messages.info(
                request,
                _("You were signed out after %(minutes)s minutes without activity. Please log in again.")
                % {"minutes": minutes},
            )
        return super().get(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        # "Keep me signed in" is never for agency staff, whatever the box said.
        if form.cleaned_data.get("remember") and not is_agency_staff(self.request):
            self.request.session[sessions.REMEMBER_KEY] = True
        sessions.touch(self.request)
        return response


class PortalPasswordResetView(auth_views.PasswordResetView):
    """Django's view: the same answer whether or not an account has the address. Limits: per client
    address (said on the page, it is the asker's own), per typed address and per account (silent)."""

    form_class = PortalPasswordResetForm
    success_url = reverse_lazy("password_reset_done")
    email_template_name = "registration/password_reset_email.txt"
    subject_template_name = "registration/password_reset_subject.txt"

    @property
    def extra_email_context(self):
        # Links point at the portal's configured address, as every other e-mail's do.
        return {"base_url": settings.PORTAL_BASE_URL, "minutes": settings.PASSWORD_RESET_TIMEOUT // 60}

    def form_valid(self, form):
        window = settings.PASSWORD_RESET_LIMIT_WINDOW
        # The same client address as login throttling (django-ipware, TRUSTED_PROXY_COUNT).
        address = get_client_ip_address(self.request) or "unknown"
        if not throttle.within_limit(
            "reset-address", address, settings.PASSWORD_RESET_LIMIT_PER_ADDRESS, window
        ):
            form.add_error(
                None,
                _("Too many reset requests came from your network. Please try again in %(minutes)s minutes.")
                % {"minutes": window // 60},
            )
            response = self.form_invalid(form)
            response.status_code = 429
            return response
        typed = form.cleaned_data["email"]
        if not throttle.within_limit("reset-email", typed, settings.PASSWORD_RESET_LIMIT_PER_ACCOUNT, window):
            # The same answer as a mail sent: nothing says whether the address has an account.
            return redirect(self.get_success_url())
        return super().form_valid(form)


class PortalPasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    success_url = reverse_lazy("password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.user
        ended = sessions.end_sessions(user)
        audit.password_reset(user, sessions_ended=ended)
        return response


def details_of(user, data=None):
    """The person record (insured persons), the profile (made on the first valid save only: a look at
    the page or a refused form writes nothing) and the details form."""
    person = InsuredPerson.objects.filter(user=user).first()
    account = UserProfile.objects.filter(user=user).first() or UserProfile(
        user=user, language=language.current_language()
    )
    initial = {
        "name": person.name if person else user.first_name,
        "phone": person.phone if person else account.phone,
        "language": account.language,
    }
    return person, account, ProfileForm(data, initial=initial, name_fixed=bool(person))


@login_required
def profile(request):
    user = request.user
    person, account, form = details_of(user, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with transaction.atomic():
            if person:
                person.phone = data["phone"]
                person.save(update_fields=["phone"])
            else:
                user.first_name = data["name"]
                user.save(update_fields=["first_name"])
                account.phone = data["phone"]
            account.language = data["language"]
            account.save()
        language.remember(request, data["language"])
        translation.activate(data["language"])
        messages.success(request, _("Your profile has been saved."))
        return redirect("profile")
    return render(request, "registration/profile.html", profile_context(request, form, EmailChangeForm(user)))


def profile_context(request, form, email_form):
    user = request.user
    account = UserProfile.objects.filter(user=user).first()
    return {
        "form": form,
        "email_form": email_form,
        "pending_email": account.pending_email if account else "",
        "other_sessions": sessions.open_sessions(user, exclude=request.session.session_key),
        "agency_staff": is_agency_staff(request),
        "backup_codes_left": backup_codes.codes_left(user),
    }


@login_required
@require_POST
@sensitive_post_parameters("password")
def change_email(request):
    user = request.user
    form = EmailChangeForm(user, request.POST)
    if not form.is_valid():
        _person, _account, details = details_of(user)
        return render(request, "registration/profile.html", profile_context(request, details, form))
    address = form.cleaned_data["email"]
    with transaction.atomic():
        UserProfile.objects.update_or_create(
            user=user,
            defaults={"pending_email": address},
            create_defaults={"pending_email": address, "language": language.current_language()},
        )
        audit.email_change_requested(user, had_email=bool(user.email))
        mail.confirm_address(user, address)
        if user.email:
            mail.address_changing(user, user.email, address)
    messages.info(
        request,
        _("We sent a link to %(address)s. Your e-mail address changes once you open it.")
        % {"address": address},
    )
    return redirect("profile")


@login_required
@require_POST
def end_other_sessions(request):
    ended = sessions.end_sessions(request.user, keep=request.session.session_key)
    audit.other_sessions_ended(request.user, sessions_ended=ended)
    messages.success(
        request, _("You are signed out everywhere else (%(count)s sessions).") % {"count": ended}
    )
    return redirect("profile")


def confirm_email(request, token):
    """GET shows what the link confirms; POST confirms (mail scanners that open links change nothing)."""
    try:
        user, address = tokens.read_email_confirmation(token)
    except tokens.BadLink as bad:
        return bad_link(request, expired=bad.expired, what="email")
    account = UserProfile.objects.filter(user=user).first()
    if account is None or account.pending_email.lower() != address.lower():
        if user.email.lower() == address.lower():
            return bad_link(request, what="email", used=True)
        return bad_link(request, what="email")
    if request.method == "POST":
        with transaction.atomic():
            user.email = address
            user.save(update_fields=["email"])
            account.pending_email = ""
            account.save(update_fields=["pending_email"])
            audit.email_confirmed(user)
        messages.success(request, _("Your e-mail address %(address)s is confirmed.") % {"address": address})
        return redirect("profile" if request.user == user else "home")
    return render(
        request, "registration/confirm_email.html", {"address": address, "login": user.get_username()}
    )


BAD_LINK_MESSAGES = {
    "email": {
        "bad": gettext_lazy("This confirmation link is not valid. Ask for a new one on your profile page."),
        "expired": gettext_lazy(
            "This confirmation link has expired. Ask for a new one on your profile page."
        ),
        "used": gettext_lazy("This e-mail address is already confirmed; the link cannot be used again."),
    },
    "invitation": {
        "bad": gettext_lazy(
            "This invitation link is not valid or has been used already. Ask your agency's administrator for "
            "a new invitation."
        ),
        "expired": gettext_lazy(
            "This invitation has expired. Ask your agency's administrator for a new invitation."
        ),
    },
}


def bad_link(request, *, what, expired=False, used=False):
    key = "used" if used else "expired" if expired else "bad"
    return render(
        request, "registration/bad_link.html", {"message": BAD_LINK_MESSAGES[what][key]}, status=400
    )


@sensitive_post_parameters("new_password1", "new_password2")
def invitation(request, token):
    """An agency staff invitation: choose a password, then set up the second factor."""
    try:
        user = tokens.read_invitation(token)
    except tokens.BadLink as bad:
        return bad_link(request, expired=bad.expired, what="invitation")
    if request.user.is_authenticated and request.user != user:
        return render(
            request,
            "registration/bad_link.html",
            {
                "message": _(
                    "You are logged in as %(current)s. This invitation is for another account: log out first, "
                    "then open the link again."
                )
                % {"current": request.user.get_username()},
                "log_out": True,
            },
            status=409,
        )
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        accept_invitation(user, form.cleaned_data["new_password1"])
        login(request, user, backend=MODEL_BACKEND)
        sessions.touch(request)
        messages.success(request, _("Your password is set. Now set up the second factor."))
        return redirect(f"{reverse('otp')}?next={reverse('home')}")
    return render(request, "registration/invitation.html", {"form": form, "invited": user})


def session_status(request):
    """The idle-session timer (htmx): GET tells how long is left without counting as use; POST ("stay
    signed in") counts as use (the middleware has just marked it)."""
    if not request.user.is_authenticated:
        return render(request, "_session_timer.html", {"ended": True})
    if request.method == "POST":
        sessions.touch(request)
        if request.headers.get("HX-Request") != "true":
            return redirect("home")
    return render(request, "_session_timer.html", sessions.timer_context(request))
