"""Helpers shared by the workflow tests and the integration tests: the people of a case, cases put in a
given state, a logged-in client, a small valid PDF, and the rule for tests that need PostgreSQL/Redis."""

import io
import os
import sys
import types
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from agencies.models import Agency, AgencyStaff, Region
from applications import services
from applications.models import (
    DocumentKind,
    DocumentType,
    Employer,
    EmployerStaff,
    InsuredPerson,
    State,
    TransferApplication,
)
from applications.states import Party

User = get_user_model()

# Amounts a transfer-out clerk enters for a pension case (personal account + pooled fund).
PERSONAL = Decimal("12345.67")
POOLED = Decimal("19440.00")
TOTAL = PERSONAL + POOLED


IN, OUT = "in", "out"

# The five steps as domain.md section 2 and issue 3 describe them, written down independently of
# applications/workflow.py: action -> (from states, to state, who, document, issuing agency,
# timestamp set, due date: None = cleared, a number = working days from today (pension), KEEP).
KEEP = "keep"
SPEC = {
    "submit": (
        {State.DRAFT}, State.SUBMITTED, Party.APPLICANT, DocumentKind.APPLICATION_FORM, IN, "submitted_at", 15,
    ),
    "withdraw": (
        {State.DRAFT, State.SUBMITTED, State.RETURNED}, State.WITHDRAWN, Party.APPLICANT, None, None,
        "closed_at", None,
    ),
    "return_for_correction": (
        {State.SUBMITTED}, State.RETURNED, Party.IN_CLERK, DocumentKind.WRITTEN_EXPLANATION, IN, None, None,
    ),
    "resubmit": (
        {State.RETURNED}, State.SUBMITTED, Party.APPLICANT, DocumentKind.APPLICATION_FORM, IN, "submitted_at",
        15,
    ),
    "refuse_by_transfer_in": (
        {State.SUBMITTED}, State.REFUSED, Party.IN_CLERK, DocumentKind.WRITTEN_EXPLANATION, IN, "closed_at",
        None,
    ),
    "send_contact_letter": (
        {State.SUBMITTED}, State.CONTACT_LETTER_SENT, Party.IN_CLERK, DocumentKind.CONTACT_LETTER, IN,
        "contact_letter_at", 15,
    ),
    "refuse_by_transfer_out": (
        {State.CONTACT_LETTER_SENT}, State.REFUSED, Party.OUT_CLERK, DocumentKind.WRITTEN_EXPLANATION, OUT,
        "closed_at", None,
    ),
    "enter_amounts": (
        {State.CONTACT_LETTER_SENT}, State.AMOUNTS_PENDING_APPROVAL, Party.OUT_CLERK, None, None, None, KEEP,
    ),
    "approve_amounts": (
        {State.AMOUNTS_PENDING_APPROVAL}, State.FUNDS_TRANSFERRED, Party.OUT_REVIEWER,
        DocumentKind.FUND_TRANSFER_RECORD, OUT, "funds_transferred_at", KEEP,
    ),
    "reject_amounts": (
        {State.AMOUNTS_PENDING_APPROVAL}, State.CONTACT_LETTER_SENT, Party.OUT_REVIEWER, None, None, None, KEEP,
    ),
    "send_information_form": (
        {State.FUNDS_TRANSFERRED}, State.INFORMATION_FORM_SENT, Party.OUT_CLERK, DocumentKind.INFORMATION_FORM,
        OUT, "information_form_at", 15,
    ),
    # With the amount received equal to the information form's total.
    "match_funds": (
        {State.INFORMATION_FORM_SENT, State.FUNDS_MISMATCH}, State.FUNDS_MATCHED, Party.IN_CLERK, None, None,
        None, KEEP,
    ),
    "complete": (
        {State.FUNDS_MATCHED}, State.COMPLETED, Party.IN_CLERK, DocumentKind.CONTINUATION_NOTICE, IN,
        "completed_at", None,
    ),
}  # fmt: skip

# What a user types into the action's form for the transition to go through.
VALID_DATA = {
    "return_for_correction": {"reason": "请补充上传身份证复印件"},
    "refuse_by_transfer_in": {"reason": "原参保地未暂停缴费", "legal_basis": "国办发〔2009〕66号 第八条"},
    "refuse_by_transfer_out": {"reason": "存在欠费", "legal_basis": "国办发〔2009〕66号 第八条"},
    "enter_amounts": {
        "personal_account_amount": PERSONAL,
        "pooled_fund_amount": POOLED,
        "remittance_reference": "HK-2026-001",
    },
    "reject_amounts": {"reason": "统筹基金金额有误"},
    "match_funds": {"received_amount": TOTAL},
}


