"""Two people act on the same case at the same moment, each through their own database connection:
exactly one wins, the other is told the case has moved on, and nothing is duplicated.

PostgreSQL only (SQLite has no row locks): under PORTAL_REQUIRE_SERVICES these tests fail without it,
otherwise they are skipped with "needs PostgreSQL"."""

import threading
import time
from decimal import Decimal
from unittest import mock

import pytest
from django.db import connections

from applications.cases import services
from applications.documents import tasks as document_tasks
from applications.models import CaseEvent, DocumentKind, OfficialDocument, State
from applications.notify import notifications
from tests.workflow.helpers import require_services
from tests.world import build_small_world, new_case

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def committed_world(delay):
    require_services()
    return build_small_world()


@pytest.fixture
def slow_step():
    """Hold each transition's transaction open a little longer after the change is written, so that
    without the row lock both contenders would certainly read the old state."""
    record = notifications.record

    def slow_record(*args, **kwargs):
        record(*args, **kwargs)
        time.sleep(0.3)

    with mock.patch.object(notifications, "record", slow_record):
        yield


def race(*calls):
    """Run the calls in threads released together by a barrier; each thread has its own connection,
    closed at its end. Returns ("ok", value) or (exception class name, exception) per call."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = ("ok", call())
        except Exception as error:  # the outcome is asserted by the test
            outcomes[index] = (type(error).__name__, error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a contender never finished (deadlock?)"
    return outcomes


def submitted_case(world, person=None):
    case = new_case(world, person=person)
    services.advance(case, "submit", case.person.user)
    case.refresh_from_db()
    assert case.state == State.SUBMITTED
    return case


def test_two_clerks_send_the_contact_letter_at_once(committed_world, delay, slow_step):
    world = committed_world
    case = submitted_case(world)
    delay.reset_mock()

    outcomes = race(
        lambda: services.advance(case, "send_contact_letter", world.in_clerk),
        lambda: services.advance(case, "send_contact_letter", world.in_clerk_2),
    )

    assert sorted(name for name, _value in outcomes) == ["CaseMovedOn", "ok"]
    winner = world.in_clerk if outcomes[0][0] == "ok" else world.in_clerk_2
    case.refresh_from_db()
    assert case.state == State.CONTACT_LETTER_SENT
    (event,) = CaseEvent.objects.filter(application=case, action="send_contact_letter")
    assert event.actor == winner
    (letter,) = OfficialDocument.objects.filter(application=case, kind=DocumentKind.CONTACT_LETTER)
    delay.assert_called_once_with(letter.pk)  # the loser queued nothing


def test_a_form_posted_twice_is_taken_once(committed_world, delay, slow_step):
    world = committed_world
    case = submitted_case(world)
    delay.reset_mock()

    def post():
        return services.advance(case, "send_contact_letter", world.in_clerk, expected_state=State.SUBMITTED)

    outcomes = race(post, post)

    assert sorted(name for name, _value in outcomes) == ["CaseMovedOn", "ok"]
    assert CaseEvent.objects.filter(application=case, action="send_contact_letter").count() == 1
    assert OfficialDocument.objects.filter(application=case, kind=DocumentKind.CONTACT_LETTER).count() == 1
    assert delay.call_count == 1


def test_approve_and_reject_at_once_by_two_reviewers(committed_world, delay, slow_step):
    """One reviewer approves the amounts while another sends them back: the case ends in one state only."""
    world = committed_world
    case = submitted_case(world)
    services.advance(case, "send_contact_letter", world.in_clerk)
    services.advance(
        case,
        "enter_amounts",
        world.out_clerk,
        personal_account_amount=Decimal("100.00"),
        pooled_fund_amount=Decimal("200.00"),
    )
    outcomes = race(
        lambda: services.advance(case, "approve_amounts", world.out_reviewer),
        lambda: services.advance(case, "reject_amounts", world.out_clerk_and_reviewer, reason="再核"),
    )
    assert sorted(name for name, _value in outcomes) == ["CaseMovedOn", "ok"]
    case.refresh_from_db()
    approved = outcomes[0][0] == "ok"
    assert case.state == (State.FUNDS_TRANSFERRED if approved else State.CONTACT_LETTER_SENT)
    decided = CaseEvent.objects.filter(application=case, action__in=["approve_amounts", "reject_amounts"])
    assert decided.count() == 1
    records = OfficialDocument.objects.filter(application=case, kind=DocumentKind.FUND_TRANSFER_RECORD)
    assert records.count() == (1 if approved else 0)


def test_the_rendering_task_delivered_twice_at_once_renders_once(committed_world, private_dir, renderer):
    world = committed_world
    case = submitted_case(world)
    document = OfficialDocument.objects.get(application=case)
    module, _is_real = renderer
    render = module.render_official_document
    calls = []

    def counted(doc):
        calls.append(doc.pk)
        return render(doc)

    with mock.patch.object(module, "render_official_document", counted):
        outcomes = race(
            lambda: document_tasks.render_document.apply(args=(document.pk,)).result,
            lambda: document_tasks.render_document.apply(args=(document.pk,)).result,
        )

    assert sorted(value for _name, value in outcomes) == ["already ready", "ready"]
    assert calls == [document.pk]
    document.refresh_from_db()
    assert (document.status, document.attempts) == (OfficialDocument.Status.READY, 1)
    assert OfficialDocument.objects.filter(application=case).count() == 1
    assert [p.name for p in (private_dir / "documents").iterdir()] == [document.file.name.split("/")[-1]]


def test_rendering_a_document_does_not_hold_up_its_case_or_its_agency(committed_world, private_dir, renderer):
    """While one document renders, a clerk can still act on its case, and another document of the same
    issuing agency renders beside it (a two-process worker must not render one agency's forms in single
    file)."""
    world = committed_world
    first_case, other_case = submitted_case(world), submitted_case(world, world.other_person)
    first = OfficialDocument.objects.get(application=first_case)
    other = OfficialDocument.objects.get(application=other_case)
    assert first.issuing_agency_id == other.issuing_agency_id
    module, _is_real = renderer
    render = module.render_official_document
    rendering, release = threading.Event(), threading.Event()

    def slow_for_the_first(doc):
        if doc.pk == first.pk:
            rendering.set()
            release.wait(timeout=30)
        return render(doc)

    def in_thread(call):
        thread = threading.Thread(target=lambda: (call(), connections.close_all()))
        thread.start()
        return thread

    threads = []
    with mock.patch.object(module, "render_official_document", slow_for_the_first):
        threads.append(in_thread(lambda: document_tasks.render_document.apply(args=(first.pk,))))
        try:
            assert rendering.wait(timeout=30)
            threads.append(in_thread(lambda: document_tasks.render_document.apply(args=(other.pk,))))
            threads[-1].join(timeout=10)
            rendered_beside = not threads[-1].is_alive()
            threads.append(
                in_thread(lambda: services.advance(first_case, "send_contact_letter", world.in_clerk))
            )
            threads[-1].join(timeout=10)
            clerk_done = not threads[-1].is_alive()
        finally:
            release.set()
            for thread in threads:
                thread.join(timeout=30)

    assert rendered_beside, "a document of the same agency waited for another one's rendering"
    assert clerk_done, "the clerk's action waited for the case's document to finish rendering"
    other.refresh_from_db()
    first.refresh_from_db()
    assert (first.status, other.status) == (OfficialDocument.Status.READY, OfficialDocument.Status.READY)
    first_case.refresh_from_db()
    assert first_case.state == State.CONTACT_LETTER_SENT
