"""Every (state, action, party) of the workflow: allowed transitions do what the five steps say, with one
audited event and the declared document; everything else is refused and changes nothing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from agencies.calendar import add_working_days
from applications.cases import services, workflow
from applications.cases.parties import parties_of
from applications.cases.services import ActionRefused, CaseMovedOn, NotPermitted
from applications.cases.states import HOLDER, Party
from applications.models import (
    CaseEvent,
    DocumentKind,
    OfficialDocument,
    State,
    TransferApplication,
)
from tests.workflow.helpers import IN, KEEP, SPEC, VALID_DATA
from tests.world import PERSONAL, POOLED, TOTAL, new_case, put_in_state

OUTSIDERS = ("other_applicant", "outsider_clerk", "outsider_reviewer", "other_hr", "hr", "anonymous")
ALL_PARTIES = list(Party)


def snapshot(case):
    """Everything a user could notice about a case: its row, its events, its documents."""
    return (
        TransferApplication.objects.filter(pk=case.pk).values().get(),
        list(CaseEvent.objects.filter(application=case).values()),
        list(OfficialDocument.objects.filter(application=case).values()),
    )


def outsider(world, name):
    return AnonymousUser() if name == "anonymous" else getattr(world, name)


def test_the_table_declares_exactly_the_five_steps():
    """The table in applications/workflow.py says what the spec above says, and nothing more."""
    assert set(workflow.TRANSITIONS) == set(SPEC)
    for action, (sources, target, party, document, issuer, timestamp, _window) in SPEC.items():
        transition = workflow.TRANSITIONS[action]
        assert set(transition.sources) == sources, action
        if action != "match_funds":
            assert transition.target == target, action
        assert transition.party == party, action
        assert transition.document == document, action
        if document:
            assert transition.issuer == issuer, action
        if timestamp and timestamp != "closed_at":
            assert transition.timestamp == timestamp, action
    # Steps in order: 1 apply, 2 contact letter, 3 fund transfer, 4 information form, 5 continuation.
    assert [workflow.TRANSITIONS[a].step for a in ("submit", "send_contact_letter", "approve_amounts")] == [
        1,
        2,
        3,
    ]
    assert workflow.TRANSITIONS["send_information_form"].step == 4
    assert workflow.TRANSITIONS["complete"].step == 5


@pytest.mark.parametrize("action", list(SPEC))
@pytest.mark.parametrize("state", list(State))
def test_every_state_action_and_party(world, state, action):
    sources, target, allowed_party, document, issuer, timestamp, window = SPEC[action]
    case = put_in_state(new_case(world), state, world)
    before = snapshot(case)
    data = VALID_DATA.get(action, {})

    # Nobody but the declared party may take the action, in any state: the table is checked per party.
    others = [world.user_of(party) for party in ALL_PARTIES if party != allowed_party]
    for user in others + [outsider(world, name) for name in OUTSIDERS]:
        with pytest.raises(NotPermitted):
            services.advance(case, action, user, **data)
    assert snapshot(case) == before

    actor = world.user_of(allowed_party)
    if state not in sources:
        with pytest.raises(CaseMovedOn):
            services.advance(case, action, actor, **data)
        assert snapshot(case) == before
        return

    events_before = set(CaseEvent.objects.filter(application=case).values_list("pk", flat=True))
    documents_before = set(OfficialDocument.objects.filter(application=case).values_list("pk", flat=True))
    started = timezone.now()
    services.advance(case, action, actor, **data)

    case.refresh_from_db()
    assert case.state == target
    (event,) = CaseEvent.objects.filter(application=case).exclude(pk__in=events_before)
    assert (event.action, event.from_state, event.to_state, event.actor) == (action, state, target, actor)
    assert event.at >= started

    new_documents = list(OfficialDocument.objects.filter(application=case).exclude(pk__in=documents_before))
    if document is None:
        assert new_documents == []
    else:
        (new_document,) = new_documents
        assert new_document.kind == document
        expected_agency = case.transfer_in_agency if issuer == IN else case.transfer_out_agency
        assert new_document.issuing_agency == expected_agency
        assert new_document.status == OfficialDocument.Status.PENDING
        earlier_versions = OfficialDocument.objects.filter(
            application=case, kind=document, pk__in=documents_before
        ).count()
        assert new_document.version == earlier_versions + 1
        assert new_document.verification_code

    if timestamp:
        assert getattr(case, timestamp) >= started
    if window is None:
        assert case.due_date is None
    elif window == KEEP:
        assert case.due_date == before[0]["due_date"]
    else:
        assert case.due_date == add_working_days(timezone.localdate(), window)


# --- step by step, as the people involved see it ---------------------------------------------------


def walk(case, world, *steps):
    """Take the steps in order, each by the party the table names; returns the fresh case."""
    for action, data in steps:
        party = workflow.TRANSITIONS[action].party
        services.advance(case, action, world.user_of(party, case.scheme), **data)
    case.refresh_from_db()
    return case


def documents(case):
    return list(case.documents.order_by("pk").values_list("kind", "version", "issuing_agency__code"))


def latest_document(case):
    """The document the last step produced (the steps before it produced theirs)."""
    return case.documents.order_by("pk").last()


def test_a_pension_case_goes_through_the_five_steps(world):
    case = new_case(world)
    case = walk(
        case,
        world,
        ("submit", {}),
        ("send_contact_letter", {}),
        ("enter_amounts", VALID_DATA["enter_amounts"]),
        ("approve_amounts", {}),
        ("send_information_form", {}),
        ("match_funds", {"received_amount": TOTAL}),
        ("complete", {}),
    )
    assert case.state == State.COMPLETED
    assert case.transfer_total == TOTAL == case.received_amount
    assert (case.amounts_entered_by, case.amounts_approved_by) == (world.out_clerk, world.out_reviewer)
    assert case.due_date is None
    assert documents(case) == [
        ("application_form", 1, "YL330100"),
        ("contact_letter", 1, "YL330100"),
        ("fund_transfer_record", 1, "YL360400"),
        ("information_form", 1, "YL360400"),
        ("continuation_notice", 1, "YL330100"),
    ]
    trail = list(case.events.values_list("action", "from_state", "to_state", "actor__username"))
    assert trail == [
        ("created", "", "draft", "360426199101010071"),
        ("submit", "draft", "submitted", "360426199101010071"),
        ("send_contact_letter", "submitted", "contact_letter_sent", "clerk.hangzhou"),
        ("enter_amounts", "contact_letter_sent", "amounts_pending_approval", "clerk.jiujiang"),
        ("approve_amounts", "amounts_pending_approval", "funds_transferred", "reviewer.jiujiang"),
        ("send_information_form", "funds_transferred", "information_form_sent", "clerk.jiujiang"),
        ("match_funds", "information_form_sent", "funds_matched", "clerk.hangzhou"),
        ("complete", "funds_matched", "completed", "clerk.hangzhou"),
    ]


def test_a_medical_case_moves_only_the_personal_account(world):
    case = new_case(world, "medical")
    case = walk(
        case,
        world,
        ("submit", {}),
        ("send_contact_letter", {}),
        ("enter_amounts", {"personal_account_amount": Decimal("3210.50")}),
        ("approve_amounts", {}),
        ("send_information_form", {}),
        ("match_funds", {"received_amount": Decimal("3210.50")}),
        ("complete", {}),
    )
    assert case.state == State.COMPLETED
    assert (case.personal_account_amount, case.pooled_fund_amount) == (Decimal("3210.50"), None)
    assert case.transfer_total == Decimal("3210.50")
    assert [code for _kind, _version, code in documents(case)] == [
        "YB330100",
        "YB330100",
        "YB360400",
        "YB360400",
        "YB330100",
    ]


def test_return_for_correction_and_resubmit(world):
    case = walk(new_case(world), world, ("submit", {}))
    walk(case, world, ("return_for_correction", {"reason": "请补充上传身份证复印件"}))
    assert case.state == State.RETURNED
    assert case.reason == "请补充上传身份证复印件"
    assert case.due_date is None  # back with the applicant: no agency deadline runs
    assert case.events.last().note == "请补充上传身份证复印件"

    walk(case, world, ("resubmit", {}))
    assert case.state == State.SUBMITTED
    assert case.reason == ""  # the old reason no longer applies
    assert case.due_date == add_working_days(timezone.localdate(), 15)
    assert documents(case) == [
        ("application_form", 1, "YL330100"),
        ("written_explanation", 1, "YL330100"),
        ("application_form", 2, "YL330100"),
    ]


@pytest.mark.parametrize(
    ("action", "state", "party", "issuer"),
    [
        ("refuse_by_transfer_in", State.SUBMITTED, Party.IN_CLERK, "YL330100"),
        ("refuse_by_transfer_out", State.CONTACT_LETTER_SENT, Party.OUT_CLERK, "YL360400"),
    ],
)
def test_refusal_needs_a_reason_and_its_legal_basis(world, action, state, party, issuer):
    case = put_in_state(new_case(world), state, world)
    before = snapshot(case)
    clerk = world.user_of(party)
    for data in (
        {},
        {"reason": "   ", "legal_basis": "国办发〔2009〕66号 第八条"},
        {"reason": "存在欠费"},
        {"reason": "存在欠费", "legal_basis": "  "},
    ):
        with pytest.raises(ActionRefused):
            services.advance(case, action, clerk, **data)
        assert snapshot(case) == before, data

    services.advance(case, action, clerk, reason=" 存在欠费 ", legal_basis="国办发〔2009〕66号 第八条")
    case.refresh_from_db()
    assert (case.state, case.reason, case.legal_basis) == (
        State.REFUSED,
        "存在欠费",
        "国办发〔2009〕66号 第八条",
    )
    assert case.closed_at is not None and case.due_date is None
    (explanation,) = case.documents.filter(kind=DocumentKind.WRITTEN_EXPLANATION)
    assert (explanation.kind, explanation.issuing_agency.code) == (DocumentKind.WRITTEN_EXPLANATION, issuer)
    # A refused case is closed: nobody can take it any further.
    for later_action in SPEC:
        spec_party = SPEC[later_action][2]
        with pytest.raises(CaseMovedOn):
            services.advance(
                case, later_action, world.user_of(spec_party), **VALID_DATA.get(later_action, {})
            )


def test_return_for_correction_needs_a_reason(world):
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    before = snapshot(case)
    with pytest.raises(ActionRefused):
        services.advance(case, "return_for_correction", world.in_clerk, reason="")
    assert snapshot(case) == before


@pytest.mark.parametrize("state", [State.DRAFT, State.SUBMITTED, State.RETURNED])
def test_the_applicant_may_withdraw_before_the_contact_letter(world, state):
    case = put_in_state(new_case(world), state, world)
    services.advance(case, "withdraw", world.applicant)
    case.refresh_from_db()
    assert case.state == State.WITHDRAWN
    assert case.due_date is None and case.closed_at is not None


@pytest.mark.parametrize(
    "state",
    [s for s in State if s not in (State.DRAFT, State.SUBMITTED, State.RETURNED)],
)
def test_no_withdrawal_once_the_contact_letter_is_sent(world, state):
    case = put_in_state(new_case(world), state, world)
    before = snapshot(case)
    with pytest.raises(CaseMovedOn):
        services.advance(case, "withdraw", world.applicant)
    assert snapshot(case) == before


def test_the_contact_letter_is_issued_by_the_transfer_in_agency(world):
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    services.advance(case, "send_contact_letter", world.in_clerk_2)  # any clerk of that agency
    case.refresh_from_db()
    assert case.state == State.CONTACT_LETTER_SENT
    (letter,) = case.documents.filter(kind=DocumentKind.CONTACT_LETTER)
    assert (letter.kind, letter.issuing_agency) == (DocumentKind.CONTACT_LETTER, world.yl_in)
    assert case.events.last().actor == world.in_clerk_2


def test_the_clerk_who_entered_the_amounts_cannot_approve_them(world):
    """Maker-checker: even a user who is also a reviewer of the transfer-out agency cannot approve the
    amounts they entered themselves; another reviewer can."""
    both = world.out_clerk_and_reviewer
    case = put_in_state(new_case(world), State.CONTACT_LETTER_SENT, world)
    assert {Party.OUT_CLERK, Party.OUT_REVIEWER} <= parties_of(both, case)
    services.advance(case, "enter_amounts", both, **VALID_DATA["enter_amounts"])
    case.refresh_from_db()
    assert (case.state, case.amounts_entered_by, case.transfer_total) == (
        State.AMOUNTS_PENDING_APPROVAL,
        both,
        TOTAL,
    )
    before = snapshot(case)
    with pytest.raises(ActionRefused):
        services.advance(case, "approve_amounts", both)
    assert snapshot(case) == before

    services.advance(case, "approve_amounts", world.out_reviewer)
    case.refresh_from_db()
    assert (case.state, case.amounts_approved_by) == (State.FUNDS_TRANSFERRED, world.out_reviewer)
    assert latest_document(case).kind == DocumentKind.FUND_TRANSFER_RECORD


def test_a_reviewer_sends_wrong_amounts_back_to_the_clerk(world):
    case = put_in_state(new_case(world), State.AMOUNTS_PENDING_APPROVAL, world)
    with pytest.raises(ActionRefused):
        services.advance(case, "reject_amounts", world.out_reviewer, reason="")
    services.advance(case, "reject_amounts", world.out_reviewer, reason="统筹基金金额有误")
    case.refresh_from_db()
    assert case.state == State.CONTACT_LETTER_SENT
    assert case.transfer_total is None and case.amounts_entered_by is None
    assert case.events.last().note == "统筹基金金额有误"
    # The clerk enters corrected amounts, and the reviewer approves those.
    services.advance(
        case,
        "enter_amounts",
        world.out_clerk,
        personal_account_amount=PERSONAL,
        pooled_fund_amount=POOLED - 1,
    )
    services.advance(case, "approve_amounts", world.out_reviewer)
    case.refresh_from_db()
    assert (case.state, case.transfer_total) == (State.FUNDS_TRANSFERRED, TOTAL - 1)


@pytest.mark.parametrize(
    "amounts",
    [
        {"personal_account_amount": PERSONAL},  # the pooled fund is missing
        {"personal_account_amount": Decimal("-1.00"), "pooled_fund_amount": POOLED},
        {"personal_account_amount": Decimal("1.001"), "pooled_fund_amount": POOLED},
        {"personal_account_amount": Decimal("NaN"), "pooled_fund_amount": POOLED},
        {"personal_account_amount": "100", "pooled_fund_amount": POOLED},
    ],
)
def test_invalid_amounts_are_refused(world, amounts):
    case = put_in_state(new_case(world), State.CONTACT_LETTER_SENT, world)
    before = snapshot(case)
    with pytest.raises(ActionRefused):
        services.advance(case, "enter_amounts", world.out_clerk, **amounts)
    assert snapshot(case) == before


def test_the_transfer_out_side_sends_the_information_form(world):
    case = put_in_state(new_case(world), State.FUNDS_TRANSFERRED, world)
    services.advance(case, "send_information_form", world.out_clerk)
    case.refresh_from_db()
    assert case.state == State.INFORMATION_FORM_SENT
    form = latest_document(case)
    assert (form.kind, form.issuing_agency) == (DocumentKind.INFORMATION_FORM, world.yl_out)


def test_a_mismatch_is_recorded_and_blocks_completion_until_the_money_matches(world):
    case = put_in_state(new_case(world), State.INFORMATION_FORM_SENT, world)
    services.advance(case, "match_funds", world.in_clerk, received_amount=TOTAL - Decimal("0.01"))
    case.refresh_from_db()
    assert case.state == State.FUNDS_MISMATCH
    assert case.received_amount == TOTAL - Decimal("0.01")
    mismatch = case.events.last()
    assert (mismatch.action, mismatch.to_state) == ("match_funds", State.FUNDS_MISMATCH)

    before = snapshot(case)
    with pytest.raises(CaseMovedOn):
        services.advance(case, "complete", world.in_clerk)
    assert snapshot(case) == before
    assert HOLDER[case.state] == Party.IN_CLERK  # the transfer-in agency still holds it

    services.advance(case, "match_funds", world.in_clerk, received_amount=TOTAL)
    case.refresh_from_db()
    assert case.state == State.FUNDS_MATCHED
    services.advance(case, "complete", world.in_clerk)
    case.refresh_from_db()
    assert case.state == State.COMPLETED
    notice = latest_document(case)
    assert (notice.kind, notice.issuing_agency) == (DocumentKind.CONTINUATION_NOTICE, world.yl_in)


def test_completion_checks_the_money_again(world):
    """Even a case marked matched cannot complete when the amounts differ (the guard, not only the state)."""
    case = put_in_state(new_case(world), State.FUNDS_MATCHED, world)
    TransferApplication.objects.filter(pk=case.pk).update(received_amount=TOTAL + 1)
    before = snapshot(case)
    with pytest.raises(ActionRefused):
        services.advance(case, "complete", world.in_clerk)
    assert snapshot(case) == before


def test_hr_of_the_filing_employer_acts_as_the_applicant(world):
    case = new_case(world, person=world.employee, filed_by=world.hr, employer=world.employer)
    assert parties_of(world.hr, case) == {Party.APPLICANT}
    for stranger in (world.other_hr, world.applicant, world.outsider_clerk):
        assert parties_of(stranger, case) == set()
        with pytest.raises(NotPermitted):
            services.advance(case, "submit", stranger)
    services.advance(case, "submit", world.hr)
    case.refresh_from_db()
    assert case.state == State.SUBMITTED
    assert case.events.last().actor == world.hr
    services.advance(case, "withdraw", world.hr)
    case.refresh_from_db()
    assert case.state == State.WITHDRAWN


def test_an_unknown_action_is_not_permitted(world):
    case = new_case(world)
    with pytest.raises(NotPermitted):
        services.advance(case, "delete_everything", world.applicant)


def test_a_stale_expected_state_is_refused_as_moved_on(world):
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    before = snapshot(case)
    with pytest.raises(CaseMovedOn):
        services.advance(case, "send_contact_letter", world.in_clerk, expected_state=State.DRAFT)
    assert snapshot(case) == before
    services.advance(case, "send_contact_letter", world.in_clerk, expected_state=State.SUBMITTED)


# --- the database itself refuses what the service would never write ---------------------------------


def test_the_database_refuses_a_completed_case_whose_money_does_not_match(world):
    case = put_in_state(new_case(world), State.COMPLETED, world)
    with pytest.raises(IntegrityError), transaction.atomic():
        TransferApplication.objects.filter(pk=case.pk).update(received_amount=TOTAL - 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        TransferApplication.objects.filter(pk=case.pk).update(received_amount=None)
    case.refresh_from_db()
    assert case.received_amount == TOTAL


def test_the_database_refuses_amounts_approved_by_their_maker(world):
    case = put_in_state(new_case(world), State.FUNDS_TRANSFERRED, world)
    with pytest.raises(IntegrityError), transaction.atomic():
        TransferApplication.objects.filter(pk=case.pk).update(amounts_approved_by=F("amounts_entered_by"))
    case.refresh_from_db()
    assert case.amounts_approved_by == world.out_reviewer


def test_events_are_append_only(world):
    case = new_case(world)
    event = case.events.get()
    event.note = "changed"
    with pytest.raises(Exception, match="append-only"):
        event.save()
    with pytest.raises(Exception, match="append-only"):
        event.delete()
    assert case.events.get().note == ""


def test_due_date_is_kept_while_the_transfer_out_side_works(world):
    """Entering, rejecting and approving amounts happen inside the transfer-out window: its due date stays."""
    # The contact letter went out nine days ago: the transfer-out window's due date was set then.
    case = put_in_state(
        new_case(world), State.CONTACT_LETTER_SENT, world, at=timezone.localdate() - timedelta(days=9)
    )
    due = case.due_date
    assert due != add_working_days(timezone.localdate(), 15)  # what a step taken today would set
    services.advance(case, "enter_amounts", world.out_clerk, **VALID_DATA["enter_amounts"])
    services.advance(case, "reject_amounts", world.out_reviewer, reason="再核一次")
    services.advance(case, "enter_amounts", world.out_clerk, **VALID_DATA["enter_amounts"])
    services.advance(case, "approve_amounts", world.out_reviewer)
    case.refresh_from_db()
    assert case.due_date == due
