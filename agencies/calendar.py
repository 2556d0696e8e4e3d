"""Official working days (工作日): the `holidays` package's CN calendar, which knows the make-up
workdays (调休) of the State Council's yearly notice, corrected by the admin-editable CalendarDay
table for years the package does not know yet."""

import datetime
from functools import lru_cache

import holidays
from holidays.countries.china import ChinaStaticHolidays


@lru_cache(maxsize=1)
def _calendar():
    return holidays.country_holidays("CN")


def has_official_schedule(year: int) -> bool:
    """Whether the package carries the State Council's holiday and make-up schedule for `year` (published
    each November or December); without it only the statutory holidays are known."""
    return year in ChinaStaticHolidays.special_public_holidays


def corrections(start: datetime.date, end: datetime.date) -> dict[datetime.date, bool]:
    from agencies.models import CalendarDay

    days = CalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "kind")
    return {day: kind == CalendarDay.Kind.WORKDAY for day, kind in days}


def is_working_day(day: datetime.date, corrected=None) -> bool:
    corrected = corrections(day, day) if corrected is None else corrected
    if day in corrected:
        return corrected[day]
    return _calendar().is_working_day(day)


def add_working_days(event_day: datetime.date, working_days: int) -> datetime.date:
    """The due date of a step: counting starts on the working day after the triggering event, so the
    deadline is the n-th working day after the event's date."""
    # Every span of n working days fits in 3n + 30 calendar days, even across Spring Festival.
    corrected = corrections(event_day, event_day + datetime.timedelta(days=3 * working_days + 30))
    day, counted = event_day, 0
    while counted < working_days:
        day += datetime.timedelta(days=1)
        if is_working_day(day, corrected):
            counted += 1
    return day
