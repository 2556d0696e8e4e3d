"""Fixtures for the agency portal: the demo agencies and staff (seed_demo), and cases walked through the
workflow service (tests.world) between them."""

from decimal import Decimal
from types import SimpleNamespace
from unittest import mock

import pytest
from django.contrib.auth import get_user_model

from agencies.models import Agency
from applications.models import InsuredPerson, State
from tests.factories import InsuredPersonFactory
from tests.world import new_case, opening_day, put_in_state

User = get_user_model()
PERSON_ID = "360426199101010071"  # the demo insured person (张伟), hukou Jiujiang


@pytest.fixture(autouse=True)
def nothing_rendered_or_mailed():
    """The workflow queues PDFs and e-mails after commit; these tests look at pages only."""
    with (
        mock.patch("applications.documents.tasks.render_document.delay") as render,
        mock.patch("applications.notify.tasks.send_notification_emails.delay") as mail,
    ):
        yield render, mail


@pytest.fixture
def world(demo_world, db):
    return agencies()


def agencies():
    return {
        "hangzhou": Agency.objects.get(code="YL330100"),  # transfer-in in the demo
        "jiujiang": Agency.objects.get(code="YL360400"),  # transfer-out in the demo
        "tianjin": Agency.objects.get(code="YL120100"),
        "wuhan": Agency.objects.get(code="YL420100"),
    }


def user(username):
    return User.objects.get(username=username)


def case_in(state, out_agency, in_agency, *, person=None, at=None, due=None, **walk):
    """A new person's case (or `person`'s) from one agency to the other, opened and walked to `state`
    through the workflow service now, at `at`, or on the day that makes its open step fall due on `due`
    (see tests.world.put_in_state, which also takes the rest)."""
    if due is not None:
        between = SimpleNamespace(
            scheme=out_agency.scheme, transfer_out_agency=out_agency, transfer_in_agency=in_agency
        )
        at = opening_day(between, state, due)
    person = person or InsuredPersonFactory(with_login=True)
    case = new_case(agencies=(out_agency, in_agency), person=person, at=at)
    return put_in_state(case, state, at=at, **walk)


def case_awaiting_approval(world, amounts=(Decimal("12345.67"), Decimal("19440.00"))):
    """The demo person's pension transfer from Jiujiang to Hangzhou, walked through the workflow service
    up to the transfer-out clerk's amounts, which wait for a reviewer."""
    personal, pooled = amounts
    entered = {
        "personal_account_amount": personal,
        "pooled_fund_amount": pooled,
        "remittance_reference": "HK-2026-0001",
    }
    return case_in(
        State.AMOUNTS_PENDING_APPROVAL,
        world["jiujiang"],
        world["hangzhou"],
        person=InsuredPerson.objects.get(document_number=PERSON_ID),
        data={"enter_amounts": entered},
    )
