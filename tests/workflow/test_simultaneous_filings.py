"""Two filings for the same person at the same moment, each on its own database connection: both pass
the "already has an open transfer" check before either commits, and the database's one-open-case
constraint refuses the second. That was a server error (IntegrityError); now the second filer gets the
same message as the check gives, and exactly one case (with one "created" event) exists.

PostgreSQL only (SQLite serialises writers): under PORTAL_REQUIRE_SERVICES these tests fail without it."""

import threading
import time
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse

from applications.cases import audit, services
from applications.cases.states import CLOSED_STATES
from applications.models import CaseEvent, TransferApplication
from tests.workflow.helpers import require_services
from tests.workflow.test_case_pages import FILING
from tests.workflow.test_concurrency import race
from tests.world import build_small_world

pytestmark = pytest.mark.django_db(transaction=True)

OPEN_CASE = (
    "张伟 already has an open Basic pension insurance transfer; follow that one, or withdraw it first."
)


@pytest.fixture
def committed_world(delay):
    require_services()
    return build_small_world()


@pytest.fixture
def slow_filing():
    """Keep each filing's transaction open a moment after its case is written, so that the other filing
    certainly runs its check before the first commits (without the constraint both would be saved)."""
    created = audit.case_created

    def slow(case, actor):
        created(case, actor)
        time.sleep(0.5)

    with mock.patch.object(audit, "case_created", slow):
        yield


def open_cases(person):
    return TransferApplication.objects.filter(person=person).exclude(state__in=CLOSED_STATES)


def file(world, schemes=("pension",)):
    def call():
        from django.utils import translation

        with translation.override("en"):
            return services.create_drafts(
                person=world.person,
                schemes_and_agencies={scheme: world.agencies(scheme) for scheme in schemes},
                filed_by=world.applicant,
            )

    return call


@pytest.mark.parametrize(
    "schemes",
    [(("pension",), ("pension",)), (("pension", "medical"), ("pension",)), (("medical", "pension"),) * 2],
    ids=["pension twice", "both schemes and pension", "both schemes twice"],
)
def test_two_simultaneous_filings_for_one_person_give_one_case_and_the_message(
    committed_world, slow_filing, schemes
):
    world = committed_world
    outcomes = race(*(file(world, wanted) for wanted in schemes))
    kinds = sorted(kind for kind, _value in outcomes)
    assert kinds == ["ActionRefused", "ok"], outcomes
    refused = next(value for kind, value in outcomes if kind == "ActionRefused")
    assert refused.message in (OPEN_CASE, OPEN_CASE.replace("pension", "medical"))
    winner = next(value for kind, value in outcomes if kind == "ok")
    assert sorted(case.pk for case in open_cases(world.person)) == sorted(case.pk for case in winner)
    # The loser left nothing behind: no case of the other scheme, no event.
    assert CaseEvent.objects.filter(application__person=world.person, action="created").count() == len(winner)


def test_two_simultaneous_posts_of_the_filing_form_answer_the_message_not_a_server_error(
    committed_world, slow_filing
):
    world = committed_world
    clients = []
    for _ in range(2):
        client = Client(raise_request_exception=False)
        client.force_login(world.applicant)
        client.cookies["django_language"] = "en"
        clients.append(client)
    data = {**FILING, "schemes": ["pension"]}
    responses = race(*(lambda c=client: c.post(reverse("file_application"), data) for client in clients))
    statuses = sorted(response.status_code for _kind, response in responses)
    assert statuses == [200, 302], [(kind, getattr(r, "status_code", r)) for kind, r in responses]
    page = next(response for _kind, response in responses if response.status_code == 200)
    assert OPEN_CASE in page.content.decode()
    assert open_cases(world.person).count() == 1


def test_a_filing_and_a_reference_collision_are_told_apart(committed_world):
    """An insert refused for another reason than an open case (here: a reference already taken) is not
    reported as "already has an open transfer": the caller (bulk filing) tries again with new references."""
    from django.db import IntegrityError

    world = committed_world
    (first,) = file(world)()
    services.advance(first, "withdraw", world.applicant)
    with mock.patch("applications.models.cases.new_reference", return_value=first.reference):
        with pytest.raises(IntegrityError):
            file(world)()
    assert open_cases(world.person).count() == 0


def test_both_contenders_really_met(committed_world, slow_filing):
    """The race is real: the second filing's check ran while the first was not yet committed."""
    world = committed_world
    checks = []
    original = services._has_open_case

    def watched(person, scheme):
        answer = original(person, scheme)
        checks.append((threading.get_ident(), answer))
        return answer

    with mock.patch.object(services, "_has_open_case", watched):
        race(file(world), file(world))
    # Each filing checked once before saving and found nothing; the loser checked again after the
    # constraint refused it and found the winner's case.
    assert [answer for _thread, answer in checks].count(False) == 2
    assert [answer for _thread, answer in checks].count(True) == 1
