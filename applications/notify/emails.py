"""The e-mails: one per notification in the recipient's language, and the overdue notice to the staff of
the agency holding a case (agency correspondence in Chinese unless a staff member chose English)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from agencies.models import AgencyStaff
from applications import workflow
from applications.models import Notification
from applications.parties import holder_of, holding_agency


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


def email_notifications(ids):
    notifications = Notification.objects.filter(pk__in=ids).select_related(
        "user__profile", "application__transfer_in_agency", "application__transfer_out_agency"
    )
    sent = 0
    for notification in notifications:
        if not notification.user.email:
            continue
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
        sent += send_mail(subject, "\n".join(lines), settings.DEFAULT_FROM_EMAIL, [notification.user.email])
    return sent


def email_overdue(case):
    agency = holding_agency(case)
    if agency is None:
        return 0
    # One filter(), so that the three conditions hold for the same membership; administrators work no cases.
    staff = (
        get_user_model()
        .objects.filter(
            agency_roles__agency=agency,
            agency_roles__active=True,
            agency_roles__role__in=AgencyStaff.CASE_ROLES,
        )
        .exclude(email="")
        .distinct()
    )
    sent = 0
    for user in staff.select_related("profile"):
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
        sent += send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    return sent
