"""Statistics for agency staff: monthly volumes and the on-time rate of the agency's own deadlines.

Volumes are counted in the database from the case events (one grouped query): a case is *submitted* in
the month of its first submission (the `submit` event; a resubmission after correction is the same
case), *completed* in the month of the `complete` event and *refused* in the month a refusal event
(by either agency) happened. Months are calendar months in China's time zone.

On-time rates: see `on_time_rates`.
"""

import datetime
from dataclasses import dataclass
from types import SimpleNamespace

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from agencies import calendar
from agencies.models import Scheme
from applications.cases import workflow
from applications.cases.deadlines import working_days_for
from applications.cases.states import WINDOW_OF_STATE, WINDOW_SIDE, WINDOWS, State
from applications.models import CaseEvent, TransferApplication
from applications.rules import deadlines

MONTHS = 12

WINDOW_SHORT_LABELS = {
    deadlines.CONTACT_LETTER: _("Contact letter"),
    deadlines.TRANSFER_OUT: _("Transfer-out"),
    deadlines.CONTINUATION: _("Continuation"),
}
WINDOW_LABELS = {
    deadlines.CONTACT_LETTER: _("Contact letter (transfer-in)"),
    deadlines.TRANSFER_OUT: _("Fund transfer and information form (transfer-out)"),
    deadlines.CONTINUATION: _("Continuation (transfer-in)"),
}

SUBMITTED_ACTIONS = ("submit",)
COMPLETED_ACTIONS = ("complete",)
REFUSED_ACTIONS = tuple(a for a, t in workflow.TRANSITIONS.items() if t.target == State.REFUSED)

FLAGGED_OVERDUE = "flagged_overdue"


# Derived from the workflow table, so that a new transition is counted without touching this module:
# a window is opened by the transitions that start it, closed by every transition out of one of its
# states that does not keep it, and answered by the agency whose party holds its states.
OPENERS = {w: {a for a, t in workflow.TRANSITIONS.items() if t.window == w} for w in WINDOWS}
CLOSERS = {
    w: {
        a
        for a, t in workflow.TRANSITIONS.items()
        if t.window != workflow.KEEP and any(WINDOW_OF_STATE.get(s) == w for s in t.sources)
    }
    for w in WINDOWS
}
RESPONSIBLE_SIDE = WINDOW_SIDE
# A window the applicant closes (withdrawing) was not answered by the agency: neither on time nor late.
AGENCY_ACTIONS = {a for a, t in workflow.TRANSITIONS.items() if t.party.side is not None}


def month_starts(today: datetime.date, months: int = MONTHS) -> list[datetime.date]:
    """The first day of each of the last `months` months, the current one last."""
    starts = []
    year, month = today.year, today.month
    for _index in range(months):
        starts.append(datetime.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return list(reversed(starts))


def period_start(today: datetime.date) -> datetime.datetime:
    first = month_starts(today)[0]
    return timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))


def agency_events(agency):
    return CaseEvent.objects.filter(
        Q(application__transfer_in_agency=agency) | Q(application__transfer_out_agency=agency)
    )


@dataclass
class MonthVolume:
    month: datetime.date
    submitted: int = 0
    completed: int = 0
    refused: int = 0


def monthly_volumes(agency, today: datetime.date) -> list[MonthVolume]:
    """Cases of the agency (either side) submitted, completed and refused per month: one query."""
    rows = (
        agency_events(agency)
        .filter(
            at__gte=period_start(today),
            action__in=SUBMITTED_ACTIONS + COMPLETED_ACTIONS + REFUSED_ACTIONS,
        )
        .annotate(month=TruncMonth("at"))
        .values("month", "action")
        .annotate(n=Count("pk"))
        .order_by()
    )
    volumes = {start: MonthVolume(start) for start in month_starts(today)}
    for row in rows:
        month = row["month"]
        # TruncMonth of a datetime gives an aware datetime in the current (China) time zone.
        month = timezone.localtime(month).date() if isinstance(month, datetime.datetime) else month
        volume = volumes.get(month.replace(day=1))
        if volume is None:
            continue
        if row["action"] in SUBMITTED_ACTIONS:
            volume.submitted += row["n"]
        elif row["action"] in COMPLETED_ACTIONS:
            volume.completed += row["n"]
        else:
            volume.refused += row["n"]
    return list(volumes.values())


@dataclass
class OnTime:
    window: str
    scheme: str
    on_time: int = 0
    late: int = 0
    open_overdue: int = 0

    @property
    def label(self):
        return WINDOW_LABELS[self.window]

    @property
    def scheme_label(self):
        return Scheme(self.scheme).label

    @property
    def counted(self) -> int:
        return self.on_time + self.late + self.open_overdue

    @property
    def rate(self) -> float | None:
        """Share of the steps answered on time, in per cent (None without any step)."""
        return round(100 * self.on_time / self.counted, 1) if self.counted else None


def due_after(opened: datetime.date, working_days: int, corrected) -> datetime.date:
    """`agencies.calendar.add_working_days` with the calendar corrections loaded once for the whole
    period, so that the statistics do not query the database per step."""
    day, counted = opened, 0
    while counted < working_days:
        day += datetime.timedelta(days=1)
        if calendar.is_working_day(day, corrected):
            counted += 1
    return day


