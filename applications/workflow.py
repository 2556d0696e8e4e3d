"""The five steps of a transfer, declared in one table.

Every transition says: the action, the official step (1 apply, 2 contact letter, 3 fund transfer,
4 information form, 5 continuation), the states it starts from, the state it leads to, who may take it
(party), what it needs (guards), the document it produces and which agency issues it, and which
deadline window it opens. `services.advance` is the only code that carries a transition out.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from applications.models import DocumentKind, State
from applications.rules import deadlines


class Party(StrEnum):
    APPLICANT = "applicant"  # the insured person, or HR of the employer that filed
    IN_CLERK = "transfer_in_clerk"
    IN_REVIEWER = "transfer_in_reviewer"
    OUT_CLERK = "transfer_out_clerk"
    OUT_REVIEWER = "transfer_out_reviewer"


IN, OUT = "in", "out"  # which agency issues a document

# Deadline windows: a transition opens one, keeps the current one, or closes the case's due date.
KEEP, CLOSE = "keep", "close"


class TransitionRefused(Exception):
    """A guard said no; the message tells the user why, in their language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    step: int
    sources: tuple[State, ...]
    target: State | Callable
    party: Party
    guards: tuple[Callable, ...] = ()
    effect: Callable | None = None
    document: DocumentKind | None = None
    issuer: str = IN
    window: str = KEEP
    timestamp: str | None = None  # the per-step timestamp field this transition sets
    fields: tuple[str, ...] = field(default=())  # the data a form must collect

    def target_for(self, case) -> State:
        return self.target(case) if callable(self.target) else self.target


# Guards: (case, user, data) -> None, raising TransitionRefused.


def needs_text(name, message):
    def guard(case, user, data):
        if not str(data.get(name) or "").strip():
            raise TransitionRefused(message)

    return guard


def _amount(data, name, required=True):
    value = data.get(name)
    if value in (None, ""):
        if required:
            raise TransitionRefused(_("Enter every amount."))
        return None
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0 or value.as_tuple().exponent < -2:
        raise TransitionRefused(_("Amounts are yuan with at most two decimals (fen), and not negative."))
    return value


def amount_fields(case) -> tuple[str, ...]:
    """Which amounts move: a temporary account moves whole; pension moves the personal account and the
    pooled fund (统筹基金); medical insurance moves the personal account alone."""
    if case.temporary_account:
        return ("temporary_account_amount",)
    if case.scheme == "pension":
        return ("personal_account_amount", "pooled_fund_amount")
    return ("personal_account_amount",)


def amounts_are_valid(case, user, data):
    for name in amount_fields(case):
        _amount(data, name)


def amounts_match_table(case, user, data):
    """When the contribution table is entered, the amounts must be the ones the regulation gives for it."""
    from applications.contributions import computed_amounts

    computed = computed_amounts(case)
    if computed is None:
        return
    expected = {
        "personal_account_amount": computed.personal_account,
        "pooled_fund_amount": computed.pooled_fund,
        "temporary_account_amount": computed.temporary_account,
    }
    for name in amount_fields(case):
        if data.get(name) != expected[name]:
            raise TransitionRefused(
                _("The amounts must equal those computed from the contribution table: %(amounts)s")
                % {"amounts": ", ".join(str(expected[n]) for n in amount_fields(case))}
            )


def eligible(case, user, data):
    """The pre-check: a transfer that is not possible now is not submitted; the reasons say what to do."""
    from applications.eligibility import assess_case, explain
    from applications.rules.eligibility import Outcome

    result = assess_case(case, on=timezone.localdate())
    if result.outcome in (Outcome.NOT_NOW, Outcome.NEXT_YEAR):
        explained = explain(result)
        reasons = [str(explained["headline"]), *(str(text) for text, _basis in explained["reasons"])]
        raise TransitionRefused(" ".join(reasons))


def approver_is_not_maker(case, user, data):
    if case.amounts_entered_by_id == user.pk:
        raise TransitionRefused(
            _("The amounts must be approved by a reviewer other than the clerk who entered them.")
        )


def received_amount_is_valid(case, user, data):
    _amount(data, "received_amount")


def funds_match(case, user, data):
    if case.received_amount is None or case.received_amount != case.transfer_total:
        raise TransitionRefused(
            _("The amount received must equal the information form's total before the case can be completed.")
        )


# Effects: (case, user, data) -> None, changing the case's own fields.


def set_reason(case, user, data):
    case.reason = data["reason"].strip()
    case.legal_basis = str(data.get("legal_basis") or "").strip()


def clear_reason(case, user, data):
    case.reason = ""
    case.legal_basis = ""


