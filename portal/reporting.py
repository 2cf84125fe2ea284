"""Reporting periods shared by every module's reports: a calendar month or a half-year.

The bureau reports by half-year (the seed is a half-year work summary); pages take
``?period=2026-07`` or ``?period=2026-H2`` (or the month field) and show the current month when
nothing, or nothing valid, is asked for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from babel.dates import format_skeleton
from flask import request
from flask_babel import get_locale
from flask_babel import gettext as _

from .extensions import db
from .i18n import local_today, local_zone

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_HALF = re.compile(r"^(\d{4})-[Hh]([12])$")
FIRST_YEAR, LAST_YEAR = 2000, 2100


# --- periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A calendar month or half-year, in local (Asia/Shanghai) days: [first, end)."""

    first: date
    end: date  # the day after the last day
    half: int | None = None  # 1 or 2 for a half-year

    @property
    def key(self) -> str:
        """What ``?period=`` takes: ``2026-07`` or ``2026-H2``."""
        if self.half:
            return f"{self.first.year}-H{self.half}"
        return self.first.strftime("%Y-%m")

    @property
    def days(self) -> int:
        return (self.end - self.first).days

    @property
    def label(self) -> str:
        if self.half == 1:
            return _("First half of %(year)d", year=self.first.year)
        if self.half == 2:
            return _("Second half of %(year)d", year=self.first.year)
        return format_skeleton("yMMMM", self.first, locale=get_locale())

    def starts_at(self) -> datetime:
        return datetime.combine(self.first, time.min, tzinfo=local_zone())

    def ends_at(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=local_zone())

    def previous(self) -> Period | None:
        if self.half:
            year, half = (self.first.year, 1) if self.half == 2 else (self.first.year - 1, 2)
            return half_year(year, half)
        day = self.first - timedelta(days=1)
        return month(day.year, day.month)

    def following(self) -> Period | None:
        if self.half:
            year, half = (self.first.year, 2) if self.half == 1 else (self.first.year + 1, 1)
            return half_year(year, half)
        return month(self.end.year, self.end.month)


def month(year: int, number: int) -> Period | None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    first = date(year, number, 1)
    end = date(year + 1, 1, 1) if number == 12 else date(year, number + 1, 1)
    return Period(first, end)


def half_year(year: int, half: int) -> Period | None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        return None
    if half == 1:
        return Period(date(year, 1, 1), date(year, 7, 1), half=1)
    return Period(date(year, 7, 1), date(year + 1, 1, 1), half=2)


def months_of(start: date, end: date) -> list[Period]:
    """The calendar months of the local days ``[start, end)``, in order, each a
    :class:`Period` clipped to the span (a span of whole months gives whole months).

    The one helper for per-month rows and columns of every module's reports."""
    months, first = [], date(start.year, start.month, 1)
    while first < end:
        following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        if max(first, start) < min(following, end):  # an empty span has no months
            months.append(Period(max(first, start), min(following, end)))
        first = following
    return months


def parse_period(text: str) -> Period | None:
    """``2026-07`` (a month) or ``2026-H2`` (a half-year); None for anything else."""
    text = (text or "").strip()
    if match := _MONTH.match(text):
        return month(int(match[1]), int(match[2]))
    if match := _HALF.match(text):
        return half_year(int(match[1]), int(match[2]))
    return None


def today() -> date:
    return local_today()


def current_month() -> Period:
    day = today()
    return month(day.year, day.month)


def period_from_request() -> tuple[Period, str | None]:
    """The period asked for (``?period=`` or the month field), else this month and an error."""
    text = request.args.get("period") or request.args.get("month") or ""
    if not text.strip():
        return current_month(), None
    period = parse_period(text)
    if period is None:
        return current_month(), _("Enter a month as YYYY-MM (for example %(example)s).",
                                  example=current_month().key)
    return period, None


def half_year_choices(shown: Period) -> list[Period]:
    """This year's and the two previous years' halves, and the one shown, newest first."""
    year = today().year
    options = [half_year(y, h) for y in range(year, year - 3, -1) for h in (2, 1)]
    if shown.half and shown not in options:
        options.append(shown)
    return sorted(options, key=lambda option: option.first, reverse=True)


def spans_table(bounds: list[tuple], column_type, name: str = "periods"):
    """SQL (a CTE): spans as rows (``idx``, ``starts``, ``ends``), their index in ``bounds``
    and their bounds bound as ``column_type`` (the compared column's type), a UNION ALL of
    literals (both engines; SQLite names no columns of a VALUES list). A report of several
    periods joins it to count each period's rows in one pass."""
    return sa.union_all(*(sa.select(sa.literal(idx).label("idx"),
                                    sa.literal(start, column_type).label("starts"),
                                    sa.literal(end, column_type).label("ends"))
                          for idx, (start, end) in enumerate(bounds))).cte(name)


def count_when(condition):
    """SQL: how many rows meet ``condition`` (0 for none): the reports' conditional count."""
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


# --- time arithmetic in SQL, on either engine ------------------------------------------------


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def seconds_between(later, earlier):
    """SQL: whole seconds from ``earlier`` to ``later`` (timestamps; negative if before)."""
    if _dialect() == "postgresql":
        # date_part: a double, twice as fast as EXTRACT's numeric (exact for whole seconds)
        return sa.cast(sa.func.round(sa.func.date_part("epoch", later - earlier)),
                       sa.BigInteger)
    return sa.cast(sa.func.round((sa.func.julianday(later) - sa.func.julianday(earlier))
                                 * 86400), sa.Integer)


def local_day(moment, at: datetime):
    """SQL: the bureau's (local) calendar day of the timestamp ``moment``. SQLite has no zone
    database: there the zone's UTC offset at ``at`` is applied (Asia/Shanghai keeps one offset
    all year)."""
    if _dialect() == "postgresql":
        return sa.func.date(sa.func.timezone(str(local_zone()), moment))
    offset_hours = int(at.astimezone(local_zone()).utcoffset().total_seconds() // 3600)
    return sa.func.date(moment, f"{offset_hours:+d} hours")


def hours_between(later, earlier):
    """SQL: calendar hours from ``earlier`` to ``later`` (a fraction)."""
    if _dialect() == "postgresql":
        return sa.extract("epoch", later - earlier) / 3600.0
    return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 24.0


def latest(*values):
    """SQL: the greatest of the values (GREATEST on PostgreSQL, the scalar MAX on SQLite)."""
    return (sa.func.greatest if _dialect() == "postgresql" else sa.func.max)(*values)


def earliest(*values):
    """SQL: the least of the values (LEAST on PostgreSQL, the scalar MIN on SQLite)."""
    return (sa.func.least if _dialect() == "postgresql" else sa.func.min)(*values)
