"""The agency's work queue (待办): the open cases that wait for this agency, by work item.

A case waits for an agency when the HOLDER declaration (applications/states.py) names one of that agency's parties for the
case's state: the transfer-in agency holds new applications and the funds to match, the transfer-out
agency holds contact letters to answer, amounts awaiting approval and information forms to send.

Filters never change the number of queries: one aggregate for the tab counts, one COUNT and one SELECT
(with the person and both agencies joined) for the page, whatever the page size.
"""

from dataclasses import dataclass
from functools import reduce
from operator import or_

from django import forms
from django.db.models import Case, Count, F, IntegerField, Q, Value, When
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from agencies.models import Region, Scheme
from applications.cases import workflow
from applications.cases.states import HOLDER, STEP_LABELS, Side, State
from applications.models import TransferApplication
from applications.people.identifiers import looks_like_document_number, mask_document_number

IN, OUT = Side.IN, Side.OUT

PER_PAGE_DEFAULT, PER_PAGE_MIN, PER_PAGE_MAX = 25, 10, 100
DUE_SOON_WORKING_DAYS = 3


@dataclass(frozen=True)
class WorkItem:
    """One kind of work a clerk or reviewer picks up, and the states of the cases it covers. The side
    (transfer-in or transfer-out agency) is that of the party holding those states."""

    key: str
    label: str
    states: tuple[str, ...]

    @property
    def side(self) -> Side:
        (side,) = {HOLDER[state].side for state in self.states}
        return side

    def q(self, agency) -> Q:
        field = "transfer_in_agency" if self.side == IN else "transfer_out_agency"
        return Q(**{field: agency, "state__in": self.states})


WORK_ITEMS = {
    item.key: item
    for item in [
        WorkItem("review", _("New applications to review"), (State.SUBMITTED,)),
        WorkItem("letters", _("Contact letters to answer"), (State.CONTACT_LETTER_SENT,)),
        WorkItem("approvals", _("Amounts awaiting approval"), (State.AMOUNTS_PENDING_APPROVAL,)),
        WorkItem("forms", _("Information forms to send"), (State.FUNDS_TRANSFERRED,)),
        WorkItem(
            "funds",
            _("Funds to match"),
            (State.INFORMATION_FORM_SENT, State.FUNDS_MISMATCH, State.FUNDS_MATCHED),
        ),
    ]
}

# The step the holder works on now, from the workflow table: the highest step among the transitions its
# party may take from the state (a submitted application awaits step 2, the contact letter; a letter
# received awaits step 3, the fund transfer). The case page's progress bar shows the last step reached.
OPEN_STEP = {
    state: max(t.step for t in workflow.transitions_from(state) if t.party == party)
    for state, party in HOLDER.items()
    if party.side is not None
}

STEP_NAMES = dict(STEP_LABELS)


def bounded_per_page(value) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return PER_PAGE_DEFAULT
    return min(max(number, PER_PAGE_MIN), PER_PAGE_MAX)


def province_choices():
    """Current provinces, for the region filter (one query)."""
    return list(Region.objects.filter(level=Region.Level.PROVINCE, current=True).values_list("code", "name"))