def set_amounts(case, user, data):
    moving = amount_fields(case)
    for name in ("personal_account_amount", "pooled_fund_amount", "temporary_account_amount"):
        setattr(case, name, data[name] if name in moving else None)
    case.transfer_total = sum((data[name] for name in moving), Decimal("0"))
    case.remittance_reference = str(data.get("remittance_reference") or "").strip()
    case.amounts_entered_by = user
    case.amounts_approved_by = None


def approve_amounts(case, user, data):
    case.amounts_approved_by = user


def set_temporary_account(case, user, data):
    from applications.eligibility import assess_case
    from applications.rules.eligibility import Outcome

    case.temporary_account = assess_case(case, on=timezone.localdate()).outcome == Outcome.TEMPORARY_ACCOUNT


def resubmit(case, user, data):
    clear_reason(case, user, data)
    set_temporary_account(case, user, data)


def clear_amounts(case, user, data):
    case.personal_account_amount = case.pooled_fund_amount = case.temporary_account_amount = None
    case.transfer_total = None
    case.amounts_entered_by = None
    case.remittance_reference = ""


def set_received_amount(case, user, data):
    case.received_amount = data["received_amount"]


def matched_or_mismatched(case):
    return State.FUNDS_MATCHED if case.received_amount == case.transfer_total else State.FUNDS_MISMATCH


def close(case, user, data):
    case.closed_at = timezone.now()


def refuse(case, user, data):
    set_reason(case, user, data)
    close(case, user, data)


need_reason = needs_text("reason", _("Give the reason, so that the applicant knows what to do."))
need_legal_basis = needs_text("legal_basis", _("Give the legal basis of the refusal."))

TRANSITIONS = {
    t.action: t
    for t in [
        Transition(
            "submit",
            _("Submit the application"),
            1,
            (State.DRAFT,),
            State.SUBMITTED,
            Party.APPLICANT,
            guards=(eligible,),
            effect=set_temporary_account,
            document=DocumentKind.APPLICATION_FORM,
            window=deadlines.CONTACT_LETTER,
            timestamp="submitted_at",
        ),
        Transition(
            "withdraw",
            _("Withdraw the application"),
            1,
            (State.DRAFT, State.SUBMITTED, State.RETURNED),
            State.WITHDRAWN,
            Party.APPLICANT,
            effect=close,
            window=CLOSE,
        ),
        Transition(
            "return_for_correction",
            _("Return for correction"),
            1,
            (State.SUBMITTED,),
            State.RETURNED,
            Party.IN_CLERK,
            guards=(need_reason,),
            effect=set_reason,
            document=DocumentKind.WRITTEN_EXPLANATION,
            window=CLOSE,
            fields=("reason",),
        ),
        Transition(
            "resubmit",
            _("Resubmit the corrected application"),
            1,
            (State.RETURNED,),
            State.SUBMITTED,
            Party.APPLICANT,
            guards=(eligible,),
            effect=resubmit,
            document=DocumentKind.APPLICATION_FORM,
            window=deadlines.CONTACT_LETTER,
            timestamp="submitted_at",
        ),
        Transition(
            "refuse_by_transfer_in",
            _("Refuse (written explanation)"),
            2,
            (State.SUBMITTED,),
            State.REFUSED,
            Party.IN_CLERK,
            guards=(need_reason, need_legal_basis),
            effect=refuse,
            document=DocumentKind.WRITTEN_EXPLANATION,
            window=CLOSE,
            fields=("reason", "legal_basis"),
        ),
        Transition(
            "send_contact_letter",
            _("Send the contact letter"),
            2,
            (State.SUBMITTED,),
            State.CONTACT_LETTER_SENT,
            Party.IN_CLERK,
            document=DocumentKind.CONTACT_LETTER,
            window=deadlines.TRANSFER_OUT,
            timestamp="contact_letter_at",
        ),
        Transition(
            "refuse_by_transfer_out",
            _("Refuse (written explanation)"),
            3,
            (State.CONTACT_LETTER_SENT,),
            State.REFUSED,
            Party.OUT_CLERK,
            guards=(need_reason, need_legal_basis),
            effect=refuse,
            document=DocumentKind.WRITTEN_EXPLANATION,
            issuer=OUT,
            window=CLOSE,
            fields=("reason", "legal_basis"),
        ),
        Transition(
            "enter_amounts",
            _("Enter the amounts to transfer"),
            3,
            (State.CONTACT_LETTER_SENT,),
            State.AMOUNTS_PENDING_APPROVAL,
            Party.OUT_CLERK,
            guards=(amounts_are_valid, amounts_match_table),
            effect=set_amounts,
            fields=(
                "personal_account_amount",
                "pooled_fund_amount",
                "temporary_account_amount",
                "remittance_reference",
            ),
        ),
        Transition(
            "approve_amounts",
            _("Approve the amounts and transfer the funds"),
            3,
            (State.AMOUNTS_PENDING_APPROVAL,),
            State.FUNDS_TRANSFERRED,
            Party.OUT_REVIEWER,
            guards=(approver_is_not_maker,),
            effect=approve_amounts,
            document=DocumentKind.FUND_TRANSFER_RECORD,
            issuer=OUT,
            timestamp="funds_transferred_at",
        ),
        Transition(
            "reject_amounts",
            _("Send the amounts back to the clerk"),
            3,
            (State.AMOUNTS_PENDING_APPROVAL,),
            State.CONTACT_LETTER_SENT,
            Party.OUT_REVIEWER,
            guards=(need_reason,),
            effect=clear_amounts,
            fields=("reason",),
        ),
        Transition(
            "send_information_form",
            _("Send the information form"),
            4,
            (State.FUNDS_TRANSFERRED,),
            State.INFORMATION_FORM_SENT,
            Party.OUT_CLERK,
            document=DocumentKind.INFORMATION_FORM,
            issuer=OUT,
            window=deadlines.CONTINUATION,
            timestamp="information_form_at",
        ),
        Transition(
            "match_funds",
            _("Record the amount received"),
            5,
            (State.INFORMATION_FORM_SENT, State.FUNDS_MISMATCH),
            matched_or_mismatched,
            Party.IN_CLERK,
            guards=(received_amount_is_valid,),
            effect=set_received_amount,
            fields=("received_amount",),
        ),
        Transition(
            "complete",
            _("Complete the continuation"),
            5,
            (State.FUNDS_MATCHED,),
            State.COMPLETED,
            Party.IN_CLERK,
            guards=(funds_match,),
            document=DocumentKind.CONTINUATION_NOTICE,
            window=CLOSE,
            timestamp="completed_at",
        ),
    ]
}

