"""The daily sweep: a case past its due date is flagged once per due date, the staff of the agency holding
it are e-mailed, and their queue shows it first with an overdue badge."""

import datetime
import re

import pytest
from django.utils import timezone

from applications.cases import services
from applications.cases.tasks import flag_overdue_cases
from applications.models import CaseEvent
from tests.rules.conftest import agency, draft, submitted, user
from tests.world import clock_at, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]

D = datetime.date


@pytest.fixture
def staff_emails():
    """Some staff have an e-mail address; reviewer.hangzhou has none."""
    for username in ("clerk.hangzhou", "clerk.jiujiang", "reviewer.jiujiang"):
        who = user(username)
        who.email = f"{username}@agency.example"
        who.save(update_fields=["email"])
    assert user("reviewer.hangzhou").email == ""


@pytest.fixture
def late_case():
    """Submitted on Friday 26 September 2025: the contact letter was due on Thursday 23 October."""
    with clock_at(D(2025, 9, 26)):
        case = submitted(draft())
    assert case.due_date == D(2025, 10, 23)
    return case


def flags(case):
    return CaseEvent.objects.filter(application=case, action="flagged_overdue")


def sweep(on, capture):
    with clock_at(on), capture(execute=True):
        return flag_overdue_cases()


def test_a_case_is_not_overdue_on_its_due_date(late_case, django_capture_on_commit_callbacks, mailoutbox):
    assert sweep(D(2025, 10, 23), django_capture_on_commit_callbacks) == 0
    assert not flags(late_case).exists()
    assert mailoutbox == []


def test_an_overdue_case_is_flagged_once_and_its_holders_are_emailed(
    late_case, staff_emails, django_capture_on_commit_callbacks, mailoutbox
):
    assert sweep(D(2025, 10, 24), django_capture_on_commit_callbacks) == 1
    (event,) = flags(late_case)
    assert event.actor is None
    assert event.note == "due 2025-10-23"
    assert (event.from_state, event.to_state) == ("submitted", "submitted")
    # The case waits for the transfer-in agency (Hangzhou): its clerk has an e-mail, its reviewer none;
    # Jiujiang's staff are not holding the case.
    assert [m.to for m in mailoutbox] == [["clerk.hangzhou@agency.example"]]
    (mail,) = mailoutbox
    assert late_case.reference in mail.subject
    assert "2025-10-23" in mail.body
    assert agency("YL330100").name in mail.body

    # The next day's sweep, and the one after, do not flag or mail again.
    assert sweep(D(2025, 10, 25), django_capture_on_commit_callbacks) == 0
    assert sweep(D(2025, 10, 27), django_capture_on_commit_callbacks) == 0
    assert flags(late_case).count() == 1
    assert len(mailoutbox) == 1


def test_a_new_due_date_that_passes_is_flagged_again(
    late_case, staff_emails, django_capture_on_commit_callbacks, mailoutbox
):
    sweep(D(2025, 10, 24), django_capture_on_commit_callbacks)
    # The contact letter goes out late; now the transfer-out side (Jiujiang) holds the case.
    with clock_at(D(2025, 10, 27)):
        case = services.advance(late_case, "send_contact_letter", user("clerk.hangzhou"))
    assert case.due_date == D(2025, 11, 17)
    assert sweep(D(2025, 11, 17), django_capture_on_commit_callbacks) == 0
    assert sweep(D(2025, 11, 18), django_capture_on_commit_callbacks) == 1
    assert [e.note for e in flags(case)] == ["due 2025-10-23", "due 2025-11-17"]
    assert sorted(m.to[0] for m in mailoutbox[1:]) == [
        "clerk.jiujiang@agency.example",
        "reviewer.jiujiang@agency.example",
    ]


def test_closed_and_draft_cases_are_never_flagged(django_capture_on_commit_callbacks, mailoutbox):
    waiting = draft()
    with clock_at(D(2025, 9, 26)):
        withdrawn = submitted(draft())
    services.advance(withdrawn, "withdraw", withdrawn.filed_by)
    assert sweep(D(2026, 1, 5), django_capture_on_commit_callbacks) == 0
    assert not CaseEvent.objects.filter(
        application__in=[waiting, withdrawn], action="flagged_overdue"
    ).exists()


def queue_rows(client, username, code):
    login(client, username)
    page = client.get(f"/agency/{agency(code).pk}/queue/").content.decode()
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row for row in re.split(r"<tr>", body) if "/cases/" in row]


def test_the_queue_lists_the_overdue_case_first_with_a_badge(client):
    today = timezone.localdate()
    on_time = submitted(draft())  # submitted today, due in 15 working days
    with clock_at(today - datetime.timedelta(days=40)):
        overdue = submitted(draft())  # submitted 40 days ago: the contact letter is overdue
    assert overdue.due_date < today < on_time.due_date

    rows = queue_rows(client, "clerk.hangzhou", "YL330100")
    assert len(rows) == 2
    first, second = rows
    assert overdue.reference in first and "text-bg-danger" in first
    assert on_time.reference in second and "text-bg-danger" not in second
    assert f"{overdue.due_date:%Y-%m-%d}" in first