class PersonIdsField(forms.Field):
    """Insured person ids, set by the queue's own redirect after a search by ID number (so that the full
    number leaves the address bar). They only ever narrow the agency's own cases."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value):
        try:
            ids = [int(v) for v in value or []]
        except (TypeError, ValueError):
            raise forms.ValidationError(_("Enter whole numbers."), code="invalid") from None
        # Out of the key's range the database would raise rather than find nothing.
        if any(not 0 <= pk < 2**63 for pk in ids):
            raise forms.ValidationError(_("Enter whole numbers."), code="invalid")
        return ids


class QueueFilterForm(forms.Form):
    """The queue's filters, read from the query string. Invalid values are dropped, not reported: a
    stale bookmark still opens the queue."""

    DUE_CHOICES = [
        ("", _("Any due date")),
        ("overdue", _("Overdue")),
        ("soon", _("Due within 3 working days")),
    ]

    work = forms.ChoiceField(
        label=_("Work item"),
        required=False,
        choices=[("", _("All work"))] + [(k, i.label) for k, i in WORK_ITEMS.items()],
    )
    step = forms.TypedChoiceField(
        label=_("Step to take"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", _("Any step"))]
        + [(n, format_lazy("{}. {}", n, label)) for n, label in STEP_LABELS[1:]],
    )
    scheme = forms.ChoiceField(
        label=_("Scheme"), required=False, choices=[("", _("Any scheme"))] + Scheme.choices
    )
    due = forms.ChoiceField(label=_("Due date"), required=False, choices=DUE_CHOICES)
    region = forms.ChoiceField(label=_("Other agency's province"), required=False)
    q = forms.CharField(
        label=_("Name, case reference or full ID number"),
        required=False,
        max_length=60,
        widget=forms.SearchInput,
    )
    person = PersonIdsField(required=False)

    def __init__(self, data, provinces):
        super().__init__(data)
        self.fields["region"].choices = [("", _("Any province"))] + list(provinces)
        for name, one in self.fields.items():
            if isinstance(one.widget, forms.Select):
                one.widget.attrs["class"] = "form-select form-select-sm"
            elif name == "q":
                one.widget.attrs.update({"class": "form-control form-control-sm", "autocomplete": "off"})

    def filters(self) -> dict:
        # Invalid fields are left out of cleaned_data; the rest still apply.
        self.is_valid()
        values = {name: self.cleaned_data.get(name) for name in self.fields}
        values["q"] = (values["q"] or "").strip()
        return values


def agency_cases(agency):
    """Every case on which the agency is the transfer-in or the transfer-out agency."""
    return TransferApplication.objects.filter(Q(transfer_in_agency=agency) | Q(transfer_out_agency=agency))


def filtered(agency, filters, today, soon_limit, with_work=True):
    """The open cases that wait for the agency, narrowed by the filters (all but `work` when
    `with_work` is false, for the tab counts)."""
    items = list(WORK_ITEMS.values())
    if with_work and filters.get("work"):
        items = [WORK_ITEMS[filters["work"]]]
    cases = TransferApplication.objects.filter(reduce(or_, (item.q(agency) for item in items)))
    if filters.get("step"):
        cases = cases.filter(state__in=[s for s, step in OPEN_STEP.items() if step == filters["step"]])
    if filters.get("scheme"):
        cases = cases.filter(scheme=filters["scheme"])
    if filters.get("due") == "overdue":
        cases = cases.filter(due_date__lt=today)
    elif filters.get("due") == "soon":
        cases = cases.filter(due_date__gte=today, due_date__lte=soon_limit)
    if filters.get("region"):
        prefix = filters["region"][:2]
        cases = cases.filter(
            Q(transfer_in_agency=agency, transfer_out_agency__region__code__startswith=prefix)
            | Q(transfer_out_agency=agency, transfer_in_agency__region__code__startswith=prefix)
        )
    if filters.get("person"):
        cases = cases.filter(person_id__in=filters["person"])
    text = filters.get("q") or ""
    if text:
        if looks_like_document_number(text):
            cases = cases.filter(person__document_number=text.upper())
        else:
            cases = cases.filter(
                Q(person__name__icontains=text)
                | Q(reference__icontains=text)
                | Q(filing_reference__iexact=text)
            )
    return cases


def work_counts(agency, filters, today, soon_limit) -> dict:
    """Cases per work item (and overdue ones), under the other filters: one aggregate query."""
    cases = filtered(agency, filters, today, soon_limit, with_work=False)
    aggregates = {}
    for key, item in WORK_ITEMS.items():
        aggregates[key] = Count("pk", filter=item.q(agency))
        aggregates[f"{key}_overdue"] = Count("pk", filter=item.q(agency) & Q(due_date__lt=today))
    aggregates["all"] = Count("pk")
    aggregates["all_overdue"] = Count("pk", filter=Q(due_date__lt=today))
    return cases.aggregate(**aggregates)


def ordered(cases, today):
    """Overdue first, then by due date (earliest first), then by submission: the most urgent on top."""
    return (
        cases.select_related("person", "transfer_in_agency", "transfer_out_agency")
        .annotate(
            overdue_rank=Case(
                When(due_date__lt=today, then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by(
            "overdue_rank", F("due_date").asc(nulls_last=True), F("submitted_at").asc(nulls_last=True), "pk"
        )
    )


def decorate(case, agency, today, soon_limit, provinces):
    """Attach what a queue row shows: the other agency, its province, the step to take and the badge."""
    if case.transfer_in_agency_id == agency.pk:
        case.side, case.other_agency = IN, case.transfer_out_agency
    else:
        case.side, case.other_agency = OUT, case.transfer_in_agency
    case.other_province = provinces.get(case.other_agency.region_id[:2] + "0000", "")
    case.open_step = OPEN_STEP.get(case.state)
    case.open_step_label = STEP_NAMES.get(case.open_step, "")
    case.masked_id = mask_document_number(case.person.document_number)
    case.is_overdue = bool(case.due_date and case.due_date < today)
    case.is_due_soon = bool(case.due_date and not case.is_overdue and case.due_date <= soon_limit)
    return case
