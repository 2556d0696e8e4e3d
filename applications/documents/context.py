"""What an official document shows, gathered from the OfficialDocument and its case.

Everything is turned into display strings here (amounts as Decimal with two decimals, dates in the
Chinese form, codes and labels in Chinese), so that the templates only place text and a form's content
can be checked from its context alone. The forms are Chinese official documents whatever the reader's
interface language, so their labels are Chinese here and in the templates, not gettext strings.
"""

from decimal import ROUND_HALF_UP, Decimal

from django.utils import timezone

from applications.documents.text import clean_context
from applications.models import CaseEvent, DocumentKind, State, TransferApplication

FEN = Decimal("0.01")

# 险种类型 (AAE140): the codes printed on the forms.
SCHEME_CODES = {
    "pension": ("110", "企业职工基本养老保险"),
    "medical": ("310", "职工基本医疗保险"),
}
SCHEME_SHORT = {"pension": "基本养老保险", "medical": "基本医疗保险"}
DOCUMENT_TYPES = {
    "resident_id": "居民身份证",
    "hk_macau_permit": "港澳居民来往内地通行证",
    "taiwan_permit": "台湾居民来往大陆通行证",
    "foreign_permanent": "外国人永久居留身份证",
}
SEXES = {"M": "男", "F": "女"}
# The PDF's title (its metadata); the heading on the page also names the scheme.
TITLES = {
    "application_form": "关系转移接续申请表",
    "contact_letter": "关系转移接续联系函",
    "fund_transfer_record": "基金转移记录",
    "information_form": "参保缴费信息表",
    "continuation_notice": "关系转移接续完成通知",
    "written_explanation": "关系转移接续书面说明",
}

# The transitions that produce a written explanation, and what each means for the applicant.
EXPLANATION_ACTIONS = {
    "return_for_correction": "return",
    "refuse_by_transfer_in": "refusal",
    "refuse_by_transfer_out": "refusal",
}

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
LARGE_UNITS = ("", "万", "亿", "万亿")


def to_fen(value) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, float):
        # A float on an official form is a bug upstream (0.1 + 0.2 != 0.3), not something to round.
        raise TypeError(f"amounts are Decimal, not float: {value!r}")
    return Decimal(value).quantize(FEN, rounding=ROUND_HALF_UP)


def yuan(value) -> str:
    """An amount as on a form: 19,440.00 (Decimal throughout, never a float)."""
    amount = to_fen(value)
    return "" if amount is None else f"{amount:,.2f}"


def rate(value) -> str:
    """A contribution rate stored as a fraction (0.0800) shown as a percentage (8.00%)."""
    if value is None:
        return ""
    return f"{(Decimal(value) * 100).quantize(FEN, rounding=ROUND_HALF_UP)}%"


