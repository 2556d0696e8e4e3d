"""The eligibility pre-check guards submission: a transfer that is not possible now stays a draft with
the reason and what to do; the age rule marks a temporary account, and the transfer-out clerk is then
asked for the temporary account amount only."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from applications.cases import services
from applications.cases.guards import amount_fields
from applications.cases.workflow import TRANSITIONS
from applications.models import CaseEvent, Notification, OfficialDocument
from applications.views.case_forms import action_form
from tests.rules.conftest import csv_bytes, demo_employer, draft, person, submitted, upload, user
from tests.world import clock_at, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]

D = datetime.date


def test_a_draft_declaring_arrears_cannot_be_submitted_and_nothing_changes(no_document_rendering):
    case = draft(arrears=True)
    with translation.override("en"), pytest.raises(services.ActionRefused) as refused:
        submitted(case)
    assert refused.value.message == (
        "The transfer is not possible yet. Do this first: "
        "There are arrears at the old place: pay them at the old place first."
    )
    case.refresh_from_db()
    assert case.state == "draft"
    assert case.submitted_at is None and case.due_date is None
    assert not case.temporary_account
    assert list(CaseEvent.objects.filter(application=case).values_list("action", flat=True)) == ["created"]
    assert not OfficialDocument.objects.filter(application=case).exists()
    assert not Notification.objects.filter(application=case).exists()
    no_document_rendering.assert_not_called()


def test_the_refusal_is_shown_to_the_applicant_on_the_case_page(client):
    case = draft(arrears=True, contributions_paused=False)
    login(client, "360426199101010071")
    client.cookies["django_language"] = "en"
    response = client.post(f"/cases/{case.reference}/act/submit/", {"expected_state": "draft"}, follow=True)
    (message,) = [str(m) for m in response.context["messages"]]
    assert "paused (暂停缴费) first" in message
    assert "pay them at the old place first" in message
    case.refresh_from_db()
    assert case.state == "draft"


def wu_zhe_draft():
    """吴喆: man, born 8 May 1972, hukou Chengdu (Sichuan); his employer's HR files Jiujiang → Hangzhou."""
    wu = person(name="吴喆")
    assert (wu.sex, wu.birth_date, wu.hukou_region_id) == ("M", D(1972, 5, 8), "510100")
    return draft(wu, filed_by=user("hr.hangzhou"), employer=demo_employer())


def test_wu_zhe_at_54_is_submitted_with_a_temporary_account(client, no_document_rendering):
    with clock_at(D(2026, 6, 1)):
        case = submitted(wu_zhe_draft())
    assert case.state == "submitted"
    assert case.temporary_account
    assert no_document_rendering.call_count == 0  # queued on commit, not before
    case = services.advance(case, "send_contact_letter", user("clerk.hangzhou"))

    # The transfer-out clerk is asked for the temporary account amount only.
    assert amount_fields(case) == ("temporary_account_amount",)
    form = action_form(TRANSITIONS["enter_amounts"], case)
    assert set(form.fields) == {"temporary_account_amount", "remittance_reference", "expected_state"}
    login(client, "clerk.jiujiang")
    page = client.get(f"/cases/{case.reference}/").content.decode()
    assert 'name="temporary_account_amount"' in page
    assert 'name="personal_account_amount"' not in page
    assert 'name="pooled_fund_amount"' not in page


def test_the_temporary_account_moves_every_contribution_with_interest(client):
    with clock_at(D(2026, 6, 1)):
        case = submitted(wu_zhe_draft())
    case = services.advance(case, "send_contact_letter", user("clerk.hangzhou"))
    login(client, "clerk.jiujiang")
    rows = [
        {
            "region_code": "360400", "year": "2024", "start_month": "1", "end_month": "12",
            "monthly_base": "6000", "employer_rate": "0.16", "credited_rate": "0.08", "individual_rate": "0.08",
            "credited_amount": "5760", "interest": "150.00", "year_end_balance": "5910",
        },
        {
            "region_code": "360400", "year": "2025", "start_month": "1", "end_month": "6",
            "monthly_base": "6500", "employer_rate": "0.16", "credited_rate": "0.08", "individual_rate": "0.08",
            "credited_amount": "3120", "interest": "80.00", "year_end_balance": "9110",
        },
    ]  # fmt: skip
    assert upload(client, case, csv_bytes(rows)).status_code == 302
    # 24% × (6,000 × 12 + 6,500 × 6) + 230.00 = 17,280 + 9,360 + 230
    expected = Decimal("26870.00")
    page = client.get(f"/cases/{case.reference}/").content.decode()
    assert f'name="temporary_account_amount" value="{expected}"' in page

    with pytest.raises(services.ActionRefused):
        services.advance(
            case, "enter_amounts", user("clerk.jiujiang"), temporary_account_amount=Decimal("13320.00")
        )  # 12% of the wages would be the pooled-fund rule, not the temporary account's
    case = services.advance(case, "enter_amounts", user("clerk.jiujiang"), temporary_account_amount=expected)
    assert case.state == "amounts_pending_approval"
    assert case.transfer_total == expected
    assert case.personal_account_amount is None and case.pooled_fund_amount is None
