"""A real Celery worker process on Redis and PostgreSQL renders every official document of a pension
and a medical case taken through all five steps; and a worker killed in the middle of a rendering does
not lose the document.

Needs PostgreSQL and Redis: under PORTAL_REQUIRE_SERVICES these tests fail without them, otherwise they
are skipped."""

import hashlib
import io
import os
import signal
import time
from decimal import Decimal

import psycopg2
import pytest
from django.db import connection
from pypdf import PdfReader

from applications.cases import services
from applications.cases.contributions import computed_amounts, validate_rows
from applications.cases.states import Party
from applications.documents import tasks as document_tasks
from applications.models import OfficialDocument, State
from tests.world import new_case

pytestmark = pytest.mark.django_db(transaction=True)

WAIT_SECONDS = 120

# The domain's worked example: 2015 base 5,000 x 12, 2016 base 5,500 x 12, 2017 base 6,000 x 6.
TABLE = [
    ("360400", "2015", "1", "12", "5000.00", "4800.00", "0.00", "4800.00"),
    ("360400", "2016", "1", "12", "5500.00", "5280.00", "120.00", "10200.00"),
    ("360400", "2017", "1", "6", "6000.00", "2880.00", "255.00", "13335.00"),
]


def contribution_rows():
    raw = [
        {
            "region_code": code,
            "year": year,
            "start_month": start,
            "end_month": end,
            "monthly_base": base,
            "employer_rate": "0.16",
            "credited_rate": "0.08",
            "individual_rate": "0.08",
            "credited_amount": credited,
            "interest": interest,
            "year_end_balance": balance,
        }
        for code, year, start, end, base, credited, interest, balance in TABLE
    ]
    rows, errors = validate_rows(raw)
    assert errors == []
    return rows


def by(world, case, party):
    return world.user_of(party, case.scheme)


def take_through_five_steps(world, case, *, return_first=False):
    services.advance(case, "submit", world.applicant)
    if return_first:
        services.advance(case, "return_for_correction", by(world, case, Party.IN_CLERK), reason="请补充材料")
        services.advance(case, "resubmit", world.applicant)
    services.advance(case, "send_contact_letter", by(world, case, Party.IN_CLERK))
    out_clerk = by(world, case, Party.OUT_CLERK)
    if case.scheme == "pension":
        services.save_contribution_table(case, out_clerk, contribution_rows())
        computed = computed_amounts(case)
        amounts = {
            "personal_account_amount": computed.personal_account,
            "pooled_fund_amount": computed.pooled_fund,
        }
    else:
        amounts = {"personal_account_amount": Decimal("3210.50")}
    services.advance(case, "enter_amounts", out_clerk, remittance_reference="HK-E2E-1", **amounts)
    services.advance(case, "approve_amounts", by(world, case, Party.OUT_REVIEWER))
    services.advance(case, "send_information_form", out_clerk)
    case.refresh_from_db()
    services.advance(
        case, "match_funds", by(world, case, Party.IN_CLERK), received_amount=case.transfer_total
    )
    services.advance(case, "complete", by(world, case, Party.IN_CLERK))
    case.refresh_from_db()
    assert case.state == State.COMPLETED
    return case


def wait_until_rendered(documents, worker, timeout=WAIT_SECONDS):
    """Poll the database until every document is ready (or one failed, or time is up)."""
    pks = [d.pk for d in documents]
    deadline = time.monotonic() + timeout
    while True:
        statuses = dict(OfficialDocument.objects.filter(pk__in=pks).values_list("pk", "status"))
        if all(status == OfficialDocument.Status.READY for status in statuses.values()):
            return
        failed = {pk: s for pk, s in statuses.items() if s == OfficialDocument.Status.FAILED}
        if failed or time.monotonic() > deadline:
            errors = list(OfficialDocument.objects.filter(pk__in=pks).values_list("kind", "status", "error"))
            pytest.fail(f"documents not ready: {errors}\nworker log:\n{worker.tail()}", pytrace=False)
        time.sleep(0.3)


def assert_stored_pdf(document, storage):
    path = storage / document.file.name
    assert path.is_file(), document
    content = path.read_bytes()
    assert hashlib.sha256(content).hexdigest() == document.sha256
    assert content.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert document.application.reference in text, document
    return content


