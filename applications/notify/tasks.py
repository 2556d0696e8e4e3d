"""The e-mail tasks: sending outbox rows after commit, and the sweep that sends what no task did (the
broker was down at commit, a worker died, a mail server was away). Both only send through the outbox
(applications/notify/outbox.py), which never sends one twice. Nothing of the workflow is imported here,
so that the workflow service can queue the tasks without an import circle."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from applications.notify import outbox

# The database was briefly unreachable: the whole task is tried again (what was sent stays sent). Mail
# server errors are handled per e-mail by the outbox, never by retrying the batch.
TRANSIENT_DATABASE_ERRORS = (OperationalError, InterfaceError)
RETRIES = {
    "autoretry_for": TRANSIENT_DATABASE_ERRORS,
    "max_retries": 5,
    "retry_backoff": 5,
    "retry_backoff_max": 120,
}


@shared_task(name="applications.notify.send_outgoing_emails", **RETRIES)
def send_notification_emails(email_ids):
    """Send these outbox rows (ids of OutgoingEmail)."""
    return outbox.send(email_ids)


@shared_task(name="applications.notify.sweep_outbox", **RETRIES)
def sweep_outbox():
    """Send every pending e-mail that is due (beat runs this every few seconds)."""
    return outbox.send(outbox.due())


# The name and argument of the task before the outbox (notification ids), so that messages the previous
# release queued are still understood: their e-mails go through the outbox too.
@shared_task(name="applications.tasks.send_notification_emails", **RETRIES)
def send_emails_of_notifications(notification_ids):
    return outbox.send(outbox.for_notifications(notification_ids))


def send_after_commit(email_ids):
    """Queue the sending once the transaction that recorded the e-mails commits. Robust: if the broker is
    down, the e-mails wait in the outbox for the sweep."""
    if email_ids:
        transaction.on_commit(lambda: send_notification_emails.delay(email_ids), robust=True)
