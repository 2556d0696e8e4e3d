"""What the workflow's transitions need (guards) and what they change on the case (effects).

A guard is `(case, user, data) -> None` and raises TransitionRefused with a message in the user's
language; an effect is `(case, user, data) -> None` and changes the case's own fields. The table in
applications/workflow.py names them; services.advance runs them with the case's row locked.
"""

from decimal import Decimal

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from applications.cases import columns
from applications.cases.contributions import computed_amounts
from applications.cases.eligibility import assess_case, explain
from applications.cases.states import State
from applications.models import TransferApplication
from applications.rules.eligibility import Outcome


class TransitionRefused(Exception):
    """A guard said no; the message tells the user why, in their language."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


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
    _must_fit(name, value)
    return value


def _must_fit(name, value):
    """A value the case's column cannot hold is refused here, not by the database (a server error)."""
    if not columns.fits(TransferApplication, name, value):
        raise TransitionRefused(
            _("%(what)s: %(amount)s yuan is more than the form can hold (at most %(largest)s yuan).")
            % {
                "what": capfirst(TransferApplication._meta.get_field(name).verbose_name),
                "amount": columns.shown(value),
                "largest": columns.shown(columns.largest(TransferApplication, name)),
            }
        )


def amount_fields(case) -> tuple[str, ...]:
    """Which amounts move: a temporary account moves whole; pension moves the personal account and the
    pooled fund (统筹基金); medical insurance moves the personal account alone."""
    if case.temporary_account:
        return ("temporary_account_amount",)
    if case.scheme == "pension":
        return ("personal_account_amount", "pooled_fund_amount")
    return ("personal_account_amount",)


def amounts_are_valid(case, user, data):
    """Each amount fits its column, and so does their sum, the total transferred (two amounts that fit
    can add up to one that does not)."""
    moving = amount_fields(case)
    for name in moving:
        _amount(data, name)
    _must_fit("transfer_total", sum((data[name] for name in moving), Decimal("0")))


def amounts_match_table(case, user, data):
    """When the contribution table is entered, the amounts must be the ones the regulation gives for it."""
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
