"""The report's period: a month, a quarter or a year, named as ``2026-11``, ``2026-Q4`` or ``2026``."""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.utils.translation import gettext_lazy as _

MONTH, QUARTER, YEAR = "month", "quarter", "year"
_PATTERNS = {
    MONTH: re.compile(r"^(\d{4})-(\d{2})$"),
    QUARTER: re.compile(r"^(\d{4})-Q([1-4])$"),
    YEAR: re.compile(r"^(\d{4})$"),
}
MIN_YEAR, MAX_YEAR = 2000, 2100
MONTH_NAMES = [
    _("January"),
    _("February"),
    _("March"),
    _("April"),
    _("May"),
    _("June"),
    _("July"),
    _("August"),
    _("September"),
    _("October"),
    _("November"),
    _("December"),
]


class BadPeriod(ValueError):
    """The period parameter names no month, quarter or year."""


@dataclass(frozen=True)
class Period:
    kind: str
    start: datetime.date  # first day
    end: datetime.date  # last day (inclusive)

    @property
    def key(self) -> str:
        if self.kind == MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return f"{MONTH_NAMES[self.start.month - 1]} {self.start.year}"
        if self.kind == QUARTER:
            return _("quarter %(number)s %(year)s") % {
                "number": (self.start.month - 1) // 3 + 1,
                "year": self.start.year,
            }
        return str(self.start.year)

    @property
    def after_end(self) -> datetime.date:
        return self.end + datetime.timedelta(days=1)

    def quarter(self) -> Period:
        """The quarter the period ends in (practices that referred nobody are listed for it)."""
        return quarter_of(self.end)

    def trend_months(self, count: int = 12) -> list[datetime.date]:
        """The first days of the ``count`` months ending with the period's last month."""
        last = self.end.replace(day=1)
        return [last - relativedelta(months=count - 1 - i) for i in range(count)]


def month_of(day: datetime.date) -> Period:
    start = day.replace(day=1)
    return Period(MONTH, start, start + relativedelta(months=1, days=-1))


def quarter_of(day: datetime.date) -> Period:
    start = datetime.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return Period(QUARTER, start, start + relativedelta(months=3, days=-1))


def year_of(day: datetime.date) -> Period:
    return Period(YEAR, datetime.date(day.year, 1, 1), datetime.date(day.year, 12, 31))


def parse_period(value: str) -> Period:
    value = (value or "").strip()
    for kind, pattern in _PATTERNS.items():
        match = pattern.match(value)
        if not match:
            continue
        year = int(match.group(1))
        if not MIN_YEAR <= year <= MAX_YEAR:
            break
        if kind == MONTH:
            month = int(match.group(2))
            if not 1 <= month <= 12:
                break
            return month_of(datetime.date(year, month, 1))
        if kind == QUARTER:
            return quarter_of(datetime.date(year, 3 * (int(match.group(2)) - 1) + 1, 1))
        return year_of(datetime.date(year, 1, 1))
    raise BadPeriod(value)


def choices(today: datetime.date) -> list[tuple[str, list[tuple[str, str]]]]:
    """The periods offered in the page's menu: the last 24 months, 8 quarters and 4 years."""
    months = [month_of(today - relativedelta(months=i)) for i in range(24)]
    quarters = [quarter_of(today - relativedelta(months=3 * i)) for i in range(8)]
    years = [year_of(today - relativedelta(years=i)) for i in range(4)]
    return [
        (str(_("Quarter")), [(p.key, p.label) for p in quarters]),
        (str(_("Month")), [(p.key, p.label) for p in months]),
        (str(_("Year")), [(p.key, p.label) for p in years]),
    ]
