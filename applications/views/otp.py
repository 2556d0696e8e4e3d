"""The second factor of agency staff: set up an authenticator app once, then enter its code at each login."""

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("6-digit code from your authenticator app"), max_length=6, min_length=6,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )  # fmt: skip


@login_required
def second_factor(request):
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    setting_up = device is None
    if setting_up:
        # One unconfirmed device per user, kept until its first code confirms it.
        device, _created = TOTPDevice.objects.get_or_create(
            user=request.user, confirmed=False, defaults={"name": "authenticator"}
        )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            if setting_up:
                device.confirmed = True
                device.save(update_fields=["confirmed"])
            otp_login(request, device)
            target = request.GET.get("next", "")
            if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
                target = "home"
            return redirect(target)
        form.add_error("token", _("The code is not correct or has expired; enter the current code."))
    context = {"form": form, "setting_up": setting_up}
    if setting_up:
        context["secret"] = device.key
        context["qr_svg"] = segno.make(device.config_url, error="m").svg_data_uri(scale=4)
    return render(request, "otp/second_factor.html", context)
