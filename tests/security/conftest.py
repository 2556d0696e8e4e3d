"""Fixtures of the security tests.

`security_world` builds, once per test module and inside a transaction rolled back at the module's end,
every kind of user the portal knows and one case in each of the twelve states, all filed by HR of the
demo employer for an employee who has a login of their own (so that "the applicant" and "HR of the
filing employer" are both parties of every case). Each case has a ready document, a failed document and
an uploaded material, so that every download and retry URL has something to point at.

Counts: tests call `tally(name, n)`; the numbers are printed at once (visible with -s) and again in a
"security test counts" section at the end of the run, and docs/security.md quotes them.
"""

import datetime
import hashlib
import io
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import transaction
from django.test import Client, override_settings
from django.utils import timezone

from agencies.models import Agency, AgencyStaff, Region
from applications import services
from applications.bulk import BULK_DECLARATIONS
from applications.documents import tasks as document_tasks
from applications.management.commands.seed_demo import demo_resident_id, demo_uscc
from applications.models import (
    DocumentKind,
    DocumentType,
    Employer,
    EmployerStaff,
    FilingBatch,
    InsuredPerson,
    Material,
    MaterialKind,
    OfficialDocument,
    State,
    TransferApplication,
)
from applications.notify import tasks as notify_tasks
from tests.workflow.helpers import require_services

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

PERSONAL_AMOUNT = Decimal("12345.67")
POOLED_AMOUNT = Decimal("19440.00")
TOTAL_AMOUNT = PERSONAL_AMOUNT + POOLED_AMOUNT

# A 1×1 PNG, small and valid: what an applicant uploads as a scan.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def minimal_pdf(text="security test"):
    """A small valid one-page PDF."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


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
    user, created = User.objects.get_or_create(username=username, defaults={"first_name": first_name})
    if created:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return user


def put_in_state(case, state, out_clerk, out_reviewer):
    """Write a case straight into `state` with the fields a case has there."""
    earlier = timezone.now() - datetime.timedelta(days=3)
    order = [
        State.SUBMITTED,
        State.CONTACT_LETTER_SENT,
        State.AMOUNTS_PENDING_APPROVAL,
        State.FUNDS_TRANSFERRED,
        State.INFORMATION_FORM_SENT,
        State.FUNDS_MISMATCH,
        State.FUNDS_MATCHED,
        State.COMPLETED,
    ]
    depth = order.index(state) + 1 if state in order else 0
    fields = {"state": state}
    if depth >= 1 or state in (State.RETURNED, State.REFUSED):
        fields.update(submitted_at=earlier, due_date=timezone.localdate() + datetime.timedelta(days=20))
    if depth >= 2:
        fields.update(contact_letter_at=earlier)
    if depth >= 3:
        fields.update(
            personal_account_amount=PERSONAL_AMOUNT,
            pooled_fund_amount=POOLED_AMOUNT,
            transfer_total=TOTAL_AMOUNT,
            remittance_reference="HK-001",
            amounts_entered_by=out_clerk,
        )
    if depth >= 4:
        fields.update(amounts_approved_by=out_reviewer, funds_transferred_at=earlier)
    if depth >= 5:
        fields.update(information_form_at=earlier)
    if state == State.FUNDS_MISMATCH:
        fields.update(received_amount=TOTAL_AMOUNT - 1)
    if state in (State.FUNDS_MATCHED, State.COMPLETED):
        fields.update(received_amount=TOTAL_AMOUNT)
    if state == State.COMPLETED:
        fields.update(completed_at=earlier, due_date=None)
    if state == State.RETURNED:
        fields.update(reason="缺少身份证复印件", due_date=None)
    if state == State.REFUSED:
        fields.update(
            closed_at=earlier, reason="存在欠费", legal_basis="国办发〔2009〕66号 第八条", due_date=None
        )
    if state == State.WITHDRAWN:
        fields.update(closed_at=earlier)
    TransferApplication.objects.filter(pk=case.pk).update(**fields)
    return TransferApplication.objects.get(pk=case.pk)


def ready_document(case, kind=DocumentKind.APPLICATION_FORM, version=1, content=None):
    """A rendered document with its file in private storage and its recorded SHA-256."""
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
    EmployerStaff.objects.get_or_create(user=other_hr, employer=other_employer)
    outsider_clerk = _user("clerk.beijing", "北京无关经办员")
    AgencyStaff.objects.get_or_create(
        user=outsider_clerk, agency=outsider_agency, role=AgencyStaff.Role.CLERK
    )
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
        user = _user(number, f"安全测试{index}")
        person = InsuredPerson.objects.create(
            name=f"安全测试{index}",
            document_type=DocumentType.RESIDENT_ID,
            document_number=number,
            hukou_region=hangzhou,
            phone="13800138000",
            employer=employer,
            user=user,
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
        case = put_in_state(case, state, users[OUT_CLERK], users[OUT_REVIEWER])
        cases[state] = case
        ready[state] = ready_document(case)
        failed[state] = OfficialDocument.objects.create(
            application=case,
            kind=DocumentKind.CONTACT_LETTER,
            version=1,
            issuing_agency=in_agency,
            status=OfficialDocument.Status.FAILED,
            error="test failure",
        )
        materials[state] = add_material(case, user)
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


def client_as(user, *, language="en", **kwargs):
    """A test client logged in as `user` (None: anonymous), speaking English so that messages can be read.
    Agency staff are marked as having passed the second factor (tests/conftest.py)."""
    client = Client(**kwargs)
    client.cookies["django_language"] = language
    if user is not None:
        client.force_login(user)
    return client


def require_postgresql():
    """Row locks need PostgreSQL: the shared rule fails under PORTAL_REQUIRE_SERVICES, else skips."""
    require_services()
