"""The agency's work queue: who may see it, work items, filters, search, badges, order, pages, queries."""

import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from agencies.calendar import add_working_days
from agencies.models import AgencyStaff
from applications.cases.states import HOLDER, Party
from applications.models import State, TransferApplication
from applications.people.identifiers import mask_document_number
from desk.queue import OPEN_STEP, WORK_ITEMS
from tests.desk.conftest import PERSON_ID, agencies, case_in, user
from tests.factories import AgencyStaffFactory, InsuredPersonFactory, UserFactory, resident_id
from tests.world import clock_at, login

TODAY = datetime.date(2025, 11, 12)

pytestmark = pytest.mark.django_db


def queue_url(agency):
    return f"/agency/{agency.pk}/queue/"


def references(response):
    return [case.reference for case in response.context["rows"]]


@pytest.fixture
def today():
    """Every clock stands at an ordinary Wednesday, weeks away from any public holiday, so that the
    due dates below ("due today", "due soon", overdue) are working days a step can fall due on."""
    with clock_at(TODAY):
        yield timezone.localdate()


@pytest.fixture(scope="module")
def work_items(demo_world, django_db_blocker):
    """One case per work item of Hangzhou (transfer-in) and Jiujiang (transfer-out), plus closed ones,
    each walked there on TODAY: none is due soon or overdue. Built once for the module (walking ten cases
    through the workflow for each test would cost more than the tests), in a savepoint rolled back at its
    end; each test runs in its own savepoint inside it."""
    with django_db_blocker.unblock():
        savepoint = transaction.atomic()
        savepoint.__enter__()
        try:
            places = agencies()
            hz, jj, tj, wh = places["hangzhou"], places["jiujiang"], places["tianjin"], places["wuhan"]
            yield {
                "review": case_in(State.SUBMITTED, jj, hz, at=TODAY),
                "review_tianjin": case_in(State.SUBMITTED, tj, hz, at=TODAY),
                "letter": case_in(State.CONTACT_LETTER_SENT, jj, hz, at=TODAY),
                "approval": case_in(State.AMOUNTS_PENDING_APPROVAL, jj, wh, at=TODAY),
                "form": case_in(State.FUNDS_TRANSFERRED, jj, tj, at=TODAY),
                "funds": case_in(State.INFORMATION_FORM_SENT, jj, hz, at=TODAY),
                "mismatch": case_in(State.FUNDS_MISMATCH, wh, hz, at=TODAY),
                "completed": case_in(State.COMPLETED, jj, hz, at=TODAY),
                "draft": case_in(State.DRAFT, jj, hz, at=TODAY),
                "returned": case_in(State.RETURNED, jj, hz, at=TODAY),
            }
        finally:
            transaction.set_rollback(True)
            savepoint.__exit__(None, None, None)


@pytest.fixture
def cases(work_items, world, today):
    """The module's work items, read afresh for each test."""
    return {key: TransferApplication.objects.get(pk=case.pk) for key, case in work_items.items()}


# Who may see it


def test_the_work_items_cover_exactly_the_states_an_agency_holds():
    held = {s for s, party in HOLDER.items() if party != Party.APPLICANT}
    covered = [s for item in WORK_ITEMS.values() for s in item.states]
    assert sorted(covered) == sorted(held)
    for item in WORK_ITEMS.values():
        sides = {"in" if "transfer_in" in HOLDER[s] else "out" for s in item.states}
        assert sides == {item.side}


@pytest.mark.parametrize("username", ["clerk.hangzhou", "reviewer.hangzhou"])
def test_staff_of_the_agency_see_its_queue(client, world, cases, username):
    login(client, username, language="en")
    response = client.get(queue_url(world["hangzhou"]))
    assert response.status_code == 200
    assert "Case queue" in response.content.decode()


@pytest.mark.parametrize("username", ["clerk.jiujiang", "reviewer.jiujiang", PERSON_ID, "hr.hangzhou"])
@pytest.mark.parametrize("path", ["queue/", "queue.csv", "statistics/"])
def test_other_agencies_staff_and_applicants_get_404(client, world, cases, username, path):
    login(client, username, language="en")
    assert client.get(f"/agency/{world['hangzhou'].pk}/{path}").status_code == 404


def test_a_user_without_any_role_gets_404_and_anonymous_users_log_in(client, world):
    url = queue_url(world["hangzhou"])
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith("/accounts/login/")
    client.force_login(UserFactory())
    assert client.get(url).status_code == 404


# What it lists


def test_the_queue_lists_the_cases_waiting_for_the_agency_and_nothing_else(client, world, cases):
    login(client, "clerk.hangzhou", language="en")
    listed = set(references(client.get(queue_url(world["hangzhou"]))))
    assert listed == {cases[k].reference for k in ("review", "review_tianjin", "funds", "mismatch")}
    login(client, "clerk.jiujiang", language="en")
    listed = set(references(client.get(queue_url(world["jiujiang"]))))
    assert listed == {cases[k].reference for k in ("letter", "approval", "form")}


