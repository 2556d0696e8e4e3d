"""Signed links sent by e-mail: confirming an address, and an agency staff invitation.

Both are signed with SECRET_KEY (django.core.signing) with a salt of their own and a maximum age. They
work once: a confirmation carries the address it confirms (used once, it is no longer pending), an
invitation a digest of the account's password field (setting the password, or a new invitation, which
sets a new unusable one, changes it).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

EMAIL_SALT = "portal.email-confirmation"
INVITATION_SALT = "portal.staff-invitation"


class BadLink(Exception):
    """Wrong, expired or already used."""

    def __init__(self, expired=False):
        super().__init__("expired" if expired else "bad")
        self.expired = expired


def _load(token, salt, max_age):
    try:
        return signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise BadLink(expired=True) from None
    except signing.BadSignature:
        raise BadLink() from None


def email_confirmation_token(user, email) -> str:
    return signing.dumps({"u": user.pk, "e": email}, salt=EMAIL_SALT)


def read_email_confirmation(token):
    """(user, address) the link confirms; BadLink if wrong or expired."""
    data = _load(token, EMAIL_SALT, settings.EMAIL_CONFIRMATION_TIMEOUT)
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or not isinstance(data.get("e"), str):
        raise BadLink()
    return user, data["e"]


def _password_digest(user) -> str:
    return salted_hmac(INVITATION_SALT, user.password).hexdigest()[:24]


def invitation_token(user) -> str:
    return signing.dumps({"u": user.pk, "p": _password_digest(user)}, salt=INVITATION_SALT)


def read_invitation(token):
    """The invited user, while the invitation is unused and in time; BadLink otherwise."""
    data = _load(token, INVITATION_SALT, settings.STAFF_INVITATION_TIMEOUT)
    user = get_user_model().objects.filter(pk=data.get("u"), is_active=True).first()
    if (
        user is None
        or user.has_usable_password()
        or not constant_time_compare(str(data.get("p", "")), _password_digest(user))
    ):
        raise BadLink()
    return user
