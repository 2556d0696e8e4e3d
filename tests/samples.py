"""Sample cases with every official document, for the document tests, previews and the benchmark.

Built with plain ORM calls, so that one case carries the data of every step at once (a real case gets
there through services.advance). Agencies come from the demo directory when it is loaded, and are
created the same way otherwise. Every value says it is sample data.
"""

import datetime
import random
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from agencies.models import Agency, Region
from agencies.reference import DEMO_SCHEMES, place_name
from applications.identifiers import resident_id_check_char
from applications.models import (
    CaseEvent,
    ContributionYear,
    DocumentKind,
    DocumentType,
    Employer,
    InsuredPerson,
    OfficialDocument,
    State,
    TransferApplication,
)
from applications.rules.money import to_fen

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


def demo_agency(scheme: str, region_code: str) -> Agency:
    """The demo directory's agency of a scheme in a prefecture (agencies.reference.load_demo_agencies)."""
    prefix, body = DEMO_SCHEMES[scheme]
    code = f"{prefix}{region_code}"
    agency = Agency.objects.filter(code=code).first()
    if agency:
        return agency
    region = Region.objects.select_related("parent").get(code=region_code)
    place = place_name(region)
    name = f"{place}{body}（演示）"
    agency, _created = Agency.objects.get_or_create(
        code=code,
        defaults={
            "name": name,
            "scheme": scheme,
            "region": region,
            "address": f"{place}演示路 1 号（演示地址）",
            "postcode": "000000",
            "phone": "0000-12333（演示）",
            "fund_account_name": f"{name}基金收入户",
            "fund_bank": "演示银行（非真实账户）",
            "fund_account_number": f"DEMO-{code}",
        },
    )
    return agency


def sample_user(username: str, first_name: str):
    user, _created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": first_name}
    )
    return user


def unused_resident_id(address_code: str, rng: random.Random) -> str:
    while True:
        birth = datetime.date(1970, 1, 1) + datetime.timedelta(days=rng.randrange(0, 9000))
        first17 = f"{address_code}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
        number = first17 + resident_id_check_char(first17)
        if not InsuredPerson.objects.filter(
            document_type=DocumentType.RESIDENT_ID, document_number=number
        ).exists():
            return number


def unused_uscc(rng: random.Random) -> str:
    from applications.identifiers import USCC_ALPHABET, USCC_WEIGHTS

    while True:
        first17 = f"91330106MA{rng.randrange(0, 10**7):07d}"
        total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
        code = first17 + USCC_ALPHABET[(31 - total % 31) % 31]
        if not Employer.objects.filter(uscc=code).exists():
            return code


def add_contribution_years(case, region: Region, years=DEFAULT_YEARS):
    balance = Decimal("0")
    rows = []
    for year, start, end, base in years:
        months = end - start + 1
        credited = to_fen(base * months * Decimal("0.08"))
        interest = to_fen(balance * Decimal("0.025"))
        balance += credited + interest
        rows.append(
            ContributionYear(
                application=case,
                region_code=region.code,
                place=region.full_name,
                year=year,
                start_month=start,
                end_month=end,
                months=months,
                monthly_base=base,
                employer_rate=Decimal("0.1600"),
                credited_rate=Decimal("0.0800"),
                individual_rate=Decimal("0.0800"),
                credited_amount=credited,
                interest=interest,
                year_end_balance=balance,
            )
        )
    ContributionYear.objects.bulk_create(rows)
    return rows


