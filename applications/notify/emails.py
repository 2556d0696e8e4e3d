"""The e-mails' words: one per notification in the recipient's language, and the overdue notice to the
staff of the agency holding a case (agency correspondence in Chinese unless a staff member chose English).
They are written when the event happens and kept in the outbox (applications/notify/outbox.py), which
sends them."""

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from applications.cases import workflow
from applications.cases.parties import holder_of


def message(notification):
    """The notification's sentence in the active language."""
    return _("%(reference)s: %(action)s. Now: %(state)s.") % {
        "reference": notification.application.reference,
        "action": workflow.ACTION_LABELS.get(notification.action, notification.action),
        "state": notification.application.get_state_display(),
    }


def language_of(user):
    profile = getattr(user, "profile", None)
    return profile.language if profile else settings.LANGUAGE_CODE


def notification_email(notification) -> tuple[str, str]:
    """(subject, text) of a notification's e-mail, in its recipient's language."""
    case = notification.application
    with translation.override(language_of(notification.user)):
        subject = _("Social insurance transfer %(reference)s") % {"reference": case.reference}
        lines = [message(notification)]
        holder = holder_of(case)
        if holder:
            lines.append(_("Held by: %(holder)s") % {"holder": holder})
        if case.due_date:
            lines.append(_("Due by: %(date)s") % {"date": f"{case.due_date:%Y-%m-%d}"})
        lines.append(settings.PORTAL_BASE_URL + reverse("case_detail", args=[case.reference]))
    return subject, "\n".join(lines)


def overdue_email(case, agency, user) -> tuple[str, str]:
    """(subject, text) of the overdue notice to one member of the staff of the agency holding the case."""
    with translation.override(language_of(user)):
        subject = _("Overdue case %(reference)s") % {"reference": case.reference}
        body = _(
            "Case %(reference)s (%(state)s) was due on %(due)s and is waiting for %(agency)s. Please act on it."
        ) % {
            "reference": case.reference,
            "state": case.get_state_display(),
            "due": f"{case.due_date:%Y-%m-%d}",
            "agency": agency.name,
        }
    return subject, body
