"""The account e-mails, each in the recipient's language: confirm an address, an address is being
changed (to the old one), a backup code was used, an invitation to an agency's staff.

They are sent from the request, as Django's own password reset mail is, once the transaction commits.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from applications.people import tokens


def language_of(user):
    profile = getattr(user, "profile", None)
    return getattr(profile, "language", None) or settings.LANGUAGE_CODE


def _send(user, address, subject_and_body):
    def send():
        with translation.override(language_of(user)):
            subject, body = subject_and_body()
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [address])

    transaction.on_commit(send)


def link(path):
    return settings.PORTAL_BASE_URL + path


def confirm_address(user, address):
    url = link(reverse("confirm_email", args=[tokens.email_confirmation_token(user, address)]))
    days = settings.EMAIL_CONFIRMATION_TIMEOUT // 86_400

    def text():
        return _("Confirm your e-mail address"), _(
            "Please confirm that %(address)s is the e-mail address of your account %(login)s on the social "
            "insurance transfer portal. Open this link within %(days)s days:\n\n%(url)s\n\nIf you did not "
            "ask for this, ignore this e-mail: nothing changes."
        ) % {"address": address, "login": user.get_username(), "days": days, "url": url}

    _send(user, address, text)


def address_changing(user, old_address, new_address):
    def text():
        return _("Your e-mail address is being changed"), _(
            "Someone logged in to your account %(login)s asked to change its e-mail address to "
            "%(new)s. The change takes effect once the new address is confirmed. If this was not you, "
            "change your password now and tell your agency."
        ) % {"login": user.get_username(), "new": new_address}

    _send(user, old_address, text)


def backup_code_used(user, left):
    if not user.email:
        return

    def text():
        return _("A backup code was used"), _(
            "A backup code was used to log in to your account %(login)s; %(left)s codes are left. If this "
            "was not you, ask your agency's administrator to reset your second factor and change your "
            "password now."
        ) % {"login": user.get_username(), "left": left}

    _send(user, user.email, text)


def invitation(user, address, agency, role_label, invited_by):
    url = link(reverse("accept_invitation", args=[tokens.invitation_token(user)]))
    days = settings.STAFF_INVITATION_TIMEOUT // 86_400

    def text():
        return _("Invitation to the staff of %(agency)s") % {"agency": agency.name}, _(
            "%(admin)s invites you to work as %(role)s of %(agency)s on the social insurance transfer "
            "portal. Your user name is %(login)s. Open this link within %(days)s days to choose your "
            "password and set up the second factor (an authenticator app):\n\n%(url)s\n\nThe link works "
            "once. If you did not expect this, ignore this e-mail."
        ) % {
            "admin": invited_by.get_full_name() or invited_by.get_username(),
            "role": role_label,
            "agency": agency.name,
            "login": user.get_username(),
            "days": days,
            "url": url,
        }

    _send(user, address, text)
