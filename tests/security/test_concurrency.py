"""Twenty people (or one impatient double-click) take the same step of the same case at the same moment,
each through a database connection of their own: exactly one wins, every other is told the case has
moved on, and there is one event and one document.

PostgreSQL only (SQLite has no row locks): under PORTAL_REQUIRE_SERVICES these tests fail without it,
otherwise they are skipped with "needs PostgreSQL"."""

import io
import threading
import time
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client
from django.urls import reverse
from django.utils import translation

from agencies.models import Agency, Region
from agencies.reference import load_regions
from applications.cases import services
from applications.employers.bulk import BULK_DECLARATIONS
from applications.models import (
    CaseEvent,
    DocumentKind,
    InsuredPerson,
    Notification,
    OfficialDocument,
    State,
    TransferApplication,
)
from applications.notify import notifications
from tests.factories import AgencyStaffFactory, UserFactory
from tests.security.conftest import User, require_postgresql, tally

pytestmark = pytest.mark.django_db(transaction=True)

CONTENDERS = 20
MOVED_ON = "This case has moved on since you opened it; here is its current state."


@pytest.fixture
def submitted_case(no_tasks):
    """A committed world (seed_demo) and one pension case of the demo insured person, submitted."""
    require_postgresql()
    if not Region.objects.exists():  # an earlier transactional test flushed the migration's regions
        load_regions(Region)
    call_command("seed_demo", stdout=io.StringIO())
    in_agency, out_agency = Agency.objects.get(code="YL330100"), Agency.objects.get(code="YL360400")
    AgencyStaffFactory(user=UserFactory(username="clerk2.hangzhou", first_name="杭州二"), agency=in_agency)
    person = InsuredPerson.objects.get(document_number="360426199101010071")
    (case,) = services.create_drafts(
        person=person,
        schemes_and_agencies={"pension": (out_agency, in_agency)},
        filed_by=person.user,
        declarations=dict(BULK_DECLARATIONS, gap_months=0),
    )
    services.advance(case, "submit", person.user)
    case.refresh_from_db()
    assert case.state == State.SUBMITTED
    no_tasks.reset_mock()
    return case


@pytest.fixture
def slow_step():
    """The winner holds its transaction (and the row lock) a little longer after writing the change, so
    that every other contender is certainly waiting on the lock, not arriving after the fact."""
    record = notifications.record

    def slow_record(*args, **kwargs):
        record(*args, **kwargs)
        time.sleep(0.3)

    with mock.patch.object(notifications, "record", slow_record):
        yield


def race(calls):
    """Run the calls in threads released together by a barrier; each thread uses (and at its end closes)
    its own database connection. Returns ("ok", value) or (exception class name, exception) per call."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=20)
            outcomes[index] = ("ok", call())
        except Exception as error:  # the outcome is what the test asserts
            outcomes[index] = (type(error).__name__, error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a contender never finished (deadlock?)"
    return outcomes


def assert_taken_once(case, render_delay):
    case.refresh_from_db()
    assert case.state == State.CONTACT_LETTER_SENT
    assert CaseEvent.objects.filter(application=case, action="send_contact_letter").count() == 1
    (letter,) = OfficialDocument.objects.filter(application=case, kind=DocumentKind.CONTACT_LETTER)
    render_delay.assert_called_once_with(letter.pk)  # the losers queued nothing
    # One set of notifications: the step was recorded once, so nobody is told twice.
    told = list(
        Notification.objects.filter(application=case, action="send_contact_letter").values_list(
            "user", flat=True
        )
    )
    assert told and len(told) == len(set(told))


def test_twenty_simultaneous_contact_letters(submitted_case, no_tasks, slow_step):
    """Twenty attempts at send_contact_letter by the two transfer-in clerks, half of them with the state
    their form showed (a double-posted form), half without (two clerks on two screens)."""
    case = submitted_case
    clerks = [User.objects.get(username="clerk.hangzhou"), User.objects.get(username="clerk2.hangzhou")]

    def attempt(index):
        clerk = clerks[index % 2]
        expected = State.SUBMITTED if index % 4 < 2 else None
        return lambda: services.advance(case, "send_contact_letter", clerk, expected_state=expected)

    outcomes = race([attempt(i) for i in range(CONTENDERS)])

    names = sorted(name for name, _value in outcomes)
    assert names.count("ok") == 1, names
    assert names.count("CaseMovedOn") == CONTENDERS - 1, names
    for name, value in outcomes:
        if name == "CaseMovedOn":
            with translation.override("en"):
                assert str(value.message) == MOVED_ON
    assert_taken_once(case, no_tasks)
    tally("simultaneous attempts at one transition (service)", CONTENDERS)


def login_session(user):
    client = Client()
    client.cookies["django_language"] = "en"
    client.force_login(user)  # agency staff also pass the second factor (tests/conftest.py)
    return client


def messages_after(client, case):
    """What the case page tells this client after its post (its messages cookie, read once)."""
    response = client.get(reverse("case_detail", args=[case.reference]))
    assert response.status_code == 200
    return [(m.level_tag, str(m)) for m in response.context["messages"]]


@pytest.mark.parametrize("clients", [2, CONTENDERS])
def test_double_posted_form_through_the_view(submitted_case, no_tasks, slow_step, clients):
    """The clerk's "send the contact letter" form posted by several test clients at once: two (a
    double-click: two requests of the same browser session) or twenty (the same session each time)."""
    case = submitted_case
    clerk = User.objects.get(username="clerk.hangzhou")
    first = login_session(clerk)
    browsers = [first]
    for _ in range(clients - 1):
        twin = Client()
        twin.cookies = first.cookies.__class__()
        for key, morsel in first.cookies.items():
            twin.cookies[key] = morsel.value
        browsers.append(twin)
    url = reverse("case_action", args=[case.reference, "send_contact_letter"])

    outcomes = race([lambda b=b: b.post(url, {"expected_state": State.SUBMITTED}) for b in browsers])

    for name, response in outcomes:
        assert name == "ok", response
        assert response.status_code == 302
        assert response.url == reverse("case_detail", args=[case.reference])
    seen = [messages_after(browser, case) for browser in browsers]
    successes = [m for m in seen if ("success", "Send the contact letter") in m]
    moved_on = [m for m in seen if ("error", MOVED_ON) in m]
    assert len(successes) == 1, seen
    assert len(moved_on) == clients - 1, seen
    assert_taken_once(case, no_tasks)
    assert TransferApplication.objects.get(pk=case.pk).contact_letter_at is not None
    tally("simultaneous posts of one form (HTTP)", clients)
