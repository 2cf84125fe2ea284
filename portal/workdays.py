"""Working days of the Chinese calendar, for SLA deadlines.

The State Council publishes each year's holidays and the weekend days worked in lieu (调休);
the ``chinese-calendar`` package carries them for the years it knows.  For a year it does not
know yet (it is updated once the next year's schedule is published, usually in November), we
fall back to Monday–Friday minus the statutory holidays fixed in the solar calendar (New
Year's Day, Labour Day, the first three days of National Day): a deadline may then be a day
early around the lunar holidays, never late on a weekend.
"""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar

# Statutory holidays on fixed solar dates (month, day), used only for unknown years.
_FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}


def is_workday(day: date) -> bool:
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:  # a year the package does not know
        return day.weekday() < 5 and (day.month, day.day) not in _FIXED_HOLIDAYS


def add_workdays(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    while days:
        day += timedelta(days=1)
        if is_workday(day):
            days -= 1
    return day

