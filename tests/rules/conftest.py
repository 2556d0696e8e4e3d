"""Helpers for the transfer-rule tests: the demo agencies and people, and cases moved through the real
workflow service. The clock (tests.world.clock_at) and logging in (tests.world.login) are the test
world's."""

import csv
import datetime
import io
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import transaction

from agencies.models import Agency
from applications.cases import services
from applications.cases.contributions import COLUMNS
from applications.models import Employer, InsuredPerson
from tests.factories import InsuredPersonFactory, region


@pytest.fixture(scope="package")
def demo_world(django_db_setup, django_db_blocker):
    """tests/conftest.py's `demo_world` (seed_demo in a transaction rolled back at the end, each test in a
    savepoint inside it), seeded once for this package instead of once per module: seeding is most of
    the run time, and every test here runs in its own savepoint anyway."""
    with django_db_blocker.unblock():
        package_transaction = transaction.atomic()
        package_transaction.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            package_transaction.__exit__(None, None, None)


@pytest.fixture(autouse=True)
def no_document_rendering():
    """Documents are not under test here: their rendering task is never dispatched."""
    with mock.patch("applications.documents.tasks.render_document.delay") as delay:
        yield delay


@pytest.fixture(autouse=True)
def emails_sent_in_process():
    """The e-mail task runs here, at once, when the transaction's on-commit callbacks run (as a worker
    would run it), instead of being published to the broker."""
    from applications.notify import tasks

    task = tasks.send_notification_emails
    with mock.patch.object(task, "delay", lambda ids: task.apply(args=(ids,))) as delay:
        yield delay


def user(username):
    return get_user_model().objects.get(username=username)


def agency(code):
    return Agency.objects.get(code=code)


def person(document_number=None, *, name=None):
    if name is not None:
        return InsuredPerson.objects.get(name=name)
    return InsuredPerson.objects.get(document_number=document_number)


def like_zhang_wei(scheme):
    from applications.cases.states import CLOSED_STATES
    from applications.management.commands.seed_demo import demo_resident_id

    zhang = person(ZHANG_WEI)
    if not zhang.applications.filter(scheme=scheme).exclude(state__in=CLOSED_STATES).exists():
        return zhang
    sequence = 2 * InsuredPerson.objects.filter(document_number__startswith="36042619910101").count() + 101
    number = demo_resident_id("360426", datetime.date(1991, 1, 1), sequence)
    return InsuredPersonFactory(
        with_login=True, name="张伟", document_number=number, hukou_region=region("360400")
    )


def demo_employer():
    return Employer.objects.get(name="杭州演示科技有限公司（演示）")


ZHANG_WEI = "360426199101010071"  # man, born 1991, hukou Jiujiang (Jiangxi), has a login


def draft(
    insured=None,
    *,
    out_code="YL360400",
    in_code="YL330100",
    scheme="pension",
    filed_by=None,
    employer=None,
    **declarations,
):
    """A draft filed through the service, with the applicant's declarations (paused by default).

    Without `insured`, the applicant is 张伟 or, once he has an open case of the scheme (a person may have
    only one), a new man like him: born 1 January 1991, hukou Jiujiang."""
    insured = insured or like_zhang_wei(scheme)
    declared = {"contributions_paused": True, **declarations}
    (case,) = services.create_drafts(
        person=insured,
        schemes_and_agencies={scheme: (agency(out_code), agency(in_code))},
        filed_by=filed_by or insured.user,
        filed_for_employer=employer,
        declarations=declared,
    )
    return case


def submitted(case, by=None):
    return services.advance(case, "submit", by or case.filed_by)


def contact_letter_sent(case, clerk="clerk.hangzhou"):
    """Submit (as the filer) and send the contact letter (as the transfer-in clerk)."""
    case = submitted(case)
    return services.advance(case, "send_contact_letter", user(clerk))


def csv_bytes(rows, columns=COLUMNS, encoding="utf-8"):
    """A contribution table as a spreadsheet would export it."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([[row.get(c, "") for c in columns] for row in rows])
    return out.getvalue().encode(encoding)


def upload(client, case, data, **extra):
    """Import a CSV on the case's contribution table page, in English."""
    client.cookies["django_language"] = "en"
    return client.post(
        f"/cases/{case.reference}/contributions/",
        {"csv-csv_file": SimpleUploadedFile("table.csv", data, content_type="text/csv")},
        **extra,
    )
