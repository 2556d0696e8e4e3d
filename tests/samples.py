"""Sample cases with every official document, for the document tests, previews and the benchmark
(scripts/bench_documents.py).

Each case is walked through the workflow service (services.create_drafts, services.advance and
services.save_contribution_table) at the times of its history, by sample staff of the demo agencies, so
that its fields, events and documents are the ones a real case has: a completed case carries the data of
every step and the five documents its steps produced, a refused or returned one its written explanation.
The documents are left pending, as freshly queued: the rendering and e-mail tasks the steps queue after
commit are not sent (the caller renders). Agencies come from the demo directory when it is loaded, and
are created the same way otherwise. Every value says it is sample data.
"""

import datetime
import random
from decimal import Decimal
from unittest import mock

from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, AgencyStaff, Region
from applications.cases import services
from applications.cases.contributions import validate_rows
from applications.documents import tasks as document_tasks
from applications.models import DocumentKind, DocumentType, Employer, InsuredPerson, OfficialDocument, State
from applications.notify import tasks as notify_tasks
from applications.people.identifiers import resident_id_check_char
from applications.rules.money import to_fen
from tests.factories import (
    AgencyFactory,
    AgencyStaffFactory,
    EmployerFactory,
    InsuredPersonFactory,
    UserFactory,
    uscc,
)
from tests.world import amounts_for, clock_at, put_in_state, take

# Which agency issues each document (as in the workflow table).
ISSUED_BY_TRANSFER_OUT = {DocumentKind.FUND_TRANSFER_RECORD, DocumentKind.INFORMATION_FORM}
OUT_REGION, IN_REGION = "360400", "330100"  # 九江 → 杭州, as in the demo data

# The worked example of domain.md section 3 (pooled fund 19,440.00), credited at 8% from 2006.
DEFAULT_YEARS = [
    # year, start month, end month, monthly base
    (2015, 1, 12, Decimal("5000.00")),
    (2016, 1, 12, Decimal("5500.00")),
    (2017, 1, 6, Decimal("6000.00")),
]

# How many days ago each step was taken.
SUBMITTED, DECIDED, CONTACT_LETTER, AMOUNTS_ENTERED, FUNDS_TRANSFERRED = 30, 28, 25, 16, 15
INFORMATION_FORM, FUNDS_RECEIVED, COMPLETED = 14, 4, 3


def demo_agency(scheme: str, region_code: str) -> Agency:
    """The demo directory's agency of a scheme in a prefecture (agencies.reference.load_demo_agencies)."""
    return AgencyFactory(
        demo=True, scheme=scheme, region=Region.objects.select_related("parent").get(code=region_code)
    )


def sample_staff(username, first_name, agencies, role=AgencyStaff.Role.CLERK):
    user = UserFactory(username=username, first_name=first_name)
    for agency in agencies:
        AgencyStaffFactory(user=user, agency=agency, role=role)
    return user


def unused_resident_id(address_code: str, rng: random.Random, *, born_after, born_before, man=None) -> str:
    """A resident ID nobody has yet, born between the two dates; a man, a woman, or either (None)."""
    span = (born_before - born_after).days
    while True:
        birth = born_after + datetime.timedelta(days=rng.randrange(0, span))
        sequence = rng.randrange(0, 1000)
        if man is not None and (sequence % 2 == 1) != man:  # the 17th digit: odd for a man
            sequence = (sequence + 1) % 1000
        first17 = f"{address_code}{birth:%Y%m%d}{sequence:03d}"
        number = first17 + resident_id_check_char(first17)
        if not InsuredPerson.objects.filter(
            document_type=DocumentType.RESIDENT_ID, document_number=number
        ).exists():
            return number


def unused_uscc(rng: random.Random) -> str:
    while True:
        first17 = f"91330106MA{rng.randrange(0, 10**7):07d}"
        code = uscc(first17)
        if not Employer.objects.filter(uscc=code).exists():
            return code


def contribution_rows(region: Region, years=DEFAULT_YEARS) -> list[dict]:
    """The yearly table as the transfer-out clerk types it (credited at 8%, 2.5% interest on the balance)."""
    balance = Decimal("0")
    rows = []
    for year, start, end, base in years:
        months = end - start + 1
        credited = to_fen(base * months * Decimal("0.08"))
        interest = to_fen(balance * Decimal("0.025"))
        balance += credited + interest
        rows.append(
            {
                "region_code": region.code,
                "year": year,
                "start_month": start,
                "end_month": end,
                "monthly_base": base,
                "employer_rate": "0.1600",
                "credited_rate": "0.0800",
                "individual_rate": "0.0800",
                "credited_amount": credited,
                "interest": interest,
                "year_end_balance": balance,
            }
        )
    rows, errors = validate_rows(rows)
    assert not errors, errors
    return rows