def require_services(redis=False):
    """PostgreSQL (and Redis) or nothing: under PORTAL_REQUIRE_SERVICES the test fails, otherwise (a
    local SQLite run) it is skipped."""
    problems = []
    if connection.vendor != "postgresql":
        problems.append("needs PostgreSQL")
    if redis:
        if not settings.REDIS_URL:
            problems.append("needs Redis (REDIS_URL)")
        else:
            import redis as redis_client

            try:
                redis_client.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=3).ping()
            except redis_client.RedisError as error:
                problems.append(f"needs Redis ({error})")
    if problems:
        reason = "; ".join(problems)
        if os.environ.get("PORTAL_REQUIRE_SERVICES"):
            pytest.fail(f"PORTAL_REQUIRE_SERVICES is set: {reason}", pytrace=False)
        pytest.skip(reason)


def minimal_pdf(text: str = "test") -> bytes:
    """A small, valid one-page PDF (with a correct cross-reference table)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def documents_package_exists() -> bool:
    import applications

    return (Path(applications.__file__).parent / "documents" / "__init__.py").exists()


def install_renderer(monkeypatch):
    """The real renderer when applications/documents exists; otherwise a stand-in module whose
    render_official_document returns a small valid PDF. Returns (module, is_real)."""
    if documents_package_exists():
        import applications.documents as documents

        return documents, True
    documents = types.ModuleType("applications.documents")
    documents.render_official_document = lambda document: minimal_pdf(document.application.reference)
    monkeypatch.setitem(sys.modules, "applications.documents", documents)
    return documents, False


@dataclass
class World:
    """The demo people (seed_demo) plus the outsiders and the medical agencies' staff tests need."""

    person: InsuredPerson  # 张伟, files for himself
    applicant: User
    other_person: InsuredPerson  # 李娜, another insured person with her own login
    other_applicant: User
    in_clerk: User
    in_clerk_2: User
    in_reviewer: User
    out_clerk: User
    out_reviewer: User
    out_clerk_and_reviewer: User  # both roles at the transfer-out agency
    outsider_clerk: User  # clerk of an agency that has nothing to do with the case
    outsider_reviewer: User
    hr: User  # HR of the demo employer
    other_hr: User  # HR of another employer
    employer: Employer
    employee: InsuredPerson  # an employee of the demo employer, without a login
    yl_in: Agency
    yl_out: Agency
    yb_in: Agency
    yb_out: Agency
    yb_in_clerk: User
    yb_out_clerk: User
    yb_out_reviewer: User

    def user_of(self, party: Party, scheme="pension") -> User:
        if scheme == "medical":
            return {
                Party.APPLICANT: self.applicant,
                Party.IN_CLERK: self.yb_in_clerk,
                Party.OUT_CLERK: self.yb_out_clerk,
                Party.OUT_REVIEWER: self.yb_out_reviewer,
            }[party]
        return {
            Party.APPLICANT: self.applicant,
            Party.IN_CLERK: self.in_clerk,
            Party.IN_REVIEWER: self.in_reviewer,
            Party.OUT_CLERK: self.out_clerk,
            Party.OUT_REVIEWER: self.out_reviewer,
        }[party]

    def agencies(self, scheme):
        return (self.yl_out, self.yl_in) if scheme == "pension" else (self.yb_out, self.yb_in)


def _user(username, first_name=""):
    user, _created = User.objects.get_or_create(username=username, defaults={"first_name": first_name})
    return user


def _staff(username, agency, *roles):
    user = _user(username, username)
    for role in roles:
        AgencyStaff.objects.get_or_create(user=user, agency=agency, role=role)
    return user


# The agencies the tests use: the demo pension and medical agencies of Hangzhou and Jiujiang, and Beijing.
WORLD_AGENCIES = ("YL330100", "YL360400", "YB330100", "YB360400", "YL110100")


def build_small_world() -> World:
    """The same world for transactional tests, faster: only the five agencies the tests use are created
    (seed_demo then skips the national directory), and the GB/T 2260 regions are loaded again if an
    earlier transactional test flushed them."""
    from agencies.reference import DEMO_SCHEMES, demo_connected, load_regions, place_name

    if not Region.objects.exists():
        load_regions(Region)
    for code in WORLD_AGENCIES:
        scheme = "pension" if code.startswith("YL") else "medical"
        region = Region.objects.select_related("parent").get(code=code[2:])
        place = place_name(region)
        name = f"{place}{DEMO_SCHEMES[scheme][1]}（演示）"
        Agency.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "scheme": scheme,
                "region": region,
                "address": f"{place}演示路 1 号（演示地址）",
                "postcode": "000000",
                "phone": "0000-12333（演示）",
                "online_connected": demo_connected(region.code),
                "fund_account_name": f"{name}基金收入户",
                "fund_bank": "演示银行（非真实账户）",
                "fund_account_number": f"DEMO-{code}",
            },
        )
    return build_world()


