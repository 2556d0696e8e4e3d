"""The e-mail outbox (发件箱): every e-mail is a row in PostgreSQL before anything is sent.

- Recorded in the transaction of what it tells (a step of the workflow, an overdue flag): if the broker is
  down when that commits, the e-mail is still there, and the sweep (beat, every few seconds) sends it.
- Sent one at a time, each in its own transaction with its row locked (`SELECT … FOR UPDATE SKIP LOCKED`)
  and marked sent before that transaction commits: a second worker, a retried task or the sweep skip a
  row another is sending and never pick one already sent. A batch that stops half-way (a worker killed, a
  mail server gone) leaves the sent ones sent and the others pending: nothing is sent twice.
- The one window left is the mail server's "250 accepted" and our commit, milliseconds apart: a worker
  killed exactly there sends that one e-mail again. Its Message-ID is the same on both copies, so mail
  clients that de-duplicate by Message-ID show it once.
- While the mail server does not answer at all, every e-mail simply waits (no attempt is used up). A
  failure while sending one (timed out, disconnected, 4xx) is tried again later with a growing delay; a
  permanent one (5xx for this message or recipient) is recorded as failed, as is an e-mail still unsent
  after MAX_ATTEMPTS.
"""

import logging
import smtplib
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from agencies.models import AgencyStaff
from applications.models import Notification, OutgoingEmail
from applications.notify import emails

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
FIRST_DELAY_SECONDS = 30
LONGEST_DELAY_SECONDS = 3600
SWEEP_BATCH = 200

SENT, SKIPPED, FAILED, LATER = "sent", "skipped", "failed", "later"


def record_notification_emails(notifications) -> list[int]:
    """Outbox rows for the notifications whose recipient has an address; called inside the workflow
    service's transaction. Returns their ids."""
    ids = [n.pk for n in notifications]
    notifications = Notification.objects.filter(pk__in=ids).select_related(
        "user__profile", "application__transfer_in_agency", "application__transfer_out_agency"
    )
    rows = []
    for notification in notifications:
        if not notification.user.email:
            continue
        subject, body = emails.notification_email(notification)
        rows.append(
            OutgoingEmail(
                kind=OutgoingEmail.Kind.NOTIFICATION,
                notification=notification,
                application=notification.application,
                user=notification.user,
                to=notification.user.email,
                subject=subject[:200],
                body=body,
            )
        )
    return [row.pk for row in OutgoingEmail.objects.bulk_create(rows)]


def record_overdue_emails(case, agency) -> list[int]:
    """Outbox rows for the overdue notice to each staff member of the agency holding the case."""
    staff = (
        get_user_model()
        # One filter(), so that the three conditions hold for the same membership; administrators work no
        # cases, and a deactivated member gets no mail.
        .objects.filter(
            agency_roles__agency=agency,
            agency_roles__active=True,
            agency_roles__role__in=AgencyStaff.CASE_ROLES,
        )
        .exclude(email="")
        .distinct()
        .select_related("profile")
    )
    rows = []
    for user in staff:
        subject, body = emails.overdue_email(case, agency, user)
        rows.append(
            OutgoingEmail(
                kind=OutgoingEmail.Kind.OVERDUE,
                application=case,
                user=user,
                to=user.email,
                subject=subject[:200],
                body=body,
            )
        )
    return [row.pk for row in OutgoingEmail.objects.bulk_create(rows)]


def for_notifications(notification_ids) -> list[int]:
    """The outbox rows of these notifications, made now for those that have none (notifications recorded
    before the outbox existed, whose e-mail task was still queued at the upgrade)."""
    missing = Notification.objects.filter(pk__in=notification_ids, email__isnull=True)
    with transaction.atomic():
        record_notification_emails(list(missing))
    return list(
        OutgoingEmail.objects.filter(notification_id__in=notification_ids).values_list("pk", flat=True)
    )


def due() -> list[int]:
    """Pending e-mails whose (next) attempt is due, oldest first."""
    return list(
        OutgoingEmail.objects.filter(status=OutgoingEmail.Status.PENDING, next_attempt_at__lte=timezone.now())
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )


def send(ids) -> dict[str, int]:
    """Send these e-mails, one transaction each, over one connection to the mail server. Stops at the first
    transient failure: the server is down or refusing for now, and the rest would only wait for its
    timeout (EMAIL_TIMEOUT) one after another. Returns how many were sent, skipped (sent or being sent by
    someone else), failed for good, or left for later."""
    outcomes = dict.fromkeys((SENT, SKIPPED, FAILED, LATER), 0)
    if not ids:
        return outcomes
    connection = get_connection(fail_silently=False)
    try:
        # One session for the batch (Django's backend would otherwise open and close one per message).
        connection.open()
    except (smtplib.SMTPException, OSError) as error:
        logger.warning("the mail server does not answer, %s e-mails wait: %s", len(ids), error)
        return outcomes
    try:
        for pk in ids:
            outcome = send_one(pk, connection)
            outcomes[outcome] += 1
            if outcome == LATER:
                break
    finally:
        try:
            connection.close()
        except Exception:  # closing a broken connection must not hide what happened before
            logger.warning("closing the mail connection failed", exc_info=True)
    return outcomes


def send_one(pk, connection) -> str:
    with transaction.atomic():
        email = (
            OutgoingEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status=OutgoingEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return SKIPPED
        email.attempts += 1
        try:
            message_of(email, connection).send()
        except (smtplib.SMTPException, OSError, ValueError) as error:
            outcome = _failed(email, error)
        else:
            email.status = OutgoingEmail.Status.SENT
            email.sent_at = timezone.now()
            email.error = ""
            outcome = SENT
        email.save(update_fields=["status", "attempts", "next_attempt_at", "error", "sent_at"])
    return outcome


def message_of(email, connection):
    return EmailMessage(
        email.subject,
        email.body,
        settings.DEFAULT_FROM_EMAIL,
        [email.to],
        connection=connection,
        headers={"Message-ID": message_id(email)},
    )


def message_id(email) -> str:
    """The same on every copy of this e-mail (RFC 5322 section 3.6.4)."""
    domain = urlsplit(settings.PORTAL_BASE_URL).hostname or "transfer-portal.invalid"
    return f"<outbox.{email.pk}.{email.created_at:%Y%m%d%H%M%S}@{domain}>"


def is_permanent(error) -> bool:
    """A refusal of this message or recipient (5xx), which no retry will change. A refused sender, failed
    authentication and the like are the server's or our configuration's problem: tried again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _text in error.recipients.values())
    if isinstance(error, smtplib.SMTPDataError):
        return error.smtp_code >= 500
    if isinstance(error, smtplib.SMTPException | OSError):
        return False
    return isinstance(error, ValueError)  # a header that cannot be written (BadHeaderError)


def _failed(email, error) -> str:
    email.error = f"{type(error).__name__}: {error}"[:2000]
    if is_permanent(error) or email.attempts >= MAX_ATTEMPTS:
        logger.error("e-mail %s could not be sent: %s", email.pk, email.error)
        email.status = OutgoingEmail.Status.FAILED
        return FAILED
    delay = min(FIRST_DELAY_SECONDS * 2 ** (email.attempts - 1), LONGEST_DELAY_SECONDS)
    email.next_attempt_at = timezone.now() + timedelta(seconds=delay)
    logger.warning("e-mail %s not sent, trying again in %s s: %s", email.pk, delay, email.error)
    return LATER
