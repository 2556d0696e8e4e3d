"""Deadlines in official working days: the national defaults per scheme, a province's own (shorter)
promise, the official calendar with its make-up workdays, the admin's corrections for years the package
does not know, and the admin's warning when next year's schedule is missing."""

import datetime
import types
from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone

from agencies import admin as agencies_admin
from agencies.calendar import add_working_days, has_official_schedule, is_working_day
from agencies.models import AgencyStaff, CalendarDay, DeadlinePolicy
from applications.cases import services
from applications.cases.deadlines import working_days_for
from applications.rules.deadlines import CONTACT_LETTER, CONTINUATION, TRANSFER_OUT
from tests.factories import AgencyStaffFactory
from tests.rules.conftest import agency, draft, submitted, user
from tests.world import clock_at, login

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo_world")]

D = datetime.date


def test_national_day_2025_fifteen_working_days_from_friday_26_september():
    # 1–8 October are off; Sunday 28 September and Saturday 11 October are make-up workdays.
    assert is_working_day(D(2025, 9, 28)) and is_working_day(D(2025, 10, 11))
    assert not any(is_working_day(D(2025, 10, day)) for day in range(1, 9))
    due = add_working_days(D(2025, 9, 26), 15)
    assert due == D(2025, 10, 23)
    assert due.strftime("%A") == "Thursday"


def test_a_pension_case_submitted_on_friday_26_september_2025_is_due_on_thursday_23_october():
    with clock_at(D(2025, 9, 26), hour=16):
        case = submitted(draft())
    case.refresh_from_db()
    assert case.state == "submitted"
    assert timezone.localtime(case.submitted_at).date() == D(2025, 9, 26)
    assert case.due_date == D(2025, 10, 23)


def test_a_submission_late_in_the_evening_counts_from_the_day_in_china():
    # 23:30 on Friday in Beijing is 15:30 UTC the same day; 07:30 on Monday is still Sunday in UTC.
    with clock_at(D(2025, 9, 26), hour=23, minute=30):
        late = submitted(draft())
    with clock_at(D(2025, 9, 29), hour=7, minute=30):
        early = submitted(draft())
    assert late.due_date == D(2025, 10, 23)
    # Counted from Monday 29 September (from Sunday the 28th, a make-up workday, it would be the 24th).
    assert early.due_date == D(2025, 10, 27)


def medical_staff():
    AgencyStaffFactory(agency=agency("YB330100"), role=AgencyStaff.Role.CLERK, user__username="clerk.yb.hz")
    AgencyStaffFactory(agency=agency("YB360400"), role=AgencyStaff.Role.CLERK, user__username="clerk.yb.jj")
    AgencyStaffFactory(
        agency=agency("YB360400"), role=AgencyStaff.Role.REVIEWER, user__username="reviewer.yb.jj"
    )


def test_medical_deadlines_are_5_then_10_then_5_working_days():
    medical_staff()
    case = draft(out_code="YB360400", in_code="YB330100", scheme="medical")
    assert [working_days_for(case, w) for w in (CONTACT_LETTER, TRANSFER_OUT, CONTINUATION)] == [5, 10, 5]
    with clock_at(D(2026, 3, 2)):  # Monday
        case = submitted(case)
    assert case.due_date == D(2026, 3, 9)  # transfer-in: 5 working days for the contact letter
    with clock_at(D(2026, 3, 9)):
        case = services.advance(case, "send_contact_letter", user("clerk.yb.hz"))
    assert case.due_date == D(2026, 3, 23)  # transfer-out: 10 working days
    with clock_at(D(2026, 3, 10)):
        case = services.advance(
            case, "enter_amounts", user("clerk.yb.jj"), personal_account_amount=Decimal("812.40")
        )
    with clock_at(D(2026, 3, 11)):
        case = services.advance(case, "approve_amounts", user("reviewer.yb.jj"))
    assert case.due_date == D(2026, 3, 23)  # the same window is still open
    with clock_at(D(2026, 3, 12)):  # Thursday
        case = services.advance(case, "send_information_form", user("clerk.yb.jj"))
    assert case.due_date == D(2026, 3, 19)  # transfer-in: 5 working days for the continuation


def test_pension_defaults_are_15_working_days_per_step():
    case = draft()
    assert [working_days_for(case, w) for w in (CONTACT_LETTER, TRANSFER_OUT, CONTINUATION)] == [15, 15, 15]


