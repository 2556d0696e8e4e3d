"""Fixtures of the security tests.

`security_world` builds, once per test module and inside a transaction rolled back at the module's end,
every kind of user the portal knows and one case in each of the twelve states, all filed by HR of the
demo employer for an employee who has a login of their own (so that "the applicant" and "HR of the
filing employer" are both parties of every case), each walked to its state through the workflow service
(tests.world.put_in_state). Each case has a ready document, a failed document and an uploaded material,
so that every download and retry URL has something to point at.

Counts: tests call `tally(name, n)`; the numbers are printed at once (visible with -s) and again in a
"security test counts" section at the end of the run, and docs/security.md quotes them.
"""

import datetime
import hashlib
import io
import uuid
from dataclasses import dataclass, field
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction
from django.db.models import Max
from django.test import override_settings
from django.utils import timezone

from agencies.models import Agency, Region
from applications.cases import services
from applications.documents import tasks as document_tasks
from applications.employers.bulk import BULK_DECLARATIONS
from applications.management.commands.seed_demo import demo_resident_id, demo_uscc
from applications.models import (
    DocumentKind,
    Employer,
    EmployerStaff,
    FilingBatch,
    InsuredPerson,
    Material,
    MaterialKind,
    OfficialDocument,
    State,
)
from applications.notify import tasks as notify_tasks
from tests.factories import AgencyStaffFactory, EmployerStaffFactory, InsuredPersonFactory, UserFactory
from tests.workflow.helpers import minimal_pdf, require_services
from tests.world import put_in_state

User = get_user_model()
PASSWORD = "Demo-2026-portal"  # seed_demo's demo-only password

# The kinds of user of the authorization matrix.
ANON = "anonymous"
APPLICANT = "applicant"
OTHER_APPLICANT = "other_applicant"
HR = "hr_of_filing_employer"
OTHER_HR = "hr_of_other_employer"
IN_CLERK = "transfer_in_clerk"
OUT_CLERK = "transfer_out_clerk"
OUTSIDER_CLERK = "unrelated_agency_clerk"
IN_REVIEWER = "transfer_in_reviewer"
OUT_REVIEWER = "transfer_out_reviewer"
# Agency administrators manage their agency's staff and are no party to any case.
IN_AGENCY_ADMIN = "transfer_in_agency_administrator"
OUT_AGENCY_ADMIN = "transfer_out_agency_administrator"
ADMIN = "admin"
KINDS = (
    ANON,
    APPLICANT,
    OTHER_APPLICANT,
    HR,
    OTHER_HR,
    IN_CLERK,
    OUT_CLERK,
    OUTSIDER_CLERK,
    IN_REVIEWER,
    OUT_REVIEWER,
    IN_AGENCY_ADMIN,
    OUT_AGENCY_ADMIN,
    ADMIN,
)
ALL_STATES = tuple(State)

# A 1×1 PNG, small and valid: what an applicant uploads as a scan.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


# --- counts -------------------------------------------------------------------------------------------

COUNTS: dict[str, int] = {}


def tally(name, count):
    """Record how many cases/cells/examples a test tried (printed now and in the final summary)."""
    COUNTS[name] = COUNTS.get(name, 0) + count
    print(f"\nSECURITY-COUNT {name}: {COUNTS[name]}")


def pytest_terminal_summary(terminalreporter):
    if not COUNTS:
        return
    terminalreporter.section("security test counts")
    for name, count in sorted(COUNTS.items()):
        terminalreporter.write_line(f"{name}: {count}")


# --- the world ----------------------------------------------------------------------------------------


