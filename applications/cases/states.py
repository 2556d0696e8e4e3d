"""The states of a case and the parties to it, declared once.

For each state: the official step it belongs to (1 apply, 2 contact letter, 3 fund transfer,
4 information form, 5 continuation; 0 before filing), who holds the case there, which deadline window
runs, and whether the case is closed. For each party: which agency side and which staff role it is.
The workflow table (applications/workflow.py) moves cases between these states; the queue, statistics,
notifications, documents and the database constraints read the facts from here instead of restating them.

This module sits below the models (models/cases.py takes State from here), so it imports no model.
"""

from dataclasses import dataclass
from enum import StrEnum

from django.db import models
from django.utils.translation import gettext_lazy as _

from applications.rules import deadlines


class State(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted, awaiting the transfer-in agency")
    RETURNED = "returned", _("Returned for correction")
    CONTACT_LETTER_SENT = "contact_letter_sent", _("Contact letter sent, awaiting the transfer-out agency")
    AMOUNTS_PENDING_APPROVAL = "amounts_pending_approval", _("Amounts entered, awaiting approval")
    FUNDS_TRANSFERRED = "funds_transferred", _("Funds transferred, information form to follow")
    INFORMATION_FORM_SENT = "information_form_sent", _("Information form sent, awaiting continuation")
    FUNDS_MISMATCH = "funds_mismatch", _("Amount received does not match the information form")
    FUNDS_MATCHED = "funds_matched", _("Funds matched, awaiting continuation")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Side(StrEnum):
    """Which of the case's two agencies: the transfer-in (转入地) or the transfer-out (转出地) agency."""

    IN = "in"
    OUT = "out"


class Role(StrEnum):
    """A staff member's role at an agency (the values of agencies.models.AgencyStaff.Role)."""

    CLERK = "clerk"
    REVIEWER = "reviewer"


class Party(StrEnum):
    APPLICANT = "applicant"  # the insured person, or HR of the employer that filed
    IN_CLERK = "transfer_in_clerk"
    IN_REVIEWER = "transfer_in_reviewer"
    OUT_CLERK = "transfer_out_clerk"
    OUT_REVIEWER = "transfer_out_reviewer"

    @property
    def side(self) -> Side | None:
        return PARTY_SIDE_ROLE.get(self, (None, None))[0]

    @property
    def role(self) -> Role | None:
        return PARTY_SIDE_ROLE.get(self, (None, None))[1]

    @classmethod
    def of_staff(cls, side: Side, role: str) -> "Party":
        return {v: k for k, v in PARTY_SIDE_ROLE.items()}[(Side(side), Role(role))]


PARTY_SIDE_ROLE = {
    Party.IN_CLERK: (Side.IN, Role.CLERK),
    Party.IN_REVIEWER: (Side.IN, Role.REVIEWER),
    Party.OUT_CLERK: (Side.OUT, Role.CLERK),
    Party.OUT_REVIEWER: (Side.OUT, Role.REVIEWER),
}

PARTY_LABELS = {
    Party.APPLICANT: _("the applicant"),
    Party.IN_CLERK: _("a clerk of the transfer-in agency"),
    Party.IN_REVIEWER: _("a reviewer of the transfer-in agency"),
    Party.OUT_CLERK: _("a clerk of the transfer-out agency"),
    Party.OUT_REVIEWER: _("a reviewer of the transfer-out agency"),
}


@dataclass(frozen=True)
class StateFacts:
    step: int
    holder: Party | None = None  # None: closed, nobody holds it
    window: str | None = None  # the deadline window that runs (applications/rules/deadlines.py)
    closed: bool = False


STATES = {
    State.DRAFT: StateFacts(step=0, holder=Party.APPLICANT),
    State.RETURNED: StateFacts(step=1, holder=Party.APPLICANT),
    State.SUBMITTED: StateFacts(step=1, holder=Party.IN_CLERK, window=deadlines.CONTACT_LETTER),
    State.CONTACT_LETTER_SENT: StateFacts(step=2, holder=Party.OUT_CLERK, window=deadlines.TRANSFER_OUT),
    State.AMOUNTS_PENDING_APPROVAL: StateFacts(
        step=2, holder=Party.OUT_REVIEWER, window=deadlines.TRANSFER_OUT
    ),
    State.FUNDS_TRANSFERRED: StateFacts(step=3, holder=Party.OUT_CLERK, window=deadlines.TRANSFER_OUT),
    State.INFORMATION_FORM_SENT: StateFacts(step=4, holder=Party.IN_CLERK, window=deadlines.CONTINUATION),
    State.FUNDS_MISMATCH: StateFacts(step=4, holder=Party.IN_CLERK, window=deadlines.CONTINUATION),
    State.FUNDS_MATCHED: StateFacts(step=4, holder=Party.IN_CLERK, window=deadlines.CONTINUATION),
    State.COMPLETED: StateFacts(step=5, closed=True),
    State.REFUSED: StateFacts(step=0, closed=True),
    State.WITHDRAWN: StateFacts(step=0, closed=True),
}

# Views of the declaration above, for the modules that need one fact only.
HOLDER = {state: facts.holder for state, facts in STATES.items() if facts.holder}
CLOSED_STATES = tuple(state for state, facts in STATES.items() if facts.closed)
STEP_OF_STATE = {state: facts.step for state, facts in STATES.items() if facts.step or not facts.closed}
WINDOW_OF_STATE = {state: facts.window for state, facts in STATES.items() if facts.window}
WINDOWS = (deadlines.CONTACT_LETTER, deadlines.TRANSFER_OUT, deadlines.CONTINUATION)
# The side that must act in each deadline window: the side of the party holding its states.
WINDOW_SIDE = {
    window: {HOLDER[s].side for s, w in WINDOW_OF_STATE.items() if w == window}.pop() for window in WINDOWS
}

STEP_LABELS = [
    (1, _("Apply")),
    (2, _("Contact letter")),
    (3, _("Fund transfer")),
    (4, _("Information form")),
    (5, _("Continuation")),
]


def states_held_by(side: Side) -> list[State]:
    """The open states in which an agency of `side` must act."""
    return [state for state, party in HOLDER.items() if party.side == side]