def on_time_rates(agency, today: datetime.date) -> list[OnTime]:
    """How often the agency answered its own deadlines on time, per deadline window and scheme, for the
    steps it closed in the last 12 months, plus its steps still open and already overdue.

    How a step is judged, from the case events (CaseEvent, append-only):

    - A window opens with the event of the transition that starts it (`submit` or `resubmit` opens the
      contact-letter window, `send_contact_letter` the transfer-out window, `send_information_form` the
      continuation window) and closes with the next event of a transition out of one of its states that
      does not keep it (e.g. `send_contact_letter`, `return_for_correction` or `refuse_by_transfer_in`
      close the contact-letter window; entering and approving the amounts keep the transfer-out window
      open until the information form is sent).
    - The due date in force is the one the opening event recorded (its `data["due_date"]`, written by
      applications/audit.py when services.advance set it), so a deadline policy changed since does not
      judge old steps. Events recorded before events carried data are judged by recomputing the due date
      as services.advance set it (the n-th working day after the opening event's date, China time, n from
      today's deadline policy). A step that the overdue sweeper flagged (a `flagged_overdue` event while
      the window was open) counts as late whatever the dates say.
    - The step is on time if the closing event's date (China time) is on or before that due date.
    - Only windows this agency must answer count (contact letter and continuation as transfer-in agency,
      the transfer-out window as transfer-out agency); a window closed by the applicant (withdrawal) is
      not counted. Steps still open whose due date (the case's current `due_date`) has passed count as
      late, so that never answering does not improve the rate.

    Queries: the events (one), the open overdue cases grouped in the database (one), the calendar
    corrections (one) and the deadline policies (one per window and scheme): bounded, whatever the volume.
    """
    start = period_start(today)
    relevant = set().union(*OPENERS.values(), *CLOSERS.values(), {FLAGGED_OVERDUE})
    closed_in_period = agency_events(agency).filter(at__gte=start, action__in=set().union(*CLOSERS.values()))
    events = (
        CaseEvent.objects.filter(
            application_id__in=closed_in_period.values("application_id"), action__in=relevant
        )
        .order_by("application_id", "at", "pk")
        .values_list(
            "application_id",
            "action",
            "at",
            "application__scheme",
            "application__transfer_in_agency_id",
            "data",
        )
    )

    # Pair each window's opening with its closing, per case.
    steps = []  # (window, scheme, opened date, closed date, flagged, recorded due date or None)
    current = {}
    for case_id, action, at, scheme, in_agency_id, data in events:
        side = "in" if in_agency_id == agency.pk else "out"
        state = current.get(case_id)
        if action == FLAGGED_OVERDUE:
            if state:
                state["flagged"] = True
            continue
        if state and action in CLOSERS[state["window"]]:
            window = state["window"]
            if at >= start and action in AGENCY_ACTIONS and RESPONSIBLE_SIDE[window] == side:
                steps.append(
                    (window, scheme, state["opened"], timezone.localdate(at), state["flagged"], state["due"])
                )
            current.pop(case_id)
        for window, actions in OPENERS.items():
            if action in actions:
                due = (data or {}).get("due_date")
                current[case_id] = {
                    "window": window,
                    "opened": timezone.localdate(at),
                    "flagged": False,
                    "due": datetime.date.fromisoformat(due) if due else None,
                }

    results = {}

    def row(window, scheme):
        return results.setdefault((window, scheme), OnTime(window, scheme))

    unrecorded = [step for step in steps if step[5] is None]
    days, corrected = {}, None
    if unrecorded:
        earliest = min(opened for _w, _s, opened, *_rest in unrecorded)
        latest = max(opened for _w, _s, opened, *_rest in unrecorded)
        for window, scheme, *_rest in unrecorded:
            if (window, scheme) not in days:
                # The agency that must act in the window is this agency: its province's policy applies.
                as_case = SimpleNamespace(
                    scheme=scheme, transfer_in_agency=agency, transfer_out_agency=agency
                )
                days[window, scheme] = working_days_for(as_case, window)
        corrected = calendar.corrections(
            earliest, latest + datetime.timedelta(days=3 * max(days.values()) + 30)
        )
    for window, scheme, opened, closed, flagged, recorded_due in steps:
        due = recorded_due or due_after(opened, days[window, scheme], corrected)
        if closed <= due and not flagged:
            row(window, scheme).on_time += 1
        else:
            row(window, scheme).late += 1

    in_states = {w: [s for s, window in WINDOW_OF_STATE.items() if window == w] for w in WINDOWS}
    responsible = Q()
    for window, states in in_states.items():
        field = "transfer_in_agency" if RESPONSIBLE_SIDE[window] == "in" else "transfer_out_agency"
        responsible |= Q(**{field: agency, "state__in": states})
    overdue = (
        TransferApplication.objects.filter(responsible, due_date__lt=today)
        .values("state", "scheme")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for item in overdue:
        row(WINDOW_OF_STATE[item["state"]], item["scheme"]).open_overdue += item["n"]

    schemes = [agency.scheme] + sorted({scheme for _w, scheme in results} - {agency.scheme})
    return [results.get((w, s)) or OnTime(w, s) for w in WINDOWS for s in schemes]


def by_month_totals(volumes: list[MonthVolume]) -> MonthVolume:
    total = MonthVolume(None)
    for volume in volumes:
        total.submitted += volume.submitted
        total.completed += volume.completed
        total.refused += volume.refused
    return total
