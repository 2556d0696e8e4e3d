"""Due dates in official working days (工作日), counted from the working day after the event, with the
CN calendar's holidays and make-up workdays (调休)."""

import datetime

import pytest
from django.utils import timezone

from agencies.calendar import add_working_days, is_working_day
from agencies.models import CalendarDay, DeadlinePolicy, Region
from applications.cases import services
from applications.cases.states import Party
from applications.models import State
from tests.world import new_case, put_in_state

D = datetime.date


@pytest.mark.parametrize(
    ("event_day", "working_days", "due"),
    [
        # National Day 2025: 1-8 Oct off; Sun 28 Sep and Sat 11 Oct are make-up workdays.
        (D(2025, 9, 26), 15, D(2025, 10, 23)),
        (D(2025, 9, 26), 1, D(2025, 9, 28)),  # a make-up Sunday counts
        (D(2025, 9, 30), 1, D(2025, 10, 9)),
        (D(2025, 10, 10), 1, D(2025, 10, 11)),  # a make-up Saturday counts
        (D(2025, 10, 11), 1, D(2025, 10, 13)),
        # Spring Festival 2025: 28 Jan - 4 Feb off; Sun 26 Jan and Sat 8 Feb are workdays.
        (D(2025, 1, 24), 1, D(2025, 1, 26)),
        (D(2025, 1, 27), 1, D(2025, 2, 5)),
        (D(2025, 1, 27), 5, D(2025, 2, 10)),  # 5, 6, 7, Sat 8 and Mon 10 Feb
        (D(2025, 1, 23), 15, D(2025, 2, 19)),
        # An ordinary week: counting starts the day after, and a weekend does not count.
        (D(2025, 6, 9), 5, D(2025, 6, 16)),
        (D(2025, 6, 14), 1, D(2025, 6, 16)),  # an event on a Saturday: Monday is the first working day
        (D(2025, 6, 13), 0, D(2025, 6, 13)),
    ],
)
def test_add_working_days(db, event_day, working_days, due):
    assert add_working_days(event_day, working_days) == due


def test_the_calendar_knows_holidays_and_make_up_days(db):
    assert not is_working_day(D(2025, 10, 1))
    assert not is_working_day(D(2025, 1, 29))  # Spring Festival
    assert is_working_day(D(2025, 2, 8))  # make-up Saturday
    assert not is_working_day(D(2025, 2, 15))  # an ordinary Saturday
    assert is_working_day(D(2025, 2, 17))


def test_admin_corrections_override_the_package(db):
    """For a year the package does not have yet, the admin enters the State Council's notice."""
    start = D(2030, 3, 4)  # a Monday
    assert add_working_days(start, 1) == D(2030, 3, 5)
    CalendarDay.objects.create(date=D(2030, 3, 5), kind=CalendarDay.Kind.HOLIDAY)
    CalendarDay.objects.create(date=D(2030, 3, 9), kind=CalendarDay.Kind.WORKDAY)  # a Saturday
    assert add_working_days(start, 1) == D(2030, 3, 6)
    assert add_working_days(start, 4) == D(2030, 3, 9)


def today_plus(working_days):
    return add_working_days(timezone.localdate(), working_days)


@pytest.mark.parametrize(
    ("scheme", "contact_letter", "transfer_out", "continuation"),
    [("pension", 15, 15, 15), ("medical", 5, 10, 5)],
)
def test_each_open_step_gets_its_deadline(world, scheme, contact_letter, transfer_out, continuation):
    """Pension: 15 working days per step (45 in all); medical (2021): transfer-out 10, transfer-in 5."""
    case = new_case(world, scheme)
    assert case.due_date is None  # a draft has no deadline
    services.advance(case, "submit", world.applicant)
    case.refresh_from_db()
    assert case.due_date == today_plus(contact_letter)

    services.advance(case, "send_contact_letter", world.user_of(Party.IN_CLERK, scheme))
    case.refresh_from_db()
    assert case.due_date == today_plus(transfer_out)

    case = put_in_state(case, State.FUNDS_TRANSFERRED, world)
    services.advance(case, "send_information_form", world.user_of(Party.OUT_CLERK, scheme))
    case.refresh_from_db()
    assert case.due_date == today_plus(continuation)

    case = put_in_state(case, State.FUNDS_MATCHED, world)
    services.advance(case, "complete", world.user_of(Party.IN_CLERK, scheme))
    case.refresh_from_db()
    assert case.due_date is None


def test_a_province_policy_shortens_its_own_steps(world):
    """Zhejiang promises 10 working days for its contact letter; Jiangxi (transfer-out) keeps 15."""
    DeadlinePolicy.objects.create(
        scheme="pension",
        province=Region.objects.get(code="330000"),
        contact_letter_days=10,
        transfer_out_days=3,
        continuation_days=7,
    )
    case = new_case(world)
    services.advance(case, "submit", world.applicant)
    case.refresh_from_db()
    assert case.due_date == today_plus(10)
    services.advance(case, "send_contact_letter", world.in_clerk)
    case.refresh_from_db()
    assert case.due_date == today_plus(15)  # the transfer-out agency is in Jiangxi: national rule


def test_a_national_policy_applies_where_a_province_has_none(world):
    DeadlinePolicy.objects.create(
        scheme="pension", province=None, contact_letter_days=12, transfer_out_days=12, continuation_days=12
    )
    case = new_case(world)
    services.advance(case, "submit", world.applicant)
    case.refresh_from_db()
    assert case.due_date == today_plus(12)
