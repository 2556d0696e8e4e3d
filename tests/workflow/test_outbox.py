"""The e-mail outbox: every notification e-mail and overdue notice is a row written in the transaction of
the step, sent by a task that marks each one sent, swept when no task sent it, and never sent twice.

The real worker, broker outage and killed worker are in tests/integration (test_broker_outage_recovery,
test_outbox_worker_killed); here the outbox is driven in-process against the test mail backend."""

import smtplib
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from applications.cases import services
from applications.models import Notification, OutgoingEmail
from applications.notify import outbox
from applications.notify import tasks as notify_tasks
from tests.world import new_case


def with_addresses(*users):
    for user in users:
        user.email = f"{user.username}@example.cn"
        user.save(update_fields=["email"])


@pytest.fixture
def addressed(world):
    with_addresses(world.applicant, world.in_clerk, world.in_clerk_2, world.out_clerk)
    return world


def submitted(world, capture, *, broker_down=False):
    """A case submitted by the applicant, its on-commit callbacks run; with the broker down, the e-mail
    task's dispatch fails as it does when Redis does not answer."""
    case = new_case(world)
    failing = mock.patch.object(
        notify_tasks.send_notification_emails, "delay", side_effect=BrokerDown("Connection refused")
    )
    with (
        failing if broker_down else mock.patch.object(notify_tasks.send_notification_emails, "delay") as delay
    ):
        with capture(execute=True):
            services.advance(case, "submit", world.applicant)
    return case, delay


def test_a_step_writes_its_e_mails_into_the_outbox_in_its_transaction(addressed, delay, mailoutbox):
    world = addressed
    case = new_case(world)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.advance(case, "submit", world.applicant)
        assert OutgoingEmail.objects.filter(application=case).count() >= 2
        raise RuntimeError("the step is rolled back")
    assert not OutgoingEmail.objects.filter(application=case).exists()

    services.advance(case, "submit", world.applicant)
    rows = list(OutgoingEmail.objects.filter(application=case).select_related("notification"))
    notified = Notification.objects.filter(application=case).exclude(user__email="")
    assert sorted(row.notification_id for row in rows) == sorted(n.pk for n in notified)
    assert {row.to for row in rows} == {world.in_clerk.email, world.in_clerk_2.email}
    assert all(row.status == OutgoingEmail.Status.PENDING and row.kind == "notification" for row in rows)
    assert all(case.reference in row.subject for row in rows)
    assert mailoutbox == []  # nothing is sent inside the transaction


def test_e_mails_of_a_step_taken_while_the_broker_is_down_are_sent_by_the_sweep(
    addressed, delay, django_capture_on_commit_callbacks, mailoutbox
):
    case, _delay = submitted(addressed, django_capture_on_commit_callbacks, broker_down=True)
    rows = OutgoingEmail.objects.filter(application=case)
    assert rows.count() >= 2 and not rows.exclude(status=OutgoingEmail.Status.PENDING).exists()
    assert mailoutbox == []

    assert notify_tasks.sweep_outbox.apply().result["sent"] == rows.count()
    assert sorted(m.to[0] for m in mailoutbox) == sorted(rows.values_list("to", flat=True))
    assert not rows.exclude(status=OutgoingEmail.Status.SENT).exists()
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)
    # Sweeping and re-running the task send nothing again.
    assert notify_tasks.sweep_outbox.apply().result["sent"] == 0
    assert (
        notify_tasks.send_notification_emails.apply(args=(list(rows.values_list("pk", flat=True)),)).result[
            "skipped"
        ]
        == rows.count()
    )
    assert len(mailoutbox) == rows.count()


def test_the_task_sends_the_rows_it_was_given(
    addressed, delay, django_capture_on_commit_callbacks, mailoutbox
):
    case, task_delay = submitted(addressed, django_capture_on_commit_callbacks)
    ids = sorted(OutgoingEmail.objects.filter(application=case).values_list("pk", flat=True))
    task_delay.assert_called_once_with(ids)
    notify_tasks.send_notification_emails.apply(args=(ids,))
    assert len(mailoutbox) == len(ids)
    assert {m.extra_headers["Message-ID"] for m in mailoutbox} == {
        outbox.message_id(row) for row in OutgoingEmail.objects.filter(pk__in=ids)
    }


class FlakyBackend(EmailBackend):
    """The test mail backend, refusing the addresses in `refuse` with the given error."""

    refuse: dict = {}

    def send_messages(self, messages):
        for message in messages:
            error = self.refuse.get(message.to[0])
            if error is not None:
                raise error
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.refuse = {}
    yield FlakyBackend.refuse
    FlakyBackend.refuse = {}


def test_a_failure_half_way_leaves_the_sent_ones_sent_and_the_rest_for_later(
    addressed, delay, django_capture_on_commit_callbacks, mailoutbox, flaky
):
    """A retry used to send the whole batch again; now what was sent is never sent again."""
    case, _delay = submitted(addressed, django_capture_on_commit_callbacks)
    rows = list(OutgoingEmail.objects.filter(application=case).order_by("pk"))
    first, second = rows[0], rows[1]
    flaky[second.to] = smtplib.SMTPServerDisconnected("the mail server went away")

    outcome = outbox.send([row.pk for row in rows])
    assert (outcome["sent"], outcome["later"]) == (1, 1)  # stopped at the failure: the server is away
    second.refresh_from_db()
    assert (second.status, second.attempts) == (OutgoingEmail.Status.PENDING, 1)
    assert second.next_attempt_at > timezone.now() + timedelta(seconds=20)  # tried again later
    assert "SMTPServerDisconnected" in second.error
    assert outbox.due() == [row.pk for row in rows[2:]]  # the ones never tried are due now

    del flaky[second.to]
    OutgoingEmail.objects.filter(pk=second.pk).update(next_attempt_at=timezone.now())
    notify_tasks.sweep_outbox.apply()
    assert sorted(m.to[0] for m in mailoutbox) == sorted(row.to for row in rows)  # each once
    assert OutgoingEmail.objects.get(pk=first.pk).attempts == 1


