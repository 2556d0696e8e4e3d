"""Whether the rendering task reached the broker is recorded on the document: one whose dispatch failed
(the broker was down at commit) is queued by the next sweep, seconds later, instead of waiting for the
stuck threshold (180 s) that covers tasks the broker took and then lost."""

from datetime import timedelta

from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerDown

from applications.cases import services
from applications.documents import tasks as document_tasks
from applications.models import OfficialDocument
from tests.world import new_case


def submitted_document(world, capture, delay, *, broker_down=False):
    delay.side_effect = BrokerDown("Connection refused") if broker_down else None
    case = new_case(world)
    with capture(execute=True):
        services.advance(case, "submit", world.applicant)
    delay.side_effect = None
    delay.reset_mock()
    return OfficialDocument.objects.get(application=case)


def earlier(document, seconds):
    OfficialDocument.objects.filter(pk=document.pk).update(
        queued_at=F("queued_at") - timedelta(seconds=seconds),
        dispatched_at=F("dispatched_at") - timedelta(seconds=seconds),
    )


def test_a_dispatch_the_broker_took_is_recorded(world, delay, django_capture_on_commit_callbacks):
    before = timezone.now()
    document = submitted_document(world, django_capture_on_commit_callbacks, delay)
    assert document.dispatched_at is not None and document.dispatched_at >= before


def test_a_document_whose_dispatch_failed_is_swept_within_seconds(
    world, delay, django_capture_on_commit_callbacks, settings
):
    assert (settings.DOCUMENT_STUCK_AFTER_SECONDS, settings.DOCUMENT_DISPATCH_GRACE_SECONDS) == (180, 15)
    document = submitted_document(world, django_capture_on_commit_callbacks, delay, broker_down=True)
    assert (document.status, document.dispatched_at) == (OfficialDocument.Status.PENDING, None)

    # The dispatch after commit may still be trying: the sweep leaves it its few seconds.
    assert document_tasks.sweep_stuck_documents() == 0
    earlier(document, settings.DOCUMENT_DISPATCH_GRACE_SECONDS + 1)
    assert document_tasks.sweep_stuck_documents() == 1  # 16 s after commit, not 180
    delay.assert_called_once_with(document.pk)
    document.refresh_from_db()
    assert document.dispatched_at is not None
    assert document_tasks.sweep_stuck_documents() == 0  # handed over: not queued again


def test_a_document_the_broker_took_waits_for_the_stuck_threshold(
    world, delay, django_capture_on_commit_callbacks, settings
):
    document = submitted_document(world, django_capture_on_commit_callbacks, delay)
    earlier(document, 60)
    assert document_tasks.sweep_stuck_documents() == 0  # it is in a queue, perhaps behind others
    earlier(document, settings.DOCUMENT_STUCK_AFTER_SECONDS)
    assert document_tasks.sweep_stuck_documents() == 1  # lost after the broker took it
    delay.assert_called_once_with(document.pk)


def test_a_sweep_that_cannot_reach_the_broker_leaves_the_document_for_the_next(
    world, delay, django_capture_on_commit_callbacks, settings
):
    document = submitted_document(world, django_capture_on_commit_callbacks, delay, broker_down=True)
    earlier(document, 60)
    delay.side_effect = BrokerDown("still down")
    try:
        document_tasks.sweep_stuck_documents()
    except BrokerDown:
        pass
    document.refresh_from_db()
    assert document.dispatched_at is None
    delay.side_effect = None
    earlier(document, 60)
    assert document_tasks.sweep_stuck_documents() == 1
