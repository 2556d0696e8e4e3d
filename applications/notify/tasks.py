"""The e-mail task. It imports the mail writer only, nothing of the workflow, so that the workflow
service can queue it without an import circle."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from applications.notify.emails import email_notifications

# The database or the mail server was briefly unreachable (ConnectionError is an OSError).
TRANSIENT_MAIL_ERRORS = (OperationalError, InterfaceError, OSError)


# The name is the one used before the rooms were made, so that messages queued by the previous release
# are still understood by the new workers.
@shared_task(
    name="applications.tasks.send_notification_emails",
    autoretry_for=TRANSIENT_MAIL_ERRORS,
    max_retries=5,
    retry_backoff=5,
    retry_backoff_max=120,
)
def send_notification_emails(notification_ids):
    return email_notifications(notification_ids)