def build_world() -> World:
    """seed_demo, then the extra people. Safe to run inside a transaction or committed."""
    call_command("seed_demo", stdout=io.StringIO())
    yl_in, yl_out = Agency.objects.get(code="YL330100"), Agency.objects.get(code="YL360400")
    yb_in, yb_out = Agency.objects.get(code="YB330100"), Agency.objects.get(code="YB360400")
    beijing = Agency.objects.get(code="YL110100")
    other_employer, _created = Employer.objects.get_or_create(
        uscc="91110000600037341L",
        defaults={"name": "北京另一家单位（测试）", "region": Region.objects.get(code="110100")},
    )
    other_hr = _user("hr.other", "另一单位人事")
    EmployerStaff.objects.get_or_create(user=other_hr, employer=other_employer)
    employer = EmployerStaff.objects.get(user__username="hr.hangzhou").employer
    clerk, reviewer = AgencyStaff.Role.CLERK, AgencyStaff.Role.REVIEWER
    return World(
        person=InsuredPerson.objects.get(
            document_type=DocumentType.RESIDENT_ID, document_number="360426199101010071"
        ),
        applicant=User.objects.get(username="360426199101010071"),
        other_person=InsuredPerson.objects.get(document_number="120103198806018241"),
        other_applicant=User.objects.get(username="120103198806018241"),
        in_clerk=User.objects.get(username="clerk.hangzhou"),
        in_clerk_2=_staff("clerk2.hangzhou", yl_in, clerk),
        in_reviewer=User.objects.get(username="reviewer.hangzhou"),
        out_clerk=User.objects.get(username="clerk.jiujiang"),
        out_reviewer=User.objects.get(username="reviewer.jiujiang"),
        out_clerk_and_reviewer=_staff("both.jiujiang", yl_out, clerk, reviewer),
        outsider_clerk=_staff("clerk.beijing", beijing, clerk),
        outsider_reviewer=_staff("reviewer.beijing", beijing, reviewer),
        hr=User.objects.get(username="hr.hangzhou"),
        other_hr=other_hr,
        employer=employer,
        employee=InsuredPerson.objects.filter(employer=employer).order_by("document_number").first(),
        yl_in=yl_in,
        yl_out=yl_out,
        yb_in=yb_in,
        yb_out=yb_out,
        yb_in_clerk=_staff("clerk.yb.hangzhou", yb_in, clerk),
        yb_out_clerk=_staff("clerk.yb.jiujiang", yb_out, clerk),
        yb_out_reviewer=_staff("reviewer.yb.jiujiang", yb_out, reviewer),
    )


def new_case(world: World, scheme="pension", *, person=None, filed_by=None, employer=None):
    """A draft filed by the person (张伟 unless another is given), or by HR of `employer` for an
    employee. A person has one open case per scheme at a time."""
    out_agency, in_agency = world.agencies(scheme)
    person = person or world.person
    (case,) = services.create_drafts(
        person=person,
        schemes_and_agencies={scheme: (out_agency, in_agency)},
        filed_by=filed_by or person.user,
        filed_for_employer=employer,
        new_employer=employer,
    )
    return case


def put_in_state(case, state: State, world: World):
    """Write a case straight into `state` with the fields a case has there (amounts entered and
    approved by the demo staff, and so on); returns the fresh row."""
    now = timezone.now()
    earlier = now - timedelta(days=3)
    fields = {"state": state}
    reached = [
        State.SUBMITTED,
        State.CONTACT_LETTER_SENT,
        State.AMOUNTS_PENDING_APPROVAL,
        State.FUNDS_TRANSFERRED,
        State.INFORMATION_FORM_SENT,
        State.FUNDS_MISMATCH,
        State.FUNDS_MATCHED,
        State.COMPLETED,
    ]
    depth = reached.index(state) + 1 if state in reached else 0
    if depth >= 1:
        fields.update(submitted_at=earlier, due_date=timezone.localdate() + timedelta(days=20))
    if depth >= 2:
        fields.update(contact_letter_at=earlier)
    if depth >= 3:
        fields.update(
            personal_account_amount=PERSONAL,
            pooled_fund_amount=POOLED,
            transfer_total=TOTAL,
            remittance_reference="HK-001",
            amounts_entered_by=world.out_clerk,
        )
    if depth >= 4:
        fields.update(amounts_approved_by=world.out_reviewer, funds_transferred_at=earlier)
    if depth >= 5:
        fields.update(information_form_at=earlier)
    if state == State.FUNDS_MISMATCH:
        fields.update(received_amount=TOTAL - 1)
    if state in (State.FUNDS_MATCHED, State.COMPLETED):
        fields.update(received_amount=TOTAL)
    if state == State.COMPLETED:
        fields.update(completed_at=earlier, due_date=None)
    if state == State.RETURNED:
        fields.update(submitted_at=earlier, reason="缺少身份证复印件")
    if state == State.REFUSED:
        fields.update(
            submitted_at=earlier,
            closed_at=earlier,
            reason="存在欠费",
            legal_basis="国办发〔2009〕66号 第八条",
        )
    if state == State.WITHDRAWN:
        fields.update(closed_at=earlier)
    TransferApplication.objects.filter(pk=case.pk).update(**fields)
    return TransferApplication.objects.get(pk=case.pk)


def login(client, user):
    """Log in; agency staff also pass the second factor (a confirmed TOTP device in the session)."""
    client.force_login(user)
    if "django_otp" in settings.INSTALLED_APPS and AgencyStaff.objects.filter(user=user).exists():
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device, _created = TOTPDevice.objects.get_or_create(
            user=user, name="test", defaults={"confirmed": True}
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client
