"""The reviewer's inbox of amounts waiting for approval (maker-checker)."""

import pytest

from agencies.models import AgencyStaff
from applications.cases import services
from applications.models import State
from tests.desk.conftest import PERSON_ID, case_awaiting_approval, user
from tests.factories import AgencyStaffFactory
from tests.world import login

pytestmark = pytest.mark.django_db


def approvals_url(agency):
    return f"/agency/{agency.pk}/approvals/"


def test_the_reviewer_sees_the_amounts_and_who_entered_them(client, world):
    case = case_awaiting_approval(world)
    assert case.state == State.AMOUNTS_PENDING_APPROVAL
    login(client, "reviewer.jiujiang", language="en")
    response = client.get(approvals_url(world["jiujiang"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert [row.reference for row in response.context["rows"]] == [case.reference]
    assert f'href="/cases/{case.reference}/"' in html
    assert "12,345.67" in html and "19,440.00" in html and "31,785.67" in html
    assert user("clerk.jiujiang").first_name in html  # 九江转出经办员, the maker
    assert "HK-2026-0001" in html
    assert PERSON_ID not in html
    assert "360***********0071" in html


def test_the_case_page_lets_the_reviewer_approve(client, world):
    case = case_awaiting_approval(world)
    login(client, "reviewer.jiujiang", language="en")
    assert client.get(f"/cases/{case.reference}/").status_code == 200
    approved = services.advance(case, "approve_amounts", user("reviewer.jiujiang"))
    assert approved.state == State.FUNDS_TRANSFERRED
    assert client.get(approvals_url(world["jiujiang"])).context["rows"] == []


def test_a_reviewer_who_is_also_the_maker_is_told_so(client, world):
    clerk = user("clerk.jiujiang")
    AgencyStaffFactory(user=clerk, agency=world["jiujiang"], role=AgencyStaff.Role.REVIEWER)
    case_awaiting_approval(world)
    login(client, "clerk.jiujiang", language="en")
    assert (
        "Entered by you: another reviewer approves"
        in client.get(approvals_url(world["jiujiang"])).content.decode()
    )


@pytest.mark.parametrize(
    "username", ["clerk.jiujiang", "reviewer.hangzhou", "clerk.hangzhou", PERSON_ID, "hr.hangzhou"]
)
def test_only_reviewers_of_the_agency_see_its_inbox(client, world, username):
    case_awaiting_approval(world)
    login(client, username, language="en")
    assert client.get(approvals_url(world["jiujiang"])).status_code == 404


def test_the_transfer_out_queue_lists_the_case_under_amounts_awaiting_approval(client, world):
    case = case_awaiting_approval(world)
    login(client, "clerk.jiujiang", language="en")
    response = client.get(f"/agency/{world['jiujiang'].pk}/queue/", {"work": "approvals"})
    assert [row.reference for row in response.context["rows"]] == [case.reference]
