"""Two senders of the same outbox rows at once (the task after commit and the sweep, or two workers),
each on its own database connection: the row lock with SKIP LOCKED lets each e-mail be sent by one of
them only. PostgreSQL only: under PORTAL_REQUIRE_SERVICES it fails without it."""

import threading
import time
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connections

from applications.cases import services
from applications.models import OutgoingEmail
from applications.notify import outbox
from applications.notify import tasks as notify_tasks
from tests.workflow.helpers import require_services
from tests.workflow.test_outbox import with_addresses
from tests.world import build_small_world, new_case


class SlowBackend(EmailBackend):
    """Takes a moment per message, so that two senders certainly overlap."""

    def send_messages(self, messages):
        time.sleep(0.2)
        return super().send_messages(messages)


@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_e_mail_once(settings, django_capture_on_commit_callbacks):
    require_services()
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    mail.outbox = []
    world = build_small_world()
    with_addresses(world.applicant, world.in_clerk, world.in_clerk_2)
    case = new_case(world)
    with mock.patch.object(notify_tasks.send_notification_emails, "delay"):
        with mock.patch("applications.documents.tasks.render_document.delay"):
            services.advance(case, "submit", world.applicant)
    ids = list(OutgoingEmail.objects.filter(application=case).values_list("pk", flat=True))
    barrier = threading.Barrier(3)
    results = []

    def sender():
        try:
            barrier.wait(timeout=10)
            results.append(outbox.send(ids))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(result["sent"] for result in results) == len(ids)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        OutgoingEmail.objects.filter(pk__in=ids).values_list("to", flat=True)
    )
    assert not OutgoingEmail.objects.filter(pk__in=ids).exclude(status=OutgoingEmail.Status.SENT).exists()
