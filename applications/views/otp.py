"""The second factor of agency staff: set up an authenticator app once, then enter its code at each
login, or one of the ten backup codes when the phone is lost or the app's codes are refused for a while
after wrong guesses."""

import base64

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from applications.cases import audit
from applications.people import backup_codes
from applications.people.account_forms import SecondFactorForm

# Codes just made, kept in the session until the member has seen (and perhaps downloaded) them.
NEW_CODES_KEY = "portal_new_backup_codes"


def grouped_key(device) -> str:
    """The key as authenticator apps take it when typed: Base32 (RFC 4648), in groups of four."""
    key = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def safe_next(request, default="home"):
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return reverse(default)
    return target


def locked_until_text(when):
    return timezone.localtime(when).strftime("%H:%M:%S") if when else ""


@login_required
def second_factor(request):
    user = request.user
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    enrolling = device is None
    if enrolling:
        # One unconfirmed device per user, kept until its first code confirms it.
        device, _created = TOTPDevice.objects.get_or_create(
            user=user, confirmed=False, defaults={"name": "authenticator"}
        )
    form = SecondFactorForm(request.POST or None, enrolling=enrolling)
    allowed, info = device.verify_is_allowed()
    locked_until = None if allowed else (info or {}).get("locked_until")
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        if not enrolling and backup_codes.looks_like_backup_code(token):
            return _with_backup_code(request, form, token)
        if token.isdigit() and len(token) == 6 and device.verify_token(token):
            if enrolling:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit.second_factor_enrolled(user)
                otp_login(request, device)
                request.session[NEW_CODES_KEY] = backup_codes.make(user)
                return redirect(f"{reverse('backup_codes')}?next={safe_next(request)}")
            otp_login(request, device)
            return redirect(safe_next(request))
        allowed, info = device.verify_is_allowed()
        locked_until = None if allowed else (info or {}).get("locked_until")
        if locked_until:
            form.add_error("token", _("Codes from your app are refused for now after several wrong codes."))
        else:
            form.add_error("token", _("The code is not correct or has expired; enter the current code."))
    context = {
        "form": form,
        "setting_up": enrolling,
        "locked_until": locked_until_text(locked_until),
        "backup_codes_left": 0 if enrolling else backup_codes.codes_left(user),
    }
    if enrolling:
        context["secret"] = grouped_key(device)
        context["otpauth_uri"] = device.config_url
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
    return render(request, "otp/second_factor.html", context)


def _with_backup_code(request, form, token):
    user = request.user
    device, problem = backup_codes.use(user, token)
    if device is not None:
        otp_login(request, device)
        left = backup_codes.codes_left(user)
        messages.warning(
            request,
            _(
                "You logged in with a backup code; %(left)s are left. Each code works once. Make new ones on "
                "your profile page, or ask your agency's administrator to reset your second factor if your "
                "phone is lost."
            )
            % {"left": left},
        )
        return redirect(safe_next(request))
    why, until = problem
    if why == "throttled":
        form.add_error(
            "token",
            _("Backup codes are refused until %(time)s after several wrong ones.")
            % {"time": locked_until_text(until)},
        )
    else:
        form.add_error("token", _("This backup code is not correct or has been used already."))
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    allowed, info = device.verify_is_allowed() if device else (True, None)
    context = {
        "form": form,
        "setting_up": False,
        "locked_until": "" if allowed else locked_until_text((info or {}).get("locked_until")),
        "backup_codes_left": backup_codes.codes_left(user),
    }
    return render(request, "otp/second_factor.html", context)


def _verified_with_authenticator(request):
    return (
        request.user.is_verified() and TOTPDevice.objects.filter(user=request.user, confirmed=True).exists()
    )


@login_required
def backup_code_page(request):
    """The new codes once, right after they are made; otherwise how many are left and a button for new
    ones. Only for a session that passed the second factor."""
    if not _verified_with_authenticator(request):
        return redirect(f"{reverse('otp')}?next={request.path}")
    codes = request.session.get(NEW_CODES_KEY)
    context = {
        "codes": [backup_codes.shown(code) for code in codes] if codes else None,
        "left": backup_codes.codes_left(request.user),
        "next": safe_next(request, default="profile"),
    }
    return render(request, "otp/backup_codes.html", context)


@login_required
@require_POST
def make_backup_codes(request):
    if not _verified_with_authenticator(request):
        return redirect(f"{reverse('otp')}?next={reverse('backup_codes')}")
    request.session[NEW_CODES_KEY] = backup_codes.make(request.user)
    messages.success(request, _("Ten new backup codes are ready; the earlier ones no longer work."))
    return redirect("backup_codes")


@login_required
def download_backup_codes(request):
    codes = request.session.get(NEW_CODES_KEY) if _verified_with_authenticator(request) else None
    if not codes:
        messages.error(
            request, _("Backup codes are shown only once, when they are made. Make new ones here.")
        )
        return redirect("backup_codes")
    lines = [
        _("Backup codes for %(login)s (social insurance transfer portal)")
        % {"login": request.user.get_username()},
        _("Each code works once. Keep them somewhere safe, away from your phone."),
        "",
        *(backup_codes.shown(code) for code in codes),
        "",
    ]
    response = HttpResponse("\r\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="backup-codes.txt"'
    return response


@login_required
@require_POST
def backup_codes_kept(request):
    """ "I have kept them": the codes are no longer shown or downloadable."""
    request.session.pop(NEW_CODES_KEY, None)
    return redirect(safe_next(request, default="profile"))
