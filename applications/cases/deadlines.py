"""Which deadline applies to a case's step: the province's own policy, else the national one, else the
defaults of the regulation (applications/rules/deadlines.py)."""

from django.db.models import Q

from agencies.calendar import add_working_days
from agencies.models import DeadlinePolicy
from applications.cases.states import WINDOW_OF_STATE, WINDOWS, State
from applications.rules import deadlines

FIELD_OF_WINDOW = {
    deadlines.CONTACT_LETTER: "contact_letter_days",
    deadlines.TRANSFER_OUT: "transfer_out_days",
    deadlines.CONTINUATION: "continuation_days",
}


def working_days_for(case, window) -> int:
    # The province of the agency that must act in this window.
    agency = case.transfer_out_agency if window == deadlines.TRANSFER_OUT else case.transfer_in_agency
    province = agency.region.province_code
    policies = {
        p.province_id: p
        # The national row (province NULL) needs its own condition: an `__in` list silently drops None.
        for p in DeadlinePolicy.objects.filter(
            Q(province_id=province) | Q(province__isnull=True), scheme=case.scheme
        )
    }
    policy = policies.get(province) or policies.get(None)
    if policy is not None:
        return getattr(policy, FIELD_OF_WINDOW[window])
    return deadlines.working_days_for(case.scheme, window)


def predicted_completion(case, today):
    """The latest date the case completes if every remaining step takes its full deadline."""
    if case.state in (State.DRAFT, State.RETURNED):
        return add_working_days(today, sum(working_days_for(case, w) for w in WINDOWS))
    window = WINDOW_OF_STATE.get(case.state)
    if window is None or case.due_date is None:
        return None
    later = WINDOWS[WINDOWS.index(window) + 1 :]
    return add_working_days(case.due_date, sum(working_days_for(case, w) for w in later))
