"""Official working days (工作日) from the `holidays` package's CN calendar, which knows the
make-up workdays (调休) of the State Council's yearly notice."""

import datetime
from functools import lru_cache

import holidays


@lru_cache(maxsize=1)
def _calendar():
    return holidays.country_holidays("CN")


def is_working_day(day: datetime.date) -> bool:
    return _calendar().is_working_day(day)


def add_working_days(event_day: datetime.date, working_days: int) -> datetime.date:
    """The due date of a step: counting starts on the working day after the triggering event, so the
    deadline is the n-th working day after the event's date."""
    return _calendar().get_nth_working_day(event_day, working_days)
