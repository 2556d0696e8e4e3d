"""Shared set-up of the employer portal tests: the demo world (`manage.py seed_demo`), the HR user of
the Hangzhou demo employer logged in with English pages, and no real rendering or e-mail tasks."""

import datetime
import io
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from applications.models import DocumentType, Employer, InsuredPerson
from tests.factories import resident_id
from tests.world import login

HR = "hr.hangzhou"
DEMO_EMPLOYER = "杭州演示科技有限公司（演示）"


@pytest.fixture(autouse=True)
def _demo(demo_world, db):
    """Every test here starts from `call_command("seed_demo")` (tests/conftest.py, once per module)."""


@pytest.fixture(autouse=True)
def tasks():
    """The Celery tasks the workflow dispatches after commit, replaced by mocks."""
    with (
        mock.patch("applications.documents.tasks.render_document.delay") as render,
        mock.patch("applications.notify.tasks.send_notification_emails.delay") as emails,
    ):
        yield mock.Mock(render=render, emails=emails)


@pytest.fixture
def employer():
    return Employer.objects.get(name=DEMO_EMPLOYER)


@pytest.fixture
def hr(client):
    return login(client, HR, language="en")


def csv_file(text, name="file.csv", encoding="utf-8"):
    return SimpleUploadedFile(name, text.encode(encoding), content_type="text/csv")


def csv_text(header, rows):
    out = io.StringIO()
    out.write(",".join(header) + "\r\n")
    for row in rows:
        out.write(",".join(str(value) for value in row) + "\r\n")
    return out.getvalue()


def make_employees(employer, count, start=0):
    """`count` employees in one insert (bulk_create skips save(), so sex and birth date are set here)."""
    people = []
    for n in range(start, start + count):
        born = datetime.date(1970, 1, 1) + datetime.timedelta(days=11 * n)
        sequence = 100 + n % 900
        people.append(
            InsuredPerson(
                name=f"员工{n:04d}",
                document_type=DocumentType.RESIDENT_ID,
                document_number=resident_id("330102", born, sequence),
                sex="M" if sequence % 2 else "F",
                birth_date=born,
                hukou_region_id="330100",
                employer=employer,
            )
        )
    return InsuredPerson.objects.bulk_create(people)