def sample_case(
    *,
    scheme="pension",
    state=State.COMPLETED,
    name="张伟",
    address="浙江省杭州市西湖区文三路 90 号 3 幢 201 室",
    employer_name="杭州示例科技有限公司（演示）",
    agent_name="李娜",
    agent_phone="13800000002",
    agent_relation="配偶",
    reason="原参保地尚未办理暂停缴费，请先到原参保地经办机构或原单位办理暂停缴费后再申请。",
    legal_basis="《城镇企业职工基本养老保险关系转移接续暂行办法》（国办发〔2009〕66号）第八条",
    remittance_reference="HK2026112800012345",
    old_person_number="3604001234567",
    years=DEFAULT_YEARS,
    temporary_account=False,
    seed=None,
):
    """A case in `state` (completed, refused or returned) with all its step data filled in.

    temporary_account: the applicant is a man over 50 whose hukou stays in Jiangxi, so that the pension
    stays there and a temporary account moves (66号 art. 5); otherwise the applicant is under 40."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not security
    # The rendering and e-mail tasks the steps queue are not sent: the documents stay pending.
    with (
        mock.patch.object(document_tasks.render_document, "delay"),
        mock.patch.object(notify_tasks.send_notification_emails, "delay"),
        transaction.atomic(),
    ):
        out_agency = demo_agency(scheme, OUT_REGION)
        in_agency = demo_agency(scheme, IN_REGION)
        clerk = sample_staff("sample-clerk", "王芳", [out_agency, in_agency])
        reviewer = sample_staff("sample-reviewer", "李强", [out_agency], AgencyStaff.Role.REVIEWER)
        staff = {"in_clerk": clerk, "out_clerk": clerk, "out_reviewer": reviewer}
        employer = EmployerFactory(
            name=employer_name,
            uscc=unused_uscc(rng),
            region=in_agency.region,
            address="杭州市滨江区示例路 1 号（演示）",
            phone="0571-00000000",
        )
        today = timezone.localdate()

        def years_ago(years):
            return datetime.date(today.year - years, today.month, min(today.day, 28))

        if temporary_account:
            born = {"born_after": years_ago(55), "born_before": years_ago(51), "man": True}
        else:
            born = {"born_after": years_ago(39), "born_before": years_ago(20)}
        person = InsuredPersonFactory(
            with_login=True,
            name=name,
            document_number=unused_resident_id("360426", rng, **born),
            hukou_region=Region.objects.get(code="360400"),
            phone="13800000001",
            address=address,
            employer=employer,
        )
        now = timezone.now()

        def ago(days):
            return now - datetime.timedelta(days=days)

        with clock_at(ago(SUBMITTED)):
            (case,) = services.create_drafts(
                person=person,
                schemes_and_agencies={scheme: (out_agency, in_agency)},
                filed_by=person.user,
                new_employer=employer,
                old_person_number=old_person_number,
                agent_name=agent_name,
                agent_phone=agent_phone,
                agent_relation=agent_relation,
            )
        case = put_in_state(case, State.SUBMITTED, at=ago(SUBMITTED), **staff)
        assert case.temporary_account == (temporary_account and scheme == "pension"), "the eligibility rules"
        if state in (State.REFUSED, State.RETURNED):
            decision = {"reason": reason}
            if state == State.REFUSED:
                decision["legal_basis"] = legal_basis
            return put_in_state(
                case,
                state,
                at=ago(DECIDED),
                data={"refuse_by_transfer_in": decision, "return_for_correction": decision},
                **staff,
            )

        case = take(case, "send_contact_letter", by=clerk, at=ago(CONTACT_LETTER))
        with clock_at(ago(AMOUNTS_ENTERED)):
            services.save_contribution_table(case, clerk, contribution_rows(out_agency.region, years))
        entered = {**amounts_for(case), "remittance_reference": remittance_reference}
        case = take(case, "enter_amounts", by=clerk, at=ago(AMOUNTS_ENTERED), **entered)
        case = take(case, "approve_amounts", by=reviewer, at=ago(FUNDS_TRANSFERRED))
        case = take(case, "send_information_form", by=clerk, at=ago(INFORMATION_FORM))
        case = take(case, "match_funds", by=clerk, at=ago(FUNDS_RECEIVED))
        return take(case, "complete", by=clerk, at=ago(COMPLETED))


def sample_document(case, kind) -> OfficialDocument:
    """The next version of a document of `kind` for the case, pending like a freshly queued one."""
    agency = case.transfer_out_agency if kind in ISSUED_BY_TRANSFER_OUT else case.transfer_in_agency
    latest = case.documents.filter(kind=kind).order_by("-version").values_list("version", flat=True).first()
    return OfficialDocument.objects.create(
        application=case, kind=kind, version=(latest or 0) + 1, issuing_agency=agency
    )


def sample_documents(**case_options) -> dict[str, OfficialDocument]:
    """One document of every kind, as the steps produced them: five of a completed case, the written
    explanation of a refused one."""
    completed = sample_case(state=State.COMPLETED, **case_options)
    refused = sample_case(state=State.REFUSED, **case_options)
    documents = {document.kind: document for document in completed.documents.order_by("pk")}
    documents[DocumentKind.WRITTEN_EXPLANATION] = refused.documents.get(kind=DocumentKind.WRITTEN_EXPLANATION)
    return documents
