"""Whether a transfer can go ahead, and how (国办发〔2009〕66号; 医保办发〔2021〕43号).

Pure Python: the outcome carries reason codes with their legal basis; the portal turns the codes into
sentences in the user's language (applications/eligibility_text.py).
"""

import datetime
from dataclasses import dataclass, field
from enum import StrEnum

from applications.rules.ages import age_on


class Outcome(StrEnum):
    TRANSFER = "transfer"  # the relationship and the funds move
    TEMPORARY_ACCOUNT = "temporary_account"  # pension stays; a temporary contribution account opens
    NEXT_YEAR = "next_year"  # medical, resident to resident: from the next year's enrolment
    NOT_NOW = "not_now"  # a precondition is missing; the reasons say what to do first


@dataclass(frozen=True)
class Reason:
    code: str
    basis: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Situation:
    scheme: str  # "pension" or "medical"
    sex: str  # "M" or "F"
    birth_date: datetime.date
    application_date: datetime.date
    hukou_province: str | None  # 2-digit province code of the household registration, None without hukou
    transfer_out_province: str
    transfer_in_province: str
    retired: bool = False
    contributions_paused: bool = True  # 已暂停缴费 / 已中止参保 at the old place
    arrears: bool = False
    in_hospital: bool = False
    unfinished_transfer: bool = False
    approved_job_transfer: bool = False  # 调动, approved by the organisation or personnel department
    old_medical_kind: str = "employee"  # "employee" or "resident"
    new_medical_kind: str = "employee"
    gap_months: int | None = None  # months without medical cover between the two places


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reasons: tuple[Reason, ...]
    advice: tuple[Reason, ...] = ()


PENSION_AGE = {"M": 50, "F": 40}  # 66号 art. 5
ART4, ART5, ART8 = "国办发〔2009〕66号 第四条", "国办发〔2009〕66号 第五条", "国办发〔2009〕66号 第八条"
MED = "医保办发〔2021〕43号"


def _blocking(s: Situation) -> list[Reason]:
    """Preconditions the transfer-out side checks (domain.md section 2)."""
    basis = ART8 if s.scheme == "pension" else MED
    reasons = []
    if s.retired:
        reasons.append(Reason("retired", ART4 if s.scheme == "pension" else MED))
    if not s.contributions_paused:
        reasons.append(Reason("not_paused", basis))
    if s.arrears:
        reasons.append(Reason("arrears", basis))
    if s.unfinished_transfer:
        reasons.append(Reason("unfinished_transfer", basis))
    if s.scheme == "medical" and s.in_hospital:
        reasons.append(Reason("in_hospital", MED))
    return reasons


def assess(s: Situation) -> Result:
    blocking = _blocking(s)
    if blocking:
        return Result(Outcome.NOT_NOW, tuple(blocking))
    return _assess_pension(s) if s.scheme == "pension" else _assess_medical(s)


def _assess_pension(s: Situation) -> Result:
    if s.transfer_out_province == s.transfer_in_province:
        return Result(Outcome.TRANSFER, (Reason("same_province", ART5),))
    if s.hukou_province and s.transfer_in_province == s.hukou_province:
        return Result(Outcome.TRANSFER, (Reason("returning_to_hukou", ART5),))
    if s.approved_job_transfer:
        return Result(Outcome.TRANSFER, (Reason("job_transfer", ART5),))
    age = age_on(s.birth_date, s.application_date)
    limit = PENSION_AGE[s.sex]
    if age >= limit:
        return Result(Outcome.TEMPORARY_ACCOUNT, (Reason("age_rule", ART5, {"age": age, "limit": limit}),))
    return Result(Outcome.TRANSFER, (Reason("under_age_limit", ART5, {"age": age, "limit": limit}),))


def _assess_medical(s: Situation) -> Result:
    advice = []
    if s.gap_months is not None and s.gap_months > 0:
        if s.gap_months <= 3:
            advice.append(Reason("gap_back_pay", MED, {"months": s.gap_months}))
        else:
            advice.append(Reason("gap_waiting_period", MED, {"months": s.gap_months}))
    if s.old_medical_kind == "resident" and s.new_medical_kind == "resident":
        return Result(Outcome.NEXT_YEAR, (Reason("resident_next_year", MED),), tuple(advice))
    if s.old_medical_kind == "employee":
        return Result(Outcome.TRANSFER, (Reason("employee_account_moves", MED),), tuple(advice))
    return Result(Outcome.TRANSFER, (Reason("relationship_moves", MED),), tuple(advice))