def test_a_permanent_refusal_is_recorded_and_not_tried_again(
    addressed, delay, django_capture_on_commit_callbacks, mailoutbox, flaky
):
    case, _delay = submitted(addressed, django_capture_on_commit_callbacks)
    rows = list(OutgoingEmail.objects.filter(application=case).order_by("pk"))
    flaky[rows[0].to] = smtplib.SMTPRecipientsRefused({rows[0].to: (550, b"no such user")})
    outcome = outbox.send([row.pk for row in rows])
    assert (outcome["failed"], outcome["sent"]) == (1, len(rows) - 1)  # the others are still sent
    refused = OutgoingEmail.objects.get(pk=rows[0].pk)
    assert refused.status == OutgoingEmail.Status.FAILED and "550" in refused.error
    assert rows[0].pk not in outbox.due()
    # A 4xx refusal (greylisting, a full mailbox) is tried again.
    assert not outbox.is_permanent(smtplib.SMTPRecipientsRefused({"a@example.cn": (451, b"later")}))
    assert not outbox.is_permanent(smtplib.SMTPAuthenticationError(535, b"bad password"))
    assert outbox.is_permanent(smtplib.SMTPDataError(554, b"rejected"))


def test_an_e_mail_still_unsent_after_the_last_attempt_is_given_up(addressed, delay, flaky, mailoutbox):
    case = new_case(addressed)
    services.advance(case, "submit", addressed.applicant)
    row = OutgoingEmail.objects.filter(application=case).first()
    OutgoingEmail.objects.filter(pk=row.pk).update(attempts=outbox.MAX_ATTEMPTS - 1)
    flaky[row.to] = OSError("connection refused")
    outbox.send([row.pk])
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutgoingEmail.Status.FAILED, outbox.MAX_ATTEMPTS)


def test_the_overdue_notice_goes_through_the_outbox(addressed, delay, django_capture_on_commit_callbacks):
    world = addressed
    case = new_case(world)
    services.advance(case, "submit", world.applicant)
    case.refresh_from_db()
    today = case.due_date + timedelta(days=1)
    with mock.patch.object(notify_tasks.send_notification_emails, "delay", side_effect=BrokerDown("down")):
        with django_capture_on_commit_callbacks(execute=True):
            assert services.notify_overdue(case, today)
    notices = OutgoingEmail.objects.filter(application=case, kind=OutgoingEmail.Kind.OVERDUE)
    assert set(notices.values_list("to", flat=True)) == {world.in_clerk.email, world.in_clerk_2.email}
    assert all(case.reference in notice.subject for notice in notices)
    mail.outbox = []
    notify_tasks.sweep_outbox.apply()
    sent_ids = [m.extra_headers["Message-ID"] for m in mail.outbox]
    for notice in notices.all():
        assert notice.status == OutgoingEmail.Status.SENT
        assert sent_ids.count(outbox.message_id(notice)) == 1


def test_notifications_queued_by_the_previous_release_are_sent_through_the_outbox(
    addressed, delay, mailoutbox
):
    """A message of the old task (notification ids) still in the queue at the upgrade."""
    case = new_case(addressed)
    services.advance(case, "submit", addressed.applicant)
    notification_ids = list(
        Notification.objects.filter(application=case).exclude(user__email="").values_list("pk", flat=True)
    )
    OutgoingEmail.objects.filter(application=case).delete()  # as if recorded before the outbox existed
    notify_tasks.send_emails_of_notifications.apply(args=(notification_ids,))
    notify_tasks.send_emails_of_notifications.apply(args=(notification_ids,))  # delivered twice
    assert len(mailoutbox) == len(notification_ids)
    assert notify_tasks.send_emails_of_notifications.name == "applications.tasks.send_notification_emails"


def test_mail_settings_bound_every_send():
    assert settings.EMAIL_TIMEOUT and settings.EMAIL_TIMEOUT < settings.CELERY_TASK_SOFT_TIME_LIMIT
    schedule = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["applications.notify.sweep_outbox"] <= 10
    assert schedule["applications.tasks.sweep_stuck_documents"] <= 10


def test_while_the_mail_server_does_not_answer_every_e_mail_waits(addressed, delay, settings):
    """No attempt is used up while the relay is unreachable: the e-mails wait for it, however long."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 2
    case = new_case(addressed)
    services.advance(case, "submit", addressed.applicant)
    ids = list(OutgoingEmail.objects.filter(application=case).values_list("pk", flat=True))
    assert notify_tasks.sweep_outbox.apply().result["sent"] == 0
    assert sorted(outbox.due()) == sorted(ids)
    assert set(OutgoingEmail.objects.filter(pk__in=ids).values_list("attempts", flat=True)) == {0}
