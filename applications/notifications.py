"""Telling people what happened: in-app notifications at each step, and e-mails sent after commit in
each recipient's language (agency correspondence in Chinese first)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from agencies.models import AgencyStaff
from applications import workflow
from applications.models import Notification

PARTY_AGENCY_ROLE = {
    workflow.Party.IN_CLERK: ("in", AgencyStaff.Role.CLERK),
    workflow.Party.IN_REVIEWER: ("in", AgencyStaff.Role.REVIEWER),
    workflow.Party.OUT_CLERK: ("out", AgencyStaff.Role.CLERK),
    workflow.Party.OUT_REVIEWER: ("out", AgencyStaff.Role.REVIEWER),
}


def holding_agency(case):
    side_role = PARTY_AGENCY_ROLE.get(workflow.HOLDER.get(case.state))
    if side_role is None:
        return None
    return case.transfer_in_agency if side_role[0] == "in" else case.transfer_out_agency


def recipients(case, actor):
    """The applicant (the person, and the HR user who filed), and the staff who must act next; not the actor."""
    users = {case.person.user_id, case.filed_by_id} - {None}
    side_role = PARTY_AGENCY_ROLE.get(workflow.HOLDER.get(case.state))
    if side_role is not None:
        agency = holding_agency(case)
        users |= set(
            AgencyStaff.objects.filter(agency=agency, role=side_role[1]).values_list("user_id", flat=True)
        )
    users.discard(getattr(actor, "pk", None))
    return users


def record(case, action, actor):
    """Called by the workflow service inside its transaction."""
    from applications.tasks import send_notification_emails

    created = Notification.objects.bulk_create(
        [Notification(user_id=user_id, application=case, action=action, to_state=case.state)
         for user_id in sorted(recipients(case, actor))]
    )  # fmt: skip
    ids = [n.pk for n in created]
    if ids:
        transaction.on_commit(lambda: send_notification_emails.delay(ids), robust=True)


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
            holder = workflow.holder_of(case)
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
    staff = get_user_model().objects.filter(agency_roles__agency=agency).exclude(email="").distinct()
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
