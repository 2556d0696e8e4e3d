"""In-app notifications at each step, recorded inside the workflow service's transaction with their
e-mails in the outbox; a task sends the e-mails once it commits."""

from agencies.models import AgencyStaff
from applications.cases.parties import holding_agency, holding_party
from applications.models import Notification
from applications.notify import outbox, tasks


def recipients(case, actor):
    """The applicant (the person, and the HR user who filed), and the staff who must act next; not the actor."""
    users = {case.person.user_id, case.filed_by_id} - {None}
    party = holding_party(case)
    agency = holding_agency(case)
    if agency is not None:
        users |= set(
            AgencyStaff.objects.filter(agency=agency, role=party.role).values_list("user_id", flat=True)
        )
    users.discard(getattr(actor, "pk", None))
    return users


def record(case, action, actor):
    """Called by the workflow service inside its transaction."""
    created = Notification.objects.bulk_create(
        [Notification(user_id=user_id, application=case, action=action, to_state=case.state)
         for user_id in sorted(recipients(case, actor))]
    )  # fmt: skip
    tasks.send_after_commit(outbox.record_notification_emails(created))