def test_a_worker_renders_every_document_of_a_pension_and_a_medical_case(world, workers, storage):
    worker = workers()
    pension = take_through_five_steps(world, new_case(world, "pension"))
    medical = take_through_five_steps(world, new_case(world, "medical"), return_first=True)

    documents = list(OfficialDocument.objects.filter(application__in=[pension, medical]).order_by("pk"))
    expected = {
        pension.pk: [
            ("application_form", 1),
            ("contact_letter", 1),
            ("fund_transfer_record", 1),
            ("information_form", 1),
            ("continuation_notice", 1),
        ],
        medical.pk: [
            ("application_form", 1),
            ("written_explanation", 1),
            ("application_form", 2),
            ("contact_letter", 1),
            ("fund_transfer_record", 1),
            ("information_form", 1),
            ("continuation_notice", 1),
        ],
    }
    for case_pk, kinds in expected.items():
        assert [(d.kind, d.version) for d in documents if d.application_id == case_pk] == kinds

    wait_until_rendered(documents, worker)

    for document in OfficialDocument.objects.filter(pk__in=[d.pk for d in documents]).select_related(
        "application"
    ):
        # Rendered by the worker process: its log names the task the document records.
        assert f"render_document[{document.task_id}] succeeded" in worker.output(), document
        assert document.attempts == 1
        assert document.rendered_at is not None
        assert_stored_pdf(document, storage)
    assert len(list((storage / "documents").iterdir())) == len(documents)


def lock_document(document_id):
    """Hold the document's row lock from a connection of our own, so that a worker's rendering of it
    waits (the message is then delivered to the worker but not yet acknowledged)."""
    params = connection.settings_dict
    raw = psycopg2.connect(
        dbname=params["NAME"],
        user=params.get("USER") or None,
        password=params.get("PASSWORD") or None,
        host=params.get("HOST") or None,
        port=params.get("PORT") or None,
    )
    cursor = raw.cursor()
    cursor.execute("SELECT id FROM applications_officialdocument WHERE id = %s FOR UPDATE", [document_id])
    return raw


def wait_for_a_lock_waiter(timeout=60):
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.2)
    pytest.fail("no worker started rendering the document", pytrace=False)


def test_a_document_survives_workers_killed_while_rendering_it(world, workers, storage, settings):
    """A pool child killed mid-rendering: the worker hands the message back (acks_late and
    reject_on_worker_lost) and renders it again. A whole worker killed: the message stays invisible
    until the visibility timeout, so the sweeper queues the document again for a new worker.
    Either way the document is rendered exactly once."""
    # 1. The pool child dies; the main process survives.
    case = new_case(world)
    services.advance(case, "submit", world.applicant)  # queued while no worker runs yet
    first = OfficialDocument.objects.get(application=case)
    lock = lock_document(first.pk)
    worker = workers()
    try:
        wait_for_a_lock_waiter()
        (child,) = worker.pool_children()
        os.kill(child, signal.SIGKILL)
    finally:
        lock.rollback()
        lock.close()
    wait_until_rendered([first], worker)
    first.refresh_from_db()
    assert first.attempts == 1  # the killed attempt's transaction was rolled back with the child
    log = worker.output()
    assert "WorkerLostError" in log
    # The same message was delivered again after the child died, and that delivery rendered it.
    assert log.count(f"render_document[{first.task_id}] received") == 2
    assert f"render_document[{first.task_id}] succeeded" in log

    # 2. The whole worker dies while rendering (a host crash, the OOM killer).
    second_case = new_case(world, person=world.other_person)
    worker_group = worker.process.pid
    os.killpg(worker_group, signal.SIGSTOP)  # keep it from rendering before we hold the lock
    try:
        services.advance(second_case, "submit", world.other_applicant)
        second = OfficialDocument.objects.get(application=second_case)
        lock = lock_document(second.pk)
    finally:
        os.killpg(worker_group, signal.SIGCONT)
    try:
        wait_for_a_lock_waiter()
        worker.kill()
    finally:
        lock.rollback()
        lock.close()

    replacement = workers()
    replacement.wait_until_ready()
    time.sleep(2)
    second.refresh_from_db()
    assert second.status == OfficialDocument.Status.PENDING  # lost with the worker, until swept

    settings.DOCUMENT_STUCK_AFTER_SECONDS = 0
    assert document_tasks.sweep_stuck_documents() == 1
    wait_until_rendered([second], replacement)

    for document in (first, second):
        document.refresh_from_db()
        assert (document.status, document.attempts) == (OfficialDocument.Status.READY, 1)
        assert_stored_pdf(OfficialDocument.objects.select_related("application").get(pk=document.pk), storage)
    assert len(list((storage / "documents").iterdir())) == 2