def chinese_amount(value) -> str:
    """The amount in capitals (人民币大写), as written on remittance records: 壹万玖仟肆佰肆拾元整."""
    amount = to_fen(value)
    if amount is None:
        return ""
    sign = "负" if amount < 0 else ""
    amount = abs(amount)
    integer = int(amount)
    jiao, fen = divmod(int((amount - integer) * 100), 10)
    text = ""
    if integer:
        digits = str(integer)
        pending_zero = False
        for index, char in enumerate(digits):
            position = len(digits) - 1 - index
            digit = int(char)
            if digit:
                if pending_zero:
                    text += "零"
                pending_zero = False
                text += DIGITS[digit] + SMALL_UNITS[position % 4]
            else:
                pending_zero = True
            if position % 4 == 0 and position:
                group = (integer // 10**position) % 10000
                if group:
                    text += LARGE_UNITS[position // 4]
        text += "元"
    if not jiao and not fen:
        return sign + (text or "零元") + "整"
    if jiao:
        text += DIGITS[jiao] + "角"
    elif integer:
        text += "零"
    if fen:
        text += DIGITS[fen] + "分"
    else:
        text += "整"
    return sign + text


def chinese_date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value).date()
    return f"{value.year}年{value.month}月{value.day}日"


def year_month(year, month) -> str:
    return f"{year}年{month}月"


def next_month(year, month):
    return (year + 1, 1) if month == 12 else (year, month + 1)


def user_name(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def agency_context(agency):
    region = agency.region
    return {
        "code": agency.code,
        "name": agency.name,
        "division_code": region.code,
        "place": region.full_name,
        "address": agency.address,
        "postcode": agency.postcode,
        "phone": agency.phone,
        "fund_account_name": agency.fund_account_name,
        "fund_bank": agency.fund_bank,
        "fund_account_number": agency.fund_account_number,
    }


def person_context(person):
    return {
        "name": person.name,
        "document_type": DOCUMENT_TYPES.get(person.document_type, person.document_type),
        "document_number": person.document_number,
        "sex": SEXES.get(person.sex, ""),
        "birth_date": chinese_date(person.birth_date),
        "phone": person.phone,
        "address": person.address,
        "hukou_place": person.hukou_region.full_name if person.hukou_region_id else "",
    }


def employer_context(employer):
    if employer is None:
        return None
    return {
        "name": employer.name,
        "uscc": employer.uscc,
        "address": employer.address,
        "phone": employer.phone,
    }


def contribution_row(row):
    return {
        "region_code": row.region_code,
        "place": row.place,
        "year": row.year,
        "start_month": row.start_month,
        "end_month": row.end_month,
        "months": row.months,
        "monthly_base": yuan(row.monthly_base),
        "employer_rate": rate(row.employer_rate),
        "credited_rate": rate(row.credited_rate),
        "individual_rate": rate(row.individual_rate),
        "credited_amount": yuan(row.credited_amount),
        "interest": yuan(row.interest),
        "year_end_balance": yuan(row.year_end_balance),
    }


def amounts_context(case):
    moving_pooled = case.temporary_account_amount is None
    return {
        "personal_account": yuan(case.personal_account_amount),
        "pooled_fund": yuan(case.pooled_fund_amount),
        "temporary_account": yuan(case.temporary_account_amount),
        "total": yuan(case.transfer_total),
        "total_in_capitals": chinese_amount(case.transfer_total),
        "received": yuan(case.received_amount),
        "received_in_capitals": chinese_amount(case.received_amount),
        "temporary": case.temporary_account or not moving_pooled,
    }


def explanation_context(document, case):
    """Return or refusal, and its reason and legal basis, as they stood when the document was issued.

    The case's own fields are cleared when the applicant resubmits, so a document rendered (or rendered
    again) later falls back to the event that the explaining transition recorded with the document.
    """
    event = (
        CaseEvent.objects.filter(
            application=case, action__in=EXPLANATION_ACTIONS, at__lte=document.created_at
        )
        .order_by("-at", "-pk")
        .first()
    )
    mode = EXPLANATION_ACTIONS.get(event.action) if event else None
    if mode is None:
        mode = "refusal" if case.state == State.REFUSED else "return"
    current = (mode == "return" and case.state == State.RETURNED) or (
        mode == "refusal" and case.state == State.REFUSED
    )
    # The reason as given at the time (recorded in the event), not a later one written over it.
    given = (event.data.get("reason") or event.note) if event else ""
    reason = case.reason if current and case.reason else (given or case.reason)
    legal_basis = case.legal_basis if current else ""
    return {
        "mode": mode,
        "title": "退回补正说明" if mode == "return" else "不予受理说明",
        "decided_on": chinese_date(event.at if event else document.created_at),
        "reason": reason,
        "legal_basis": legal_basis,
    }


def document_context(document) -> dict:
    """The template context of an official document (OfficialDocument with its case)."""
    if document.kind not in DocumentKind.values:
        raise ValueError(f"unknown document kind {document.kind!r}")
    case = TransferApplication.objects.select_related(
        "person__hukou_region__parent__parent",
        "person__employer",
        "new_employer",
        "transfer_out_agency__region__parent__parent",
        "transfer_in_agency__region__parent__parent",
        "amounts_entered_by",
        "amounts_approved_by",
    ).get(pk=document.application_id)
    issuer = document.issuing_agency
    scheme_code, scheme_name = SCHEME_CODES.get(case.scheme, ("", case.get_scheme_display()))
    if case.temporary_account and case.scheme == "pension":
        scheme_name += "（临时基本养老保险缴费账户）"
    context = {
        "kind": document.kind,
        "title": SCHEME_SHORT.get(case.scheme, "") + TITLES[document.kind],
        "reference": case.reference,
        "filing_reference": case.filing_reference,
        "version": document.version,
        "verification_code": document.verification_code,
        "issuer": {"name": issuer.name, "code": issuer.code, "phone": issuer.phone},
        "issued_on": chinese_date(document.created_at),
        "issued_at_iso": timezone.localtime(document.created_at).isoformat(timespec="seconds"),
        "scheme": case.scheme,
        "scheme_code": scheme_code,
        "scheme_name": scheme_name,
        "scheme_short": SCHEME_SHORT.get(case.scheme, scheme_name),
        "person": person_context(case.person),
        "old_person_number": case.old_person_number,
        "new_employer": employer_context(case.new_employer),
        "employer": employer_context(case.new_employer or case.person.employer),
        "agent": {"name": case.agent_name, "phone": case.agent_phone, "relation": case.agent_relation},
        "out_agency": agency_context(case.transfer_out_agency),
        "in_agency": agency_context(case.transfer_in_agency),
        "submitted_on": chinese_date(case.submitted_at),
        "contact_letter_on": chinese_date(case.contact_letter_at),
        "funds_transferred_on": chinese_date(case.funds_transferred_at),
        "information_form_on": chinese_date(case.information_form_at),
        "completed_on": chinese_date(case.completed_at),
        "amounts": amounts_context(case),
        "remittance_reference": case.remittance_reference,
        "amounts_entered_by": user_name(case.amounts_entered_by),
        "amounts_approved_by": user_name(case.amounts_approved_by),
    }
    if document.kind in (DocumentKind.INFORMATION_FORM, DocumentKind.CONTINUATION_NOTICE):
        years = list(case.contribution_years.all())
        context["years"] = [contribution_row(year) for year in years]
        context["total_months"] = sum(year.months for year in years)
        if years:
            first = min(years, key=lambda y: (y.year, y.start_month))
            last = max(years, key=lambda y: (y.year, y.end_month))
            context["period"] = (
                f"{year_month(first.year, first.start_month)}至{year_month(last.year, last.end_month)}"
            )
            context["record_until"] = year_month(last.year, last.end_month)
            context["continues_from"] = year_month(*next_month(last.year, last.end_month))
        else:
            moment = case.completed_at or document.created_at
            local = timezone.localtime(moment)
            context["period"] = context["record_until"] = ""
            context["continues_from"] = year_month(local.year, local.month)
    if document.kind == DocumentKind.WRITTEN_EXPLANATION:
        context["explanation"] = explanation_context(document, case)
    return clean_context(context)