def test_a_province_policy_shortens_the_deadlines_of_its_own_agencies_only():
    DeadlinePolicy.objects.create(
        scheme="pension",
        province_id="330000",
        contact_letter_days=10,
        transfer_out_days=8,
        continuation_days=10,
    )
    # Zhejiang's medical promise does not touch pension cases.
    DeadlinePolicy.objects.create(
        scheme="medical",
        province_id="330000",
        contact_letter_days=3,
        transfer_out_days=3,
        continuation_days=3,
    )
    with clock_at(D(2026, 3, 2)):
        to_hangzhou = submitted(draft(in_code="YL330100"))
        to_wuhan = submitted(draft(in_code="YL420100"))
    assert to_hangzhou.due_date == D(2026, 3, 16)  # 10 working days
    assert to_wuhan.due_date == D(2026, 3, 23)  # 15 working days
    # The transfer-out step of the Hangzhou case is Jiujiang's (Jiangxi): the national 15.
    assert working_days_for(to_hangzhou, TRANSFER_OUT) == 15
    assert working_days_for(to_hangzhou, CONTINUATION) == 10
    # A case leaving Hangzhou: its transfer-out step is Zhejiang's.
    from_hangzhou = draft(out_code="YL330100", in_code="YL360400")
    assert working_days_for(from_hangzhou, CONTACT_LETTER) == 15
    assert working_days_for(from_hangzhou, TRANSFER_OUT) == 8


def test_a_national_policy_applies_where_no_province_has_its_own():
    DeadlinePolicy.objects.create(
        scheme="pension", province_id=None, contact_letter_days=12, transfer_out_days=12, continuation_days=12
    )
    DeadlinePolicy.objects.create(
        scheme="pension",
        province_id="330000",
        contact_letter_days=10,
        transfer_out_days=10,
        continuation_days=10,
    )
    assert working_days_for(draft(in_code="YL420100"), CONTACT_LETTER) == 12
    assert working_days_for(draft(in_code="YL330100"), CONTACT_LETTER) == 10
    assert working_days_for(draft(in_code="YL330100"), TRANSFER_OUT) == 12  # Jiangxi: the national policy


def test_the_official_schedule_is_known_for_2026_and_not_for_2031():
    assert has_official_schedule(2026)
    assert not has_official_schedule(2031)
    # Without the schedule the statutory holidays are still known.
    assert not is_working_day(D(2031, 10, 1))
    assert is_working_day(D(2031, 10, 8))  # a Wednesday with no make-up schedule


def test_an_extra_holiday_in_2027_shifts_a_due_date_by_one_working_day():
    monday = D(2027, 3, 1)
    with clock_at(monday):
        before = submitted(draft())
    assert before.due_date == D(2027, 3, 22)
    CalendarDay.objects.create(date=D(2027, 3, 3), kind=CalendarDay.Kind.HOLIDAY, note="test")
    with clock_at(monday):
        after = submitted(draft())
    assert after.due_date == D(2027, 3, 23)
    assert not is_working_day(D(2027, 3, 3))


def test_a_make_up_saturday_in_2027_counts_as_a_working_day():
    monday = D(2027, 3, 1)
    assert add_working_days(monday, 5) == D(2027, 3, 8)
    CalendarDay.objects.create(date=D(2027, 3, 6), kind=CalendarDay.Kind.WORKDAY, note="调休")
    assert is_working_day(D(2027, 3, 6))
    assert add_working_days(monday, 5) == D(2027, 3, 6)
    # A day off in the same week and the make-up Saturday cancel out.
    CalendarDay.objects.create(date=D(2027, 3, 3), kind=CalendarDay.Kind.HOLIDAY, note="test")
    assert add_working_days(monday, 5) == D(2027, 3, 8)


def test_a_correction_overrides_the_official_calendar_too():
    # An admin may also correct a year the package knows: Monday 16 November 2026 made a day off.
    assert add_working_days(D(2026, 11, 13), 1) == D(2026, 11, 16)
    CalendarDay.objects.create(date=D(2026, 11, 16), kind=CalendarDay.Kind.HOLIDAY)
    assert not is_working_day(D(2026, 11, 16))
    assert add_working_days(D(2026, 11, 13), 1) == D(2026, 11, 17)


def admin_page(client, today):
    """The calendar corrections changelist as the superuser, on `today`, in English."""
    fake = types.SimpleNamespace(localdate=lambda: today)
    client.cookies["django_language"] = "en"
    with mock.patch.object(agencies_admin, "timezone", fake):
        response = login(client, "admin").get("/admin/agencies/calendarday/")
    assert response.status_code == 200
    return response


def warnings_of(response):
    return [str(m) for m in response.context["messages"] if m.level_tag == "warning"]


def test_the_admin_warns_when_next_year_has_no_schedule_and_no_corrections(client):
    response = admin_page(client, D(2030, 6, 1))
    (warning,) = warnings_of(response)
    assert "The official holiday schedule for 2031 is not known yet" in warning
    assert "2031" in response.content.decode()


def test_the_admin_does_not_warn_once_next_year_has_corrections(client):
    CalendarDay.objects.create(date=D(2031, 1, 2), kind=CalendarDay.Kind.HOLIDAY)
    assert warnings_of(admin_page(client, D(2030, 6, 1))) == []


def test_the_admin_does_not_warn_when_next_year_has_an_official_schedule(client):
    assert warnings_of(admin_page(client, D(2025, 6, 1))) == []