@pytest.mark.parametrize(
    ("agency", "work", "expected"),
    [
        ("hangzhou", "review", {"review", "review_tianjin"}),
        ("hangzhou", "funds", {"funds", "mismatch"}),
        ("hangzhou", "letters", set()),
        ("jiujiang", "letters", {"letter"}),
        ("jiujiang", "approvals", {"approval"}),
        ("jiujiang", "forms", {"form"}),
        ("jiujiang", "review", set()),
    ],
)
def test_work_item_tabs(client, world, cases, agency, work, expected):
    login(client, f"clerk.{agency}", language="en")
    response = client.get(queue_url(world[agency]), {"work": work})
    assert set(references(response)) == {cases[k].reference for k in expected}


def test_tabs_show_how_many_cases_each_work_item_has(client, world, cases, today):
    case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"], due=today - datetime.timedelta(days=1))
    login(client, "clerk.hangzhou", language="en")
    tabs = {
        key: (count, overdue)
        for key, _label, count, overdue in client.get(queue_url(world["hangzhou"])).context["tabs"]
    }
    assert tabs[""] == (5, 1)
    assert tabs["review"] == (3, 1)
    assert tabs["funds"] == (2, 0)
    assert tabs["letters"] == (0, 0)


def test_filter_by_step_to_take(client, world, cases):
    assert OPEN_STEP[State.SUBMITTED] == 2  # a new application awaits the contact letter
    assert OPEN_STEP[State.CONTACT_LETTER_SENT] == OPEN_STEP[State.AMOUNTS_PENDING_APPROVAL] == 3
    assert OPEN_STEP[State.FUNDS_TRANSFERRED] == 4
    assert OPEN_STEP[State.FUNDS_MATCHED] == 5
    login(client, "clerk.jiujiang", language="en")
    url = queue_url(world["jiujiang"])
    assert set(references(client.get(url, {"step": 3}))) == {
        cases["letter"].reference,
        cases["approval"].reference,
    }
    assert set(references(client.get(url, {"step": 4}))) == {cases["form"].reference}
    assert references(client.get(url, {"step": 2})) == []


def test_filter_by_scheme(client, world, cases):
    login(client, "clerk.hangzhou", language="en")
    url = queue_url(world["hangzhou"])
    assert len(references(client.get(url, {"scheme": "pension"}))) == 4
    assert references(client.get(url, {"scheme": "medical"})) == []


def test_filter_by_the_other_agencys_province(client, world, cases):
    login(client, "clerk.hangzhou", language="en")
    url = queue_url(world["hangzhou"])
    assert references(client.get(url, {"region": "120000"})) == [cases["review_tianjin"].reference]
    assert set(references(client.get(url, {"region": "360000"}))) == {
        cases["review"].reference,
        cases["funds"].reference,
    }
    # Transfer-out side: the province of the transfer-in agency.
    login(client, "clerk.jiujiang", language="en")
    assert references(client.get(queue_url(world["jiujiang"]), {"region": "420000"})) == [
        cases["approval"].reference
    ]


def test_filter_by_overdue_and_due_soon(client, world, cases, today):
    hz, jj = world["hangzhou"], world["jiujiang"]
    soon_limit = add_working_days(today, 3)
    overdue = case_in(State.SUBMITTED, jj, hz, due=today - datetime.timedelta(days=1))
    due_today = case_in(State.SUBMITTED, jj, hz, due=today)
    due_soon = case_in(State.SUBMITTED, jj, hz, due=soon_limit)
    later = case_in(State.SUBMITTED, jj, hz, due=add_working_days(soon_limit, 1))
    login(client, "clerk.hangzhou", language="en")
    url = queue_url(hz)
    assert references(client.get(url, {"due": "overdue"})) == [overdue.reference]
    assert references(client.get(url, {"due": "soon"})) == [due_today.reference, due_soon.reference]
    assert later.reference in references(client.get(url))


def test_invalid_filter_values_are_ignored(client, world, cases):
    login(client, "clerk.hangzhou", language="en")
    response = client.get(
        queue_url(world["hangzhou"]),
        {"step": "9", "scheme": "x", "work": "nope", "person": "a", "page": "-1"},
    )
    assert response.status_code == 200
    assert len(references(response)) == 4
    huge = client.get(queue_url(world["hangzhou"]), {"person": str(10**30), "per_page": "1e9"})
    assert huge.status_code == 200 and len(references(huge)) == 4


# Search


def test_search_by_name_and_by_case_reference(client, world, cases):
    person = cases["funds"].person
    person.name = "欧阳娜娜"
    person.save()
    login(client, "clerk.hangzhou", language="en")
    url = queue_url(world["hangzhou"])
    assert references(client.get(url, {"q": "欧阳"})) == [cases["funds"].reference]
    assert references(client.get(url, {"q": cases["review"].reference.lower()})) == [
        cases["review"].reference
    ]


