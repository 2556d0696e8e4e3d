"""The five steps of a transfer, declared in one table.

Every transition says: the action, the official step (1 apply, 2 contact letter, 3 fund transfer,
4 information form, 5 continuation), the states it starts from, the state it leads to, who may take it
(party), what it needs (guards), the document it produces and which agency issues it, and which
deadline window it opens. `services.advance` is the only code that carries a transition out.

The states themselves (who holds the case, the step, the deadline window, closed or not) and the parties
(side and role) are declared in applications/states.py; guards and effects are in applications/guards.py.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from applications.cases import guards
from applications.cases.states import Party, Side, State
from applications.models import DocumentKind
from applications.rules import deadlines

# Deadline windows: a transition opens one (a window of applications/rules/deadlines.py), keeps the
# current one, or closes the case's due date.
KEEP, CLOSE = "keep", "close"


@dataclass(frozen=True)
class Transition:
    """One row of the table."""

    action: str
    label: str
    step: int
    sources: tuple[State, ...]
    target: State | Callable  # a callable chooses the target from the case (funds matched or not)
    party: Party
    guards: tuple[Callable, ...] = ()
    effect: Callable | None = None
    document: DocumentKind | None = None
    issuer: Side = Side.IN  # which agency issues the document
    window: str = KEEP
    timestamp: str | None = None  # the per-step timestamp field this transition sets
    fields: tuple[str, ...] = ()  # the data a form must collect

    def target_for(self, case) -> State:
        return self.target(case) if callable(self.target) else self.target


TRANSITIONS = {
    t.action: t
    for t in [
        Transition(
            action="submit",
            label=_("Submit the application"),
            step=1,
            sources=(State.DRAFT,),
            target=State.SUBMITTED,
            party=Party.APPLICANT,
            guards=(guards.eligible,),
            effect=guards.set_temporary_account,
            document=DocumentKind.APPLICATION_FORM,
            window=deadlines.CONTACT_LETTER,
            timestamp="submitted_at",
        ),
        Transition(
            action="withdraw",
            label=_("Withdraw the application"),
            step=1,
            sources=(State.DRAFT, State.SUBMITTED, State.RETURNED),
            target=State.WITHDRAWN,
            party=Party.APPLICANT,
            effect=guards.close,
            window=CLOSE,
        ),
        Transition(
            action="return_for_correction",
            label=_("Return for correction"),
            step=1,
            sources=(State.SUBMITTED,),
            target=State.RETURNED,
            party=Party.IN_CLERK,
            guards=(guards.need_reason,),
            effect=guards.set_reason,
            document=DocumentKind.WRITTEN_EXPLANATION,
            window=CLOSE,
            fields=("reason",),
        ),
        Transition(
            action="resubmit",
            label=_("Resubmit the corrected application"),
            step=1,
            sources=(State.RETURNED,),
            target=State.SUBMITTED,
            party=Party.APPLICANT,
            guards=(guards.eligible,),
            effect=guards.resubmit,
            document=DocumentKind.APPLICATION_FORM,
            window=deadlines.CONTACT_LETTER,
            timestamp="submitted_at",
        ),
        Transition(
            action="refuse_by_transfer_in",
            label=_("Refuse (written explanation)"),
            step=2,
            sources=(State.SUBMITTED,),
            target=State.REFUSED,
            party=Party.IN_CLERK,
            guards=(guards.need_reason, guards.need_legal_basis),
            effect=guards.refuse,
            document=DocumentKind.WRITTEN_EXPLANATION,
            window=CLOSE,
            fields=("reason", "legal_basis"),
        ),
        Transition(
            action="send_contact_letter",
            label=_("Send the contact letter"),
            step=2,
            sources=(State.SUBMITTED,),
            target=State.CONTACT_LETTER_SENT,
            party=Party.IN_CLERK,
            document=DocumentKind.CONTACT_LETTER,
            window=deadlines.TRANSFER_OUT,
            timestamp="contact_letter_at",
        ),
        Transition(
            action="refuse_by_transfer_out",
            label=_("Refuse (written explanation)"),
            step=3,
            sources=(State.CONTACT_LETTER_SENT,),
            target=State.REFUSED,
            party=Party.OUT_CLERK,
            guards=(guards.need_reason, guards.need_legal_basis),
            effect=guards.refuse,
            document=DocumentKind.WRITTEN_EXPLANATION,
            issuer=Side.OUT,
            window=CLOSE,
            fields=("reason", "legal_basis"),
        ),
        Transition(
            action="enter_amounts",
            label=_("Enter the amounts to transfer"),
            step=3,
            sources=(State.CONTACT_LETTER_SENT,),
            target=State.AMOUNTS_PENDING_APPROVAL,
            party=Party.OUT_CLERK,
            guards=(guards.amounts_are_valid, guards.amounts_match_table),
            effect=guards.set_amounts,
            fields=(
                "personal_account_amount",
                "pooled_fund_amount",
                "temporary_account_amount",
                "remittance_reference",
            ),
        ),
        Transition(
            action="approve_amounts",
            label=_("Approve the amounts and transfer the funds"),
            step=3,
            sources=(State.AMOUNTS_PENDING_APPROVAL,),
            target=State.FUNDS_TRANSFERRED,
            party=Party.OUT_REVIEWER,
            guards=(guards.approver_is_not_maker,),
            effect=guards.approve_amounts,
            document=DocumentKind.FUND_TRANSFER_RECORD,
            issuer=Side.OUT,
            timestamp="funds_transferred_at",
        ),
        Transition(
            action="reject_amounts",
            label=_("Send the amounts back to the clerk"),
            step=3,
            sources=(State.AMOUNTS_PENDING_APPROVAL,),
            target=State.CONTACT_LETTER_SENT,
            party=Party.OUT_REVIEWER,
            guards=(guards.need_reason,),
            effect=guards.clear_amounts,
            fields=("reason",),
        ),
        Transition(
            action="send_information_form",
            label=_("Send the information form"),
            step=4,
            sources=(State.FUNDS_TRANSFERRED,),
            target=State.INFORMATION_FORM_SENT,
            party=Party.OUT_CLERK,
            document=DocumentKind.INFORMATION_FORM,
            issuer=Side.OUT,
            window=deadlines.CONTINUATION,
            timestamp="information_form_at",
        ),
        Transition(
            action="match_funds",
            label=_("Record the amount received"),
            step=5,
            sources=(State.INFORMATION_FORM_SENT, State.FUNDS_MISMATCH),
            target=guards.matched_or_mismatched,
            party=Party.IN_CLERK,
            guards=(guards.received_amount_is_valid,),
            effect=guards.set_received_amount,
            fields=("received_amount",),
        ),
        Transition(
            action="complete",
            label=_("Complete the continuation"),
            step=5,
            sources=(State.FUNDS_MATCHED,),
            target=State.COMPLETED,
            party=Party.IN_CLERK,
            guards=(guards.funds_match,),
            document=DocumentKind.CONTINUATION_NOTICE,
            window=CLOSE,
            timestamp="completed_at",
        ),
    ]
}


# Events of a case that are not transitions (applications/audit.py), with their timeline labels.
ACTION_LABELS = {
    "created": _("Draft created"),
    "retry_document": _("Document queued again"),
    "material_added": _("Material uploaded"),
    "contribution_table_saved": _("Contribution table saved"),
    "flagged_overdue": _("Flagged as overdue"),
    **{action: t.label for action, t in TRANSITIONS.items()},
}


def transitions_from(state) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if state in t.sources]


def available_to(parties, state) -> list[Transition]:
    """The transitions a user who is `parties` on a case in `state` may take now."""
    return [t for t in transitions_from(state) if t.party in parties]