@transaction.atomic
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
    """A case in `state` (completed, refused or returned) with all its step data filled in."""
    rng = random.Random(seed)  # noqa: S311 - sample data, not security
    out_agency = demo_agency(scheme, OUT_REGION)
    in_agency = demo_agency(scheme, IN_REGION)
    employer = Employer.objects.create(
        name=employer_name,
        uscc=unused_uscc(rng),
        region=in_agency.region,
        address="杭州市滨江区示例路 1 号（演示）",
        phone="0571-00000000",
    )
    person = InsuredPerson.objects.create(
        name=name,
        document_type=DocumentType.RESIDENT_ID,
        document_number=unused_resident_id("360426", rng),
        hukou_region=Region.objects.get(code="360400"),
        phone="13800000001",
        address=address,
        employer=employer,
    )
    applicant = sample_user("sample-applicant", "示例申请人")
    clerk = sample_user("sample-clerk", "王芳")
    reviewer = sample_user("sample-reviewer", "李强")
    now = timezone.now()
    case = TransferApplication.objects.create(
        scheme=scheme,
        person=person,
        filed_by=applicant,
        new_employer=employer,
        transfer_out_agency=out_agency,
        transfer_in_agency=in_agency,
        old_person_number=old_person_number,
        agent_name=agent_name,
        agent_phone=agent_phone,
        agent_relation=agent_relation,
        state=State.DRAFT,
        submitted_at=now - datetime.timedelta(days=30),
    )
    CaseEvent.objects.create(application=case, actor=applicant, action="submit", to_state=State.SUBMITTED)
    if state in (State.REFUSED, State.RETURNED):
        action = "return_for_correction" if state == State.RETURNED else "refuse_by_transfer_in"
        case.state = state
        case.reason = reason
        case.legal_basis = legal_basis
        case.closed_at = now if state == State.REFUSED else None
        case.save()
        CaseEvent.objects.create(
            application=case,
            actor=clerk,
            action=action,
            from_state=State.SUBMITTED,
            to_state=state,
            note=reason,
        )
        return case

    add_contribution_years(case, out_agency.region, years)
    rows = list(case.contribution_years.all())
    wages = sum((r.monthly_base * r.months for r in rows if r.year >= 1998), Decimal("0"))
    personal = to_fen(sum((r.credited_amount + r.interest for r in rows), Decimal("0")))
    pooled = to_fen(wages * Decimal("0.12")) if scheme == "pension" else None
    total = personal + (pooled or Decimal("0"))
    case.personal_account_amount = personal
    case.pooled_fund_amount = pooled
    if temporary_account and scheme == "pension":
        # 66号 art. 5: everything recorded in the temporary account moves, employer part included.
        total = to_fen(sum((r.monthly_base * r.months for r in rows), Decimal("0")) * Decimal("0.24"))
        case.temporary_account = True
        case.temporary_account_amount = total
        case.personal_account_amount = case.pooled_fund_amount = None
    case.transfer_total = total
    case.remittance_reference = remittance_reference
    case.amounts_entered_by = clerk
    case.amounts_approved_by = reviewer
    case.received_amount = total
    case.contact_letter_at = now - datetime.timedelta(days=25)
    case.funds_transferred_at = now - datetime.timedelta(days=15)
    case.information_form_at = now - datetime.timedelta(days=14)
    case.completed_at = now - datetime.timedelta(days=3)
    case.state = state
    case.save()
    return case


def sample_document(case, kind) -> OfficialDocument:
    """The next version of a document of `kind` for the case, pending like a freshly queued one."""
    agency = case.transfer_out_agency if kind in ISSUED_BY_TRANSFER_OUT else case.transfer_in_agency
    latest = case.documents.filter(kind=kind).order_by("-version").values_list("version", flat=True).first()
    return OfficialDocument.objects.create(
        application=case, kind=kind, version=(latest or 0) + 1, issuing_agency=agency
    )


def sample_documents(**case_options) -> dict[str, OfficialDocument]:
    """One document of every kind: five on a completed case, the written explanation on a refused one."""
    completed = sample_case(state=State.COMPLETED, **case_options)
    refused = sample_case(state=State.REFUSED, **case_options)
    documents = {
        kind: sample_document(completed, kind)
        for kind in DocumentKind.values
        if kind != DocumentKind.WRITTEN_EXPLANATION
    }
    documents[DocumentKind.WRITTEN_EXPLANATION] = sample_document(refused, DocumentKind.WRITTEN_EXPLANATION)
    return documents
