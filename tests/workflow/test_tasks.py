"""The rendering task: idempotent under at-least-once delivery, a failure is recorded and can be retried,
and the sweeper re-queues only documents that were left pending too long."""

import hashlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import OperationalError
from django.utils import timezone

from applications.cases import services
from applications.cases.services import CaseMovedOn
from applications.documents import tasks as document_tasks
from applications.models import CaseEvent, DocumentKind, OfficialDocument, State
from applications.notify import tasks as notify_tasks
from tests.world import new_case, put_in_state
from transfer_portal.celery import app as celery_app


def files_in(directory):
    folder = directory / "documents"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def counting(monkeypatch, module, replacement=None):
    """Count the calls of render_official_document (the real one, or `replacement`)."""
    calls = []
    original = replacement or module.render_official_document

    def render(document):
        calls.append(document.pk)
        return original(document)

    monkeypatch.setattr(module, "render_official_document", render)
    return calls


@pytest.fixture
def pending_document(world):
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    services.advance(case, "send_contact_letter", world.in_clerk)
    return OfficialDocument.objects.get(application=case, kind=DocumentKind.CONTACT_LETTER)


def test_rendering_twice_leaves_one_ready_document_and_one_file(
    pending_document, private_dir, renderer, monkeypatch
):
    module, _is_real = renderer
    calls = counting(monkeypatch, module)

    first = document_tasks.render_document.apply(args=(pending_document.pk,))
    document = OfficialDocument.objects.get(pk=pending_document.pk)
    assert first.result == "ready"
    assert document.status == OfficialDocument.Status.READY
    rendered_at, file_name = document.rendered_at, document.file.name

    second = document_tasks.render_document.apply(args=(pending_document.pk,))
    assert second.result == "already ready"

    document.refresh_from_db()
    assert calls == [document.pk]  # the second delivery did not render again
    assert (document.rendered_at, document.file.name, document.attempts) == (rendered_at, file_name, 1)
    assert document.task_id == first.id
    assert OfficialDocument.objects.filter(application=document.application, kind=document.kind).count() == 1
    assert files_in(private_dir) == [file_name.removeprefix("documents/")]
    content = (private_dir / file_name).read_bytes()
    assert content.startswith(b"%PDF-")
    assert document.sha256 == hashlib.sha256(content).hexdigest()
    assert document.error == ""


def test_a_rendering_error_is_recorded_and_the_document_can_be_retried(
    world,
    pending_document,
    private_dir,
    renderer,
    monkeypatch,
    delay,
    django_capture_on_commit_callbacks,
):
    module, _is_real = renderer
    working_renderer = module.render_official_document

    def broken(document):
        raise ValueError("the template needs a field the case does not have")

    calls = counting(monkeypatch, module, broken)
    result = document_tasks.render_document.apply(args=(pending_document.pk,))
    assert result.result == "failed"
    assert calls == [pending_document.pk]  # not retried: it would fail the same way
    document = OfficialDocument.objects.get(pk=pending_document.pk)
    assert document.status == OfficialDocument.Status.FAILED
    assert document.error == "ValueError: the template needs a field the case does not have"
    assert (document.file.name, document.sha256, document.attempts) == ("", "", 1)
    assert files_in(private_dir) == []

    queued_before = document.queued_at
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_document(document, world.in_clerk)
    document.refresh_from_db()
    assert (document.status, document.error) == (OfficialDocument.Status.PENDING, "")
    assert document.queued_at > queued_before
    delay.assert_called_once_with(document.pk)
    event = CaseEvent.objects.filter(application=document.application).last()
    case = document.application
    assert (event.action, event.actor, event.from_state, event.to_state) == (
        "retry_document",
        world.in_clerk,
        case.state,
        case.state,
    )
    assert case.state == State.CONTACT_LETTER_SENT  # a retry does not move the case

    monkeypatch.setattr(module, "render_official_document", working_renderer)
    assert document_tasks.render_document.apply(args=(document.pk,)).result == "ready"
    document.refresh_from_db()
    assert (document.status, document.attempts) == (OfficialDocument.Status.READY, 2)
    assert len(files_in(private_dir)) == 1

    # Only a failed document can be retried.
    with pytest.raises(CaseMovedOn):
        services.retry_document(document, world.in_clerk)
    assert CaseEvent.objects.filter(application=case, action="retry_document").count() == 1