@dataclass
class SecurityWorld:
    users: dict  # kind -> user (the applicant is per case: see applicant_of)
    employer: Employer
    other_employer: Employer
    employee: InsuredPerson  # an employee of the filing employer, without a login
    in_agency: Agency
    out_agency: Agency
    outsider_agency: Agency
    cases: dict  # state -> case
    ready_documents: dict  # state -> OfficialDocument (ready, with its file)
    failed_documents: dict  # state -> OfficialDocument (failed)
    materials: dict  # state -> Material
    filed_batch: FilingBatch
    rejected_batch: FilingBatch
    persons: list = field(default_factory=list)
    scratch: dict = field(default_factory=dict)  # what a row's URL builder made for its effect check

    def user(self, kind, case=None):
        """The user of a kind; the applicant is the person of `case` (of the draft when no case)."""
        if kind == ANON:
            return None
        if kind == APPLICANT:
            return (case or self.cases[State.DRAFT]).person.user
        return self.users[kind]


def _user(username, first_name):
    """A user who logs in with the demo password (found again when asked for twice)."""
    return UserFactory(username=username, first_name=first_name, password=PASSWORD)


def next_version(case, kind):
    return (case.documents.filter(kind=kind).aggregate(latest=Max("version"))["latest"] or 0) + 1


def ready_document(case, kind=DocumentKind.APPLICATION_FORM, version=None, content=None):
    """A rendered document (the next version of its kind) with its file in private storage and its
    recorded SHA-256."""
    version = version or next_version(case, kind)
    content = content or minimal_pdf(f"{case.reference} {kind} v{version}")
    document = OfficialDocument(
        application=case,
        kind=kind,
        version=version,
        issuing_agency=case.transfer_in_agency,
        status=OfficialDocument.Status.READY,
        sha256=hashlib.sha256(content).hexdigest(),
        rendered_at=timezone.now(),
    )
    document.file.save(f"{case.reference}-{kind}-v{version}.pdf", ContentFile(content), save=False)
    document.save()
    return document


def add_material(case, uploader, content=TINY_PNG):
    digest = hashlib.sha256(content).hexdigest()
    material = Material(
        application=case,
        kind=MaterialKind.ID_CARD,
        content_type="image/png",
        size=len(content),
        sha256=digest,
        uploaded_by=uploader,
    )
    material.file.save(f"{case.reference}-id_card-{digest[:12]}.png", ContentFile(content), save=False)
    material.save()
    return material