# Who holds the case in each state (shown to everyone with the due date).
HOLDER = {
    State.DRAFT: Party.APPLICANT,
    State.RETURNED: Party.APPLICANT,
    State.SUBMITTED: Party.IN_CLERK,
    State.CONTACT_LETTER_SENT: Party.OUT_CLERK,
    State.AMOUNTS_PENDING_APPROVAL: Party.OUT_REVIEWER,
    State.FUNDS_TRANSFERRED: Party.OUT_CLERK,
    State.INFORMATION_FORM_SENT: Party.IN_CLERK,
    State.FUNDS_MISMATCH: Party.IN_CLERK,
    State.FUNDS_MATCHED: Party.IN_CLERK,
}
TERMINAL = {State.COMPLETED, State.REFUSED, State.WITHDRAWN}

# The official step a state belongs to, for progress bars (0: not yet filed).
STEP_OF_STATE = {
    State.DRAFT: 0,
    State.RETURNED: 1,
    State.SUBMITTED: 1,
    State.CONTACT_LETTER_SENT: 2,
    State.AMOUNTS_PENDING_APPROVAL: 2,
    State.FUNDS_TRANSFERRED: 3,
    State.INFORMATION_FORM_SENT: 4,
    State.FUNDS_MISMATCH: 4,
    State.FUNDS_MATCHED: 4,
    State.COMPLETED: 5,
}

STEP_LABELS = [
    (1, _("Apply")),
    (2, _("Contact letter")),
    (3, _("Fund transfer")),
    (4, _("Information form")),
    (5, _("Continuation")),
]


def transitions_from(state) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if state in t.sources]


PARTY_LABELS = {
    Party.APPLICANT: _("the applicant"),
    Party.IN_CLERK: _("a clerk of the transfer-in agency"),
    Party.IN_REVIEWER: _("a reviewer of the transfer-in agency"),
    Party.OUT_CLERK: _("a clerk of the transfer-out agency"),
    Party.OUT_REVIEWER: _("a reviewer of the transfer-out agency"),
}

ACTION_LABELS = {
    "created": _("Draft created"),
    "retry_document": _("Document queued again"),
    "material_added": _("Material uploaded"),
    "contribution_table_saved": _("Contribution table saved"),
    "flagged_overdue": _("Flagged as overdue"),
    **{action: t.label for action, t in TRANSITIONS.items()},
}


def holder_of(case) -> str:
    """Who holds the case now, in words: the party and, for an agency, its name."""
    party = HOLDER.get(case.state)
    if party is None:
        return ""
    if party in (Party.IN_CLERK, Party.IN_REVIEWER):
        return f"{case.transfer_in_agency.name} · {PARTY_LABELS[party]}"
    if party in (Party.OUT_CLERK, Party.OUT_REVIEWER):
        return f"{case.transfer_out_agency.name} · {PARTY_LABELS[party]}"
    return str(PARTY_LABELS[party])