def test_a_transient_error_is_retried(pending_document, private_dir, renderer, monkeypatch):
    module, _is_real = renderer
    working_renderer = module.render_official_document
    failures = [OperationalError("the database went away for a moment")]

    def flaky(document):
        if failures:
            raise failures.pop()
        return working_renderer(document)

    calls = counting(monkeypatch, module, flaky)
    # throw=False: apply() then carries out the retry in-process, as a worker would after the backoff.
    assert document_tasks.render_document.apply(args=(pending_document.pk,), throw=False).result == "ready"
    assert calls == [pending_document.pk, pending_document.pk]
    document = OfficialDocument.objects.get(pk=pending_document.pk)
    # The failed attempt was rolled back with its transaction: one attempt on record.
    assert (document.status, document.attempts) == (OfficialDocument.Status.READY, 1)
    assert len(files_in(private_dir)) == 1


def test_the_sweeper_requeues_only_documents_left_pending(world, delay, settings):
    settings.DOCUMENT_STUCK_AFTER_SECONDS = 300
    case = put_in_state(new_case(world), State.FUNDS_MATCHED, world)
    # The worker rendered the documents of the steps so far; the ones below are their second versions.
    case.documents.update(status=OfficialDocument.Status.READY)
    long_ago = timezone.now() - timedelta(seconds=301)

    def document(kind, status, queued_at):
        return OfficialDocument.objects.create(
            application=case,
            kind=kind,
            version=2,
            issuing_agency=world.yl_in,
            status=status,
            queued_at=queued_at,
        )

    stuck = document(DocumentKind.APPLICATION_FORM, OfficialDocument.Status.PENDING, long_ago)
    fresh = document(DocumentKind.CONTACT_LETTER, OfficialDocument.Status.PENDING, timezone.now())
    document(DocumentKind.FUND_TRANSFER_RECORD, OfficialDocument.Status.READY, long_ago)
    document(DocumentKind.INFORMATION_FORM, OfficialDocument.Status.FAILED, long_ago)

    started = timezone.now()
    assert document_tasks.sweep_stuck_documents() == 1
    delay.assert_called_once_with(stuck.pk)
    stuck.refresh_from_db()
    assert stuck.queued_at >= started  # not swept again at the next run
    assert stuck.status == OfficialDocument.Status.PENDING

    delay.reset_mock()
    assert document_tasks.sweep_stuck_documents() == 0
    delay.assert_not_called()

    settings.DOCUMENT_STUCK_AFTER_SECONDS = 0
    assert document_tasks.sweep_stuck_documents() == 2
    assert sorted(call.args[0] for call in delay.call_args_list) == sorted([stuck.pk, fresh.pk])


def test_celery_runs_tasks_as_production_needs():
    """At-least-once delivery that survives a dead worker, one task at a time per process, and every
    time limit and retry delay below the broker's visibility timeout (else Redis hands a running task to a
    second worker)."""
    conf = celery_app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert conf.task_soft_time_limit < conf.task_time_limit < visibility
    for task in (document_tasks.render_document, notify_tasks.send_notification_emails):
        assert task.max_retries is not None and task.max_retries <= 10
        assert task.retry_backoff_max < visibility
    assert OperationalError in document_tasks.render_document.autoretry_for
    assert ValueError not in document_tasks.render_document.autoretry_for
    schedule = {entry["task"]: entry["schedule"] for entry in conf.beat_schedule.values()}
    assert schedule["applications.tasks.sweep_stuck_documents"] <= settings.DOCUMENT_STUCK_AFTER_SECONDS
