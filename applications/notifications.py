"""E-mails to the people who must act. Sent after commit, in the recipient's language."""

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.translation import gettext as _

from agencies.models import AgencyStaff
from applications import workflow


def holding_agency(case):
    party = workflow.HOLDER.get(case.state)
    if party in (workflow.Party.IN_CLERK, workflow.Party.IN_REVIEWER):
        return case.transfer_in_agency
    if party in (workflow.Party.OUT_CLERK, workflow.Party.OUT_REVIEWER):
        return case.transfer_out_agency
    return None


def email_overdue(case):
    agency = holding_agency(case)
    if agency is None:
        return 0
    recipients = list(
        AgencyStaff.objects.filter(agency=agency)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
        .distinct()
    )
    if not recipients:
        return 0
    # Agency staff work in Chinese; official correspondence is Chinese first.
    with translation.override(settings.LANGUAGE_CODE):
        subject = _("Overdue case %(reference)s") % {"reference": case.reference}
        body = _(
            "Case %(reference)s (%(state)s) was due on %(due)s and is waiting for %(agency)s. Please act on it."
        ) % {
            "reference": case.reference,
            "state": case.get_state_display(),
            "due": f"{case.due_date:%Y-%m-%d}",
            "agency": agency.name,
        }
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
