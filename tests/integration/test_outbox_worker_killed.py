"""A worker killed in the middle of sending a step's e-mails: the ones the mail server accepted are not
sent again, the one it had not accepted yet is sent once, and so is the rest.

Before the outbox the task sent the whole batch of notification ids; killed after the first e-mail, it was
handed back (acks late, reject on worker lost) and sent the first one again. Now each e-mail is marked sent
in the transaction that sends it.

A real worker and the test's own mail server, which holds the second message's DATA without answering
until the worker's pool child is killed (SIGKILL, the PID taken from the worker's own process tree).
Needs PostgreSQL and Redis: under PORTAL_REQUIRE_SERVICES it fails without them."""

import os
import signal
import time
import uuid

import pytest
from django.contrib.auth import get_user_model

from applications.cases import services
from applications.notify.notifications import recipients
from tests.integration.smtp import MailServer
from tests.world import new_case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def mail_server():
    server = MailServer().start()
    yield server
    server.stop()


def wait(condition, what, worker, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what}\nworker log:\n{worker.tail()}", pytrace=False)


def test_a_worker_killed_mid_send_sends_no_e_mail_twice(world, workers, broker, mail_server, storage):
    for user in (world.in_clerk, world.in_clerk_2, world.in_reviewer, world.applicant):
        user.email = f"{user.username}-{uuid.uuid4().hex[:4]}@example.cn"
        user.save(update_fields=["email"])
    case = new_case(world)
    services.advance(case, "submit", world.applicant)  # no worker yet: the e-mail task waits in the queue
    case.refresh_from_db()
    expected = sorted(
        get_user_model()
        .objects.filter(pk__in=recipients(case, world.applicant))
        .exclude(email="")
        .values_list("email", flat=True)
    )
    assert len(expected) >= 2, expected
    mail_server.hold_message = 2

    worker = workers(env={"EMAIL_URL": mail_server.url})
    wait(mail_server.holding.is_set, "the worker never reached the second e-mail", worker)
    assert len(mail_server.received) == 1
    (child,) = worker.pool_children()
    os.kill(child, signal.SIGKILL)  # in the middle of sending the second e-mail

    # The worker hands the task back and its new child runs it again.
    mail_server.wait_for(len(expected))
    time.sleep(3)  # anything sent twice would arrive now
    assert "WorkerLostError" in worker.output()
    assert mail_server.recipients() == expected  # each exactly once
    assert mail_server.dropped == 1  # the copy the killed child never finished


def test_the_outbox_records_each_e_mail_sent_once(world, workers, broker, mail_server, storage):
    """The same, read from the outbox: every row sent, the interrupted one with one attempt on record
    (the killed attempt was rolled back with its transaction), and a sweep afterwards sends nothing."""
    from applications.models import OutgoingEmail
    from applications.notify import tasks as notify_tasks

    for user in (world.in_clerk, world.in_clerk_2, world.applicant):
        user.email = f"{user.username}-{uuid.uuid4().hex[:4]}@example.cn"
        user.save(update_fields=["email"])
    case = new_case(world)
    services.advance(case, "submit", world.applicant)
    emails = list(OutgoingEmail.objects.filter(application=case).order_by("pk"))
    mail_server.hold_message = 2
    worker = workers(env={"EMAIL_URL": mail_server.url})
    wait(mail_server.holding.is_set, "the worker never reached the second e-mail", worker)
    (child,) = worker.pool_children()
    os.kill(child, signal.SIGKILL)
    wait(
        lambda: (
            OutgoingEmail.objects.filter(application=case, status=OutgoingEmail.Status.SENT).count()
            == len(emails)
        ),
        "not every e-mail was sent after the kill",
        worker,
    )
    assert notify_tasks.sweep_outbox.apply().result["sent"] == 0
    assert [e.attempts for e in OutgoingEmail.objects.filter(application=case).order_by("pk")] == [1] * len(
        emails
    )
    assert len({m.message_id for m in mail_server.received}) == len(mail_server.received) == len(emails)
