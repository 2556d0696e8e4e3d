"""The eligibility rules (applications/rules/eligibility.py) applied to a case, and their reasons in
the user's language."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.rules.eligibility import Outcome, Situation, assess

DECLARATION_FIELDS = (
    "retired",
    "contributions_paused",
    "arrears",
    "in_hospital",
    "unfinished_transfer",
    "approved_job_transfer",
    "old_medical_kind",
    "new_medical_kind",
    "gap_months",
)

OUTCOME_TEXT = {
    Outcome.TRANSFER: _("The transfer can go ahead."),
    Outcome.TEMPORARY_ACCOUNT: _(
        "Your pension relationship stays at the old place; the new place opens a temporary contribution account."
    ),
    Outcome.NEXT_YEAR: _("The transfer takes effect with the next year's enrolment."),
    Outcome.NOT_NOW: _("The transfer is not possible yet. Do this first:"),
}

REASON_TEXT = {
    "retired": _(
        "You are retired: a retiree's insurance does not transfer; benefits are paid where you retired."
    ),
    "not_paused": _(
        "Contributions at the old place must be paused (暂停缴费) first: ask your old employer or the old agency."
    ),
    "arrears": _("There are arrears at the old place: pay them at the old place first."),
    "unfinished_transfer": _("Another transfer of yours is not finished yet: wait until it is completed."),
    "in_hospital": _("You are in hospital: apply after you are discharged, so that your stay stays covered."),
    "same_province": _("You are moving within one province: the relationship and the funds move."),
    "returning_to_hukou": _("You are moving to your hukou province: the relationship always transfers."),
    "job_transfer": _(
        "An approved job transfer (调动) is exempt from the age rule: the relationship transfers."
    ),
    "age_rule": _(
        "You are %(age)s, at or above %(limit)s, and the new place is outside your hukou province: the "
        "relationship stays at the old place."
    ),
    "under_age_limit": _(
        "You are %(age)s, below the age of %(limit)s of the age rule: the relationship transfers."
    ),
    "resident_next_year": _("Resident to resident insurance: enrol at the new place for next year."),
    "employee_account_moves": _(
        "The employee scheme's personal account balance moves; the pooled fund stays."
    ),
    "relationship_moves": _(
        "The insurance relationship moves; resident insurance has no personal account to move."
    ),
    "gap_back_pay": _(
        "Your cover stopped for %(months)s months: within 3 months you may back-pay and benefits are retroactive."
    ),
    "gap_waiting_period": _(
        "Your cover stopped for %(months)s months, more than 3: a waiting period of up to 6 months may apply."
    ),
}


def situation_for(case, on=None) -> Situation:
    person = case.person
    declared = {k: v for k, v in (case.declarations or {}).items() if k in DECLARATION_FIELDS}
    return Situation(
        scheme=case.scheme,
        sex=person.sex,
        birth_date=person.birth_date,
        # The day in China: submitted_at is stored in UTC, where 00:00-08:00 Beijing time is the day before.
        application_date=on or timezone.localdate(case.submitted_at or timezone.now()),
        hukou_province=person.hukou_region_id[:2] if person.hukou_region_id else None,
        transfer_out_province=case.transfer_out_agency.region_id[:2],
        transfer_in_province=case.transfer_in_agency.region_id[:2],
        **declared,
    )


def explain(result):
    """The outcome and each reason as sentences, with the legal basis."""
    return {
        "outcome": result.outcome,
        "headline": OUTCOME_TEXT[result.outcome],
        "reasons": [(REASON_TEXT[r.code] % r.params, r.basis) for r in result.reasons],
        "advice": [(REASON_TEXT[r.code] % r.params, r.basis) for r in result.advice],
    }


def assess_case(case, on=None):
    return assess(situation_for(case, on))