def test_search_by_full_id_number_finds_the_case_and_never_shows_the_number(client, world, cases):
    number = cases["review"].person.document_number
    login(client, "clerk.hangzhou", language="en")
    response = client.get(queue_url(world["hangzhou"]), {"q": number, "work": "review"})
    # The number leaves the address at once: the browser keeps the redirected address in its history.
    assert response.status_code == 302
    assert number not in response.url
    page = client.get(response.url)
    assert references(page) == [cases["review"].reference]
    html = page.content.decode()
    assert number not in html
    assert mask_document_number(number) in html
    assert cases["review"].person.name in html


def test_search_by_id_number_matches_the_whole_number_only(client, world, cases):
    number = cases["review"].person.document_number
    login(client, "clerk.hangzhou", language="en")
    url = queue_url(world["hangzhou"])
    # A part of the number is no ID number: it is searched as a name or reference and finds nothing.
    assert references(client.get(url, {"q": number[-6:]})) == []
    response = client.get(url, {"q": number[:-1] + ("0" if number[-1] != "0" else "1")}, follow=True)
    assert references(response) == []
    assert "No case of this agency belongs to the ID number searched for." in response.content.decode()


def test_search_by_id_number_of_a_person_without_a_case_here_finds_nothing(client, world, cases):
    login(client, "clerk.hangzhou", language="en")
    response = client.get(queue_url(world["hangzhou"]), {"q": PERSON_ID}, follow=True)
    assert references(response) == []
    html = response.content.decode()
    assert PERSON_ID not in html
    assert "No case of this agency belongs to the ID number" in html


def test_an_id_number_with_a_lower_case_x_is_found(client, world):
    numbers = (resident_id("330106", datetime.date(1980, 5, 5), sequence) for sequence in range(1, 999))
    person = InsuredPersonFactory(
        with_login=True, document_number=next(n for n in numbers if n.endswith("X"))
    )
    case = case_in(State.SUBMITTED, world["jiujiang"], world["hangzhou"], person=person)
    login(client, "clerk.hangzhou", language="en")
    response = client.get(queue_url(world["hangzhou"]), {"q": person.document_number.lower()}, follow=True)
    assert references(response) == [case.reference]


# Badges and order


def test_overdue_and_due_soon_badges_and_overdue_cases_first(client, world, cases, today):
    hz, jj = world["hangzhou"], world["jiujiang"]
    soon_limit = add_working_days(today, 3)
    later = case_in(State.SUBMITTED, jj, hz, due=add_working_days(soon_limit, 7))
    soon = case_in(State.INFORMATION_FORM_SENT, jj, hz, due=soon_limit)
    very_late = case_in(State.SUBMITTED, jj, hz, due=today - datetime.timedelta(days=20))
    late = case_in(State.FUNDS_MISMATCH, jj, hz, due=today - datetime.timedelta(days=1))
    login(client, "clerk.hangzhou", language="en")
    response = client.get(queue_url(hz))
    listed = references(response)
    assert listed[:4] == [very_late.reference, late.reference, soon.reference, later.reference]
    # Then the other work items, due later still.
    assert set(listed[4:]) == {cases[k].reference for k in ("review", "review_tianjin", "funds", "mismatch")}
    rows = {row.reference: row for row in response.context["rows"]}
    assert rows[late.reference].is_overdue and not rows[late.reference].is_due_soon
    assert rows[soon.reference].is_due_soon and not rows[soon.reference].is_overdue
    assert not rows[later.reference].is_overdue and not rows[later.reference].is_due_soon
    table = response.content.decode().split("<table", 1)[1]
    assert table.count('<span class="badge text-bg-danger">Overdue</span>') == 2
    assert table.count('<span class="badge text-bg-warning">Due soon</span>') == 1


def test_htmx_requests_get_the_queue_part_only(client, world, cases):
    login(client, "clerk.hangzhou", language="en")
    response = client.get(queue_url(world["hangzhou"]), {"work": "funds"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="queue"')
    assert "<html" not in html
    assert response["HX-Push-Url"] == f"{queue_url(world['hangzhou'])}?work=funds"


def test_navigation_links_between_queue_approvals_and_statistics(client, world):
    hz = world["hangzhou"]
    login(client, "reviewer.hangzhou", language="en")
    html = client.get(queue_url(hz)).content.decode()
    assert f'href="/agency/{hz.pk}/approvals/"' in html
    assert f'href="/agency/{hz.pk}/statistics/"' in html
    login(client, "clerk.hangzhou", language="en")
    html = client.get(f"/agency/{hz.pk}/statistics/").content.decode()
    assert f'href="/agency/{hz.pk}/queue/"' in html
    assert "/approvals/" not in html  # clerks have no approval inbox


def test_staff_of_two_agencies_see_each_queue_separately(client, world, cases):
    clerk = user("clerk.hangzhou")
    AgencyStaffFactory(user=clerk, agency=world["jiujiang"], role=AgencyStaff.Role.CLERK)
    login(client, "clerk.hangzhou", language="en")
    assert set(references(client.get(queue_url(world["jiujiang"])))) == {
        cases[k].reference for k in ("letter", "approval", "form")
    }
