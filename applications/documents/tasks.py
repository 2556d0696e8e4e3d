"""The document tasks: rendering official documents, and the sweeper that recovers lost renderings.

Tasks take primary keys and are idempotent: the document row is locked, and a document that is
already ready is left alone, so a task delivered twice (at-least-once delivery) does no harm.
"""

import hashlib
import logging
from datetime import timedelta

from celery import shared_task
from celery.signals import worker_process_init
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from applications import documents
from applications.documents import renderer
from applications.models import OfficialDocument

logger = logging.getLogger(__name__)

# Only these are worth retrying: the database or the broker was briefly unreachable.
TRANSIENT_ERRORS = (OperationalError, InterfaceError, ConnectionError)


@worker_process_init.connect
def prepare_renderer(**kwargs):
    """Each worker process: refuse to start without HarfBuzz-Subset (a page would take ~9 s), and build
    the one FontConfiguration the process reuses."""
    renderer.require_harfbuzz_subset()
    renderer.font_configuration()


# Task names are the ones used before the rooms were made, so that messages queued by the previous
# release are still understood by the new workers (and the beat schedule keeps its names).
@shared_task(
    name="applications.tasks.render_document",
    bind=True,
    autoretry_for=TRANSIENT_ERRORS,
    max_retries=5,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
)
def render_document(self, document_id):
    with transaction.atomic():
        document = (
            # Lock the document row only: without `of`, PostgreSQL also locks the joined case and agency
            # rows, so a clerk's action on the case and every other rendering for the same agency would
            # wait for this one.
            OfficialDocument.objects.select_for_update(of=("self",))
            .select_related("application", "issuing_agency")
            .get(pk=document_id)
        )
        if document.status == OfficialDocument.Status.READY:
            return "already ready"
        document.attempts += 1
        document.task_id = self.request.id or ""
        try:
            pdf = documents.render_official_document(document)
        except TRANSIENT_ERRORS:
            raise
        except Exception as error:  # a template or data problem: retrying would fail the same way
            logger.exception("rendering document %s failed", document_id)
            document.status = OfficialDocument.Status.FAILED
            document.error = f"{type(error).__name__}: {error}"[:2000]
            document.save(update_fields=["status", "error", "attempts", "task_id"])
            return "failed"
        name = f"{document.application.reference}-{document.kind}-v{document.version}.pdf"
        document.file.save(name, ContentFile(pdf), save=False)
        document.sha256 = hashlib.sha256(pdf).hexdigest()
        document.status = OfficialDocument.Status.READY
        document.rendered_at = timezone.now()
        document.error = ""
        document.save()
    return "ready"


def dispatch(document_id):
    """Hand the rendering to the broker and record that it took it. Called after commit: if the broker is
    down, the error is logged (on_commit's robust callbacks), dispatched_at stays empty and the next sweep
    queues the document at once."""
    render_document.delay(document_id)
    OfficialDocument.objects.filter(pk=document_id).update(dispatched_at=timezone.now())


def dispatch_after_commit(document_id):
    transaction.on_commit(lambda: dispatch(document_id), robust=True)


def documents_to_sweep(now=None):
    """Pending documents whose task never reached the broker, once the dispatch after commit has had its
    few seconds (DOCUMENT_DISPATCH_GRACE_SECONDS); and those the broker took longer ago than
    DOCUMENT_STUCK_AFTER_SECONDS, whose message was lost (a broker restarted empty, a worker killed past
    the visibility timeout)."""
    now = now or timezone.now()
    stuck_after = settings.DOCUMENT_STUCK_AFTER_SECONDS
    grace = min(settings.DOCUMENT_DISPATCH_GRACE_SECONDS, stuck_after)
    never_dispatched = Q(dispatched_at__isnull=True, queued_at__lt=now - timedelta(seconds=grace))
    lost = Q(dispatched_at__lt=now - timedelta(seconds=stuck_after))
    return OfficialDocument.objects.filter(status=OfficialDocument.Status.PENDING).filter(
        never_dispatched | lost
    )


@shared_task(name="applications.tasks.sweep_stuck_documents")
def sweep_stuck_documents():
    """Queue again every document left pending without a task (a dispatch that failed, a lost message, a
    dead worker). Rendering twice cannot happen: render_document locks the row and leaves a ready document
    alone."""
    stuck = list(documents_to_sweep().order_by("queued_at").values_list("pk", flat=True)[:500])
    for document_id in stuck:
        OfficialDocument.objects.filter(pk=document_id, status=OfficialDocument.Status.PENDING).update(
            queued_at=timezone.now(), dispatched_at=None
        )
        dispatch(document_id)
    return len(stuck)
