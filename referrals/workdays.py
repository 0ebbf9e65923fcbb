"""Working days in the Netherlands: weekends and Dutch public holidays (from the holidays package)."""

import datetime
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _dutch_holidays(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.NL(years=year))


def is_working_day(day: datetime.date) -> bool:
    return day.weekday() < 5 and day not in _dutch_holidays(day.year)


def add_working_days(start: datetime.date, days: int) -> datetime.date:
    """The date ``days`` working days after ``start`` (a referral in on Friday is due Tuesday)."""
    current = start
    remaining = days
    while remaining > 0:
        current += datetime.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current
