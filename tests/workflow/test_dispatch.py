"""The rendering task is sent only once the case's change is committed: a worker must never look for a
document row that does not exist yet, and a rolled-back step must leave no task behind."""

from decimal import Decimal

import pytest
from django.db import transaction

from applications.cases import services
from applications.cases.services import ActionRefused
from applications.models import DocumentKind, OfficialDocument, State
from tests.world import TOTAL, new_case, put_in_state


def test_the_task_is_sent_after_commit_once_per_document(world, delay, django_capture_on_commit_callbacks):
    case = new_case(world)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.advance(case, "submit", world.applicant)
        # Inside the transaction nothing has been sent yet.
        delay.assert_not_called()
    assert delay.call_count == 0
    for callback in callbacks:
        callback()
    document = OfficialDocument.objects.get(application=case)
    delay.assert_called_once_with(document.pk)


def test_a_whole_case_sends_one_task_per_document(world, delay, django_capture_on_commit_callbacks):
    case = new_case(world)
    steps = [
        ("submit", world.applicant, {}),
        ("return_for_correction", world.in_clerk, {"reason": "补充材料"}),
        ("resubmit", world.applicant, {}),
        ("send_contact_letter", world.in_clerk, {}),
        ("enter_amounts", world.out_clerk, {"personal_account_amount": Decimal("1.00"), "pooled_fund_amount": TOTAL - 1}),
        ("approve_amounts", world.out_reviewer, {}),
        ("send_information_form", world.out_clerk, {}),
        ("match_funds", world.in_clerk, {"received_amount": TOTAL}),
        ("complete", world.in_clerk, {}),
    ]  # fmt: skip
    for action, user, data in steps:
        with django_capture_on_commit_callbacks(execute=True):
            services.advance(case, action, user, **data)
    documents = list(OfficialDocument.objects.filter(application=case).order_by("pk"))
    assert len(documents) == 7
    assert [call.args for call in delay.call_args_list] == [(d.pk,) for d in documents]


def test_no_task_when_the_transaction_rolls_back(world, delay, django_capture_on_commit_callbacks):
    case = new_case(world)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.advance(case, "submit", world.applicant)
            raise RuntimeError("something after the step failed")
    assert callbacks == []
    delay.assert_not_called()
    case.refresh_from_db()
    assert case.state == State.DRAFT
    assert not OfficialDocument.objects.filter(application=case).exists()
    assert case.events.count() == 1  # only "created"


def test_no_task_when_a_guard_refuses(world, delay, django_capture_on_commit_callbacks):
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ActionRefused):
            services.advance(case, "refuse_by_transfer_in", world.in_clerk, reason="欠费")
    assert callbacks == []
    delay.assert_not_called()


def test_a_step_without_a_document_sends_no_task(world, delay, django_capture_on_commit_callbacks):
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    with django_capture_on_commit_callbacks(execute=True):
        services.advance(case, "withdraw", world.applicant)
    delay.assert_not_called()


def test_a_retry_is_sent_after_commit(world, delay, django_capture_on_commit_callbacks):
    case = put_in_state(new_case(world), State.SUBMITTED, world)
    with django_capture_on_commit_callbacks(execute=True):
        services.advance(case, "send_contact_letter", world.in_clerk)
    document = OfficialDocument.objects.get(application=case, kind=DocumentKind.CONTACT_LETTER)
    OfficialDocument.objects.filter(pk=document.pk).update(status=OfficialDocument.Status.FAILED, error="x")
    delay.reset_mock()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.retry_document(document, world.in_clerk)
        delay.assert_not_called()
    for callback in callbacks:
        callback()
    delay.assert_called_once_with(document.pk)
