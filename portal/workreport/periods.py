"""The work report's periods: a half-year (1–6 / 7–12), a year, or custom days.

Built on :class:`portal.reporting.Period` (the module reports take it): a report period
knows its previous period (环比: the half-year, year or span of the same length just before)
and the same period a year before (同比).  Bad input is refused beside its field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import gettext as _

from ..errors import Problems, ServiceError
from ..i18n import local_date
from ..reporting import FIRST_YEAR, LAST_YEAR, Period, half_year, today

HALF, YEAR, CUSTOM = "half", "year", "custom"
MAX_YEARS = 5
_HALF = re.compile(r"^(\d{4})-[Hh]([12])$")
_YEAR = re.compile(r"^(\d{4})$")


def _year_back(day: date, years: int = 1) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass(frozen=True)
class ReportPeriod:
    kind: str
    first: date
    end: date  # the day after the last day

    @property
    def key(self) -> str:
        if self.kind == HALF:
            return f"{self.first.year}-H{1 if self.first.month == 1 else 2}"
        if self.kind == YEAR:
            return str(self.first.year)
        return f"{self.first.isoformat()}..{(self.end - timedelta(days=1)).isoformat()}"

    @property
    def half(self) -> int | None:
        return (1 if self.first.month == 1 else 2) if self.kind == HALF else None

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def period(self) -> Period:
        """What the modules' report functions take."""
        return Period(self.first, self.end, half=self.half)

    @property
    def label(self) -> str:
        if self.kind == HALF:
            return self.period.label
        if self.kind == YEAR:
            return _("Year %(year)d", year=self.first.year)
        return _("%(first)s to %(last)s", first=local_date(self.first),
                 last=local_date(self.last))

    @property
    def short_label(self) -> str:
        """How the generated sentences name the period: 上半年, 下半年, 全年, 本期."""
        if self.kind == HALF:
            return _("In the first half-year") if self.half == 1 else \
                _("In the second half-year")
        if self.kind == YEAR:
            return _("In the year")
        return _("In the period")

    def url_args(self) -> dict:
        if self.kind == CUSTOM:
            return {"start": self.first.isoformat(), "end": self.last.isoformat()}
        return {"period": self.key}

    def module_period_key(self) -> str | None:
        """The ``?period=`` the module report pages understand (a half-year), if any."""
        return self.key if self.kind == HALF else None

    def previous(self) -> ReportPeriod:
        if self.kind == HALF:
            earlier = self.period.previous()
            return ReportPeriod(HALF, earlier.first, earlier.end)
        if self.kind == YEAR:
            return year(self.first.year - 1)
        return ReportPeriod(CUSTOM, self.first - (self.end - self.first), self.first)

    def year_before(self) -> ReportPeriod:
        return ReportPeriod(self.kind, _year_back(self.first), _year_back(self.end))

    def in_future(self, on: date) -> bool:
        return self.first > on

    def running(self, on: date) -> bool:
        return self.first <= on < self.last


def year(number: int) -> ReportPeriod:
    return ReportPeriod(YEAR, date(number, 1, 1), date(number + 1, 1, 1))


def half(number: int, which: int) -> ReportPeriod:
    found = half_year(number, which)
    return ReportPeriod(HALF, found.first, found.end)


def default_period() -> ReportPeriod:
    """The half-year just ended (the one being written up), or this one in its first days."""
    day = today()
    current = half(day.year, 1 if day.month <= 6 else 2)
    return current.previous()


def _date(text: str, field: str, problems: Problems) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        problems.add(_("Enter a date as YYYY-MM-DD."), field)
        return None


def parse(period: str = "", start: str = "", end: str = "") -> ReportPeriod:
    """The period asked for: ``period`` (``2026-H1`` or ``2026``) or custom ``start`` and
    ``end`` (inclusive days); nothing gives :func:`default_period`. Raises
    :class:`ServiceError` with the problems beside ``period``, ``start`` or ``end``."""
    problems = Problems()
    found = None
    period, start, end = (period or "").strip(), (start or "").strip(), (end or "").strip()
    if start or end:
        first = _date(start, "start", problems) if start else None
        last = _date(end, "end", problems) if end else None
        if not start:
            problems.add(_("Enter the first day."), "start")
        if not end:
            problems.add(_("Enter the last day."), "end")
        if first and last:
            if last < first:
                problems.add(_("The last day is before the first day."), "end")
            elif _year_back(last + timedelta(days=1), MAX_YEARS) > first:
                problems.add(_("A custom period can be at most %(years)d years long.",
                               years=MAX_YEARS), "end")
            else:
                found = ReportPeriod(CUSTOM, first, last + timedelta(days=1))
    elif period:
        if (match := _HALF.match(period)) and FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
            found = half(int(match[1]), int(match[2]))
        elif (match := _YEAR.match(period)) and FIRST_YEAR <= int(match[1]) <= LAST_YEAR:
            found = year(int(match[1]))
        else:
            problems.add(_("Choose a half-year (such as 2026-H1) or a year (such as 2026)."),
                         "period")
    else:
        found = default_period()
    if found is not None and found.in_future(today()):
        problems.add(_("This period has not started yet."),
                     "start" if found.kind == CUSTOM else "period")
    problems.raise_any()
    return found


def choices() -> list[ReportPeriod]:
    """The picker's options: this year's and the three previous years' halves and years."""
    this_year = today().year
    options = []
    for number in range(this_year, this_year - 4, -1):
        for option in (half(number, 2), half(number, 1), year(number)):
            if not option.in_future(today()):
                options.append(option)
    return options


__all__ = ["CUSTOM", "HALF", "YEAR", "ReportPeriod", "ServiceError", "choices", "parse"]


def from_key(key: str) -> ReportPeriod:
    """The period a stored report names (``2026-H1``, ``2026`` or ``first..last``)."""
    if ".." in key:
        first, last = key.split("..", 1)
        return parse(start=first, end=last)
    return parse(period=key)
