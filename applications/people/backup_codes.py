"""Backup codes of the second factor: ten single-use codes (django-otp's static device), for a phone
that is lost, broken or throttled after wrong codes. They are a device of their own, so wrong
authenticator codes do not throttle them, and the reverse."""

import re

from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from applications.cases import audit
from applications.people import mail

COUNT = 10
DEVICE_NAME = "backup codes"
# What users type: letters and digits, perhaps with the spaces or hyphens the page groups them with.
CODE_SHAPE = re.compile(r"^[a-z2-7]{8}$")


def normalise(text: str) -> str:
    return re.sub(r"[\s-]", "", text or "").lower()


def looks_like_backup_code(text: str) -> bool:
    return bool(CODE_SHAPE.match(normalise(text)))


def device_of(user):
    return StaticDevice.objects.filter(user=user, name=DEVICE_NAME, confirmed=True).first()


def codes_left(user) -> int:
    return StaticToken.objects.filter(device__user=user, device__name=DEVICE_NAME).count()


def make(user) -> list[str]:
    """Ten new codes; the earlier ones stop working."""
    with transaction.atomic():
        device, _created = StaticDevice.objects.get_or_create(
            user=user, name=DEVICE_NAME, defaults={"confirmed": True}
        )
        device.token_set.all().delete()
        codes = [StaticToken.random_token() for _ in range(COUNT)]
        StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
        audit.backup_codes_made(user, count=COUNT)
    return codes


def shown(code: str) -> str:
    """A code as the page prints it: two groups of four."""
    return f"{code[:4]}-{code[4:]}"


def use(user, text):
    """(device, None) when `text` is one of the user's unused codes, which is then used up; (None, why)
    otherwise, why being 'throttled' (with the time it ends) or 'wrong'. Deleting the row is the
    test, so two requests with the same code cannot both succeed."""
    device = device_of(user)
    if device is None:
        return None, ("wrong", None)
    allowed, info = device.verify_is_allowed()
    if not allowed:
        return None, ("throttled", (info or {}).get("locked_until"))
    with transaction.atomic():
        deleted, _rows = StaticToken.objects.filter(device=device, token=normalise(text)).delete()
        if not deleted:
            device.throttle_increment()
            return None, ("wrong", None)
        device.throttle_reset(commit=False)
        device.set_last_used_timestamp(commit=False)
        device.save()
        left = device.token_set.count()
        audit.backup_code_used(user, left=left)
        mail.backup_code_used(user, left)
    return device, None
