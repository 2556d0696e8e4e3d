"""The agency's work queue over many cases: bounded pages that keep the filters and cover every case once,
and a number of queries that does not grow with the page size."""

import datetime

import pytest
from django.db import transaction

from agencies.models import Agency
from applications.models import State, TransferApplication
from tests.desk.conftest import agencies, case_in
from tests.desk.test_queue import TODAY, queue_url, references
from tests.world import clock_at, login

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def many_cases(demo_world, django_db_blocker):
    """120 cases waiting for Hangzhou, each with its own person and one of several partner agencies, walked
    there over the last 30 days (so that some are overdue). Built once for the module, inside a savepoint
    rolled back at its end: walking 120 cases through the workflow takes a while, and these tests only
    read them."""
    with django_db_blocker.unblock():
        savepoint = transaction.atomic()
        savepoint.__enter__()
        try:
            hangzhou = agencies()["hangzhou"]
            partners = list(
                Agency.objects.filter(scheme="pension").exclude(pk=hangzhou.pk).order_by("code")[:12]
            )
            states = [State.SUBMITTED, State.INFORMATION_FORM_SENT, State.FUNDS_MISMATCH, State.FUNDS_MATCHED]
            yield [
                case_in(
                    states[n % len(states)],
                    partners[n % len(partners)],
                    hangzhou,
                    at=TODAY - datetime.timedelta(days=n % 30),
                )
                for n in range(120)
            ]
        finally:
            transaction.set_rollback(True)
            savepoint.__exit__(None, None, None)


@pytest.fixture
def world(many_cases, db):
    with clock_at(TODAY):
        yield agencies()


@pytest.mark.parametrize(
    ("per_page", "expected"), [(None, 25), ("10", 10), ("100", 100), ("5", 10), ("500", 100), ("x", 25)]
)
def test_page_size_is_bounded(client, world, many_cases, per_page, expected):
    login(client, "clerk.hangzhou", language="en")
    response = client.get(queue_url(world["hangzhou"]), {"per_page": per_page} if per_page else {})
    assert len(response.context["rows"]) == expected


def test_pages_keep_the_filters_and_cover_every_case_once(client, world, many_cases):
    login(client, "clerk.hangzhou", language="en")
    url = queue_url(world["hangzhou"])
    seen = []
    for number in range(1, 4):  # 30 new applications, 10 per page
        response = client.get(url, {"per_page": 10, "page": number, "work": "review"})
        seen += references(response)
    assert response.context["page"].paginator.num_pages == 3
    expected = TransferApplication.objects.filter(transfer_in_agency=world["hangzhou"], state=State.SUBMITTED)
    assert sorted(seen) == sorted(expected.values_list("reference", flat=True))
    html = client.get(url, {"per_page": 10, "work": "review"}).content.decode()
    assert "?per_page=10&amp;work=review&amp;page=2" in html
    # A page past the end shows the last page.
    assert client.get(url, {"per_page": 100, "page": 99}).context["page"].number == 2


def test_the_queue_costs_the_same_number_of_queries_whatever_the_page_size(
    client, world, many_cases, django_assert_num_queries, django_assert_max_num_queries
):
    login(client, "clerk.hangzhou", language="en")
    url = queue_url(world["hangzhou"])
    client.get(url)  # the session and the user are loaded the same way on every later request
    with django_assert_max_num_queries(20) as small:
        response = client.get(url, {"per_page": 10})
    assert len(response.context["rows"]) == 10
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url, {"per_page": 100})
    assert len(response.context["rows"]) == 100
    # Filters and tabs do not add queries either.
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(
            url, {"per_page": 50, "page": 2, "work": "funds", "scheme": "pension", "due": ""}
        )
    assert len(response.context["rows"]) == 40
