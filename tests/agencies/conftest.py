"""Fixtures for the agency portal: the demo agencies and staff (seed_demo), and cases built either
through the workflow services or, for bulk fixtures, directly with the ORM."""

import datetime
import itertools
from decimal import Decimal
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from agencies.models import Agency
from applications import services
from applications.models import CaseEvent, DocumentType, InsuredPerson, TransferApplication
from tests.factories import resident_id

User = get_user_model()
PERSON_ID = "360426199101010071"  # the demo insured person (张伟), hukou Jiujiang

_serial = itertools.count(1)


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
    return {
        "hangzhou": Agency.objects.get(code="YL330100"),  # transfer-in in the demo
        "jiujiang": Agency.objects.get(code="YL360400"),  # transfer-out in the demo
        "tianjin": Agency.objects.get(code="YL120100"),
        "wuhan": Agency.objects.get(code="YL420100"),
    }


def user(username):
    return User.objects.get(username=username)


def login(client, username, language="en"):
    client.force_login(user(username))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language


def new_person(name=None, number=None):
    """An insured person with a valid resident ID (sex and birth date follow from it)."""
    n = next(_serial)
    number = number or resident_id(
        "330106", datetime.date(1960, 1, 1) + datetime.timedelta(days=13 * (n % 1500)), n % 1000
    )
    return InsuredPerson.objects.create(
        name=name or f"测试参保人{n}",
        document_type=DocumentType.RESIDENT_ID,
        document_number=number,
    )


def make_case(out_agency, in_agency, state, due_date=None, person=None, scheme="pension", **fields):
    """A case put straight into `state` (no events, no documents): for queue and export fixtures."""
    n = next(_serial)
    return TransferApplication.objects.create(
        reference=f"YL2026TEST{n:08d}",
        filing_reference=f"SQ2026TEST{n:08d}",
        scheme=scheme,
        person=person or new_person(),
        filed_by=user("hr.hangzhou"),
        transfer_out_agency=out_agency,
        transfer_in_agency=in_agency,
        state=state,
        due_date=due_date,
        submitted_at=fields.pop("submitted_at", timezone.now()),
        **fields,
    )


def local_time(day, hour=10):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def add_event(case, action, at, from_state="", to_state=""):
    return CaseEvent.objects.create(
        application=case, actor=None, action=action, at=at, from_state=from_state, to_state=to_state
    )


def case_awaiting_approval(world, amounts=(Decimal("12345.67"), Decimal("19440.00"))):
    """The demo person's pension transfer from Jiujiang to Hangzhou, walked through the workflow service
    up to the transfer-out clerk's amounts, which wait for a reviewer."""
    person = InsuredPerson.objects.get(document_number=PERSON_ID)
    (case,) = services.create_drafts(
        person=person,
        schemes_and_agencies={"pension": (world["jiujiang"], world["hangzhou"])},
        filed_by=person.user,
    )
    case = services.advance(case, "submit", person.user)
    case = services.advance(case, "send_contact_letter", user("clerk.hangzhou"))
    personal, pooled = amounts
    return services.advance(
        case,
        "enter_amounts",
        user("clerk.jiujiang"),
        personal_account_amount=personal,
        pooled_fund_amount=pooled,
        remittance_reference="HK-2026-0001",
    )
