"""Age in full years (周岁) on a given day."""

import datetime


def birthday_in(year: int, birth: datetime.date) -> datetime.date:
    """The birthday in `year`. A 29 February birthday falls on 28 February in common years: a period
    counted in years ends on the corresponding day, or on the month's last day when there is none
    (《民法典》第二百零二条)."""
    if birth.month == 2 and birth.day == 29:
        try:
            return datetime.date(year, 2, 29)
        except ValueError:
            return datetime.date(year, 2, 28)
    return birth.replace(year=year)


def age_on(birth: datetime.date, day: datetime.date) -> int:
    """Full years on `day`; a person reaches an age on the birthday itself."""
    years = day.year - birth.year
    return years if day >= birthday_in(day.year, birth) else years - 1