def build_security_world():
    call_command("seed_demo", stdout=io.StringIO())
    in_agency = Agency.objects.get(code="YL330100")
    out_agency = Agency.objects.get(code="YL360400")
    outsider_agency = Agency.objects.get(code="YL110100")
    employer = EmployerStaff.objects.get(user__username="hr.hangzhou").employer
    other_employer, _created = Employer.objects.get_or_create(
        uscc=demo_uscc("91110108MA0000001"),
        defaults={"name": "北京另一家单位（安全测试）", "region": Region.objects.get(code="110100")},
    )
    other_hr = _user("hr.other", "另一单位人事")
    EmployerStaffFactory(user=other_hr, employer=other_employer)
    outsider_clerk = AgencyStaffFactory(
        user=_user("clerk.beijing", "北京无关经办员"), agency=outsider_agency
    ).user
    users = {
        OTHER_APPLICANT: User.objects.get(username="120103198806018241"),
        HR: User.objects.get(username="hr.hangzhou"),
        OTHER_HR: other_hr,
        IN_CLERK: User.objects.get(username="clerk.hangzhou"),
        OUT_CLERK: User.objects.get(username="clerk.jiujiang"),
        OUTSIDER_CLERK: outsider_clerk,
        IN_REVIEWER: User.objects.get(username="reviewer.hangzhou"),
        OUT_REVIEWER: User.objects.get(username="reviewer.jiujiang"),
        IN_AGENCY_ADMIN: User.objects.get(username="admin.hangzhou"),
        OUT_AGENCY_ADMIN: User.objects.get(username="admin.jiujiang"),
        ADMIN: User.objects.get(username="admin"),
    }
    hangzhou = Region.objects.get(code="330100")
    cases, ready, failed, materials, persons = {}, {}, {}, {}, []
    for index, state in enumerate(ALL_STATES):
        number = demo_resident_id(
            "330106", datetime.date(1990, 1, 1) + datetime.timedelta(days=index), 100 + index
        )
        person = InsuredPersonFactory(
            name=f"安全测试{index}",
            document_number=number,
            hukou_region=hangzhou,
            employer=employer,
            user=_user(number, f"安全测试{index}"),
        )
        persons.append(person)
        (case,) = services.create_drafts(
            person=person,
            schemes_and_agencies={"pension": (out_agency, in_agency)},
            filed_by=users[HR],
            filed_for_employer=employer,
            new_employer=employer,
            declarations=dict(BULK_DECLARATIONS, gap_months=0),
        )
        case = put_in_state(
            case,
            state,
            applicant=users[HR],
            in_clerk=users[IN_CLERK],
            out_clerk=users[OUT_CLERK],
            out_reviewer=users[OUT_REVIEWER],
        )
        cases[state] = case
        ready[state] = ready_document(case)
        failed[state] = OfficialDocument.objects.create(
            application=case,
            kind=DocumentKind.CONTACT_LETTER,
            version=next_version(case, DocumentKind.CONTACT_LETTER),
            issuing_agency=in_agency,
            status=OfficialDocument.Status.FAILED,
            error="test failure",
        )
        materials[state] = add_material(case, person.user)
    filed_batch = FilingBatch.objects.create(
        employer=employer, uploaded_by=users[HR], status=FilingBatch.Status.FILED, row_count=1
    )
    filed_batch.cases.add(cases[State.SUBMITTED])
    rejected_batch = FilingBatch.objects.create(
        employer=employer,
        uploaded_by=users[HR],
        status=FilingBatch.Status.REJECTED,
        row_count=1,
        errors=[{"row": 2, "column": "scheme", "message": "Unknown scheme."}],
    )
    employee = InsuredPerson.objects.filter(employer=employer, user__isnull=True).order_by("pk").first()
    return SecurityWorld(
        users=users,
        employer=employer,
        other_employer=other_employer,
        employee=employee,
        in_agency=in_agency,
        out_agency=out_agency,
        outsider_agency=outsider_agency,
        cases=cases,
        ready_documents=ready,
        failed_documents=failed,
        materials=materials,
        filed_batch=filed_batch,
        rejected_batch=rejected_batch,
        persons=persons,
    )


@pytest.fixture(scope="module")
def private_storage_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("private")


@pytest.fixture(scope="module")
def security_world_module(django_db_setup, django_db_blocker, private_storage_dir):
    with django_db_blocker.unblock(), override_settings(PRIVATE_STORAGE_DIR=private_storage_dir):
        module_transaction = transaction.atomic()
        module_transaction.__enter__()
        try:
            yield build_security_world()
        finally:
            transaction.set_rollback(True)
            module_transaction.__exit__(None, None, None)


@pytest.fixture
def world(security_world_module, db, private_storage_dir, settings):
    settings.PRIVATE_STORAGE_DIR = private_storage_dir
    # Every request comes from one address here: the password reset limit per address has tests of its
    # own (tests/people); the cache counts under a prefix of this test's own (nothing is flushed).
    settings.PASSWORD_RESET_LIMIT_PER_ADDRESS = 10**6
    settings.CACHES = {
        name: {**config, "KEY_PREFIX": f"security-{uuid.uuid4().hex}"}
        for name, config in settings.CACHES.items()
    }
    return security_world_module


@pytest.fixture(autouse=True)
def no_tasks():
    """The rendering and e-mail tasks are not under test here: their dispatch is recorded, not run."""
    with (
        mock.patch.object(document_tasks.render_document, "delay") as render_delay,
        mock.patch.object(notify_tasks.send_notification_emails, "delay"),
    ):
        yield render_delay


def require_postgresql():
    """Row locks need PostgreSQL: the shared rule fails under PORTAL_REQUIRE_SERVICES, else skips."""
    require_services()
