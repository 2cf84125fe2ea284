"""The rent schedule: a pure computation from a lease's terms to its billing periods.

* Periods follow the calendar: months, quarters, half-years or years; the first and the last
  period are partial and prorated by day.
* Rent accrues per day: the month's rent divided by that month's days, so a partial month
  costs exactly its share.  Days of the rent-free fit-out period cost nothing.
* The yearly increase applies from each anniversary of the start date, compounding.
* Rent is paid in advance: each period is due on its first day.
* Amounts are rounded so that the running total is rounded, never each line on its own: the
  lines always add up to :func:`lease_total` exactly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction


@dataclass(frozen=True)
class Terms:
    start: date
    end: date  # the last day
    monthly_rent_fen: int
    cycle_months: int = 1  # 1, 3, 6 or 12
    rent_free_until: date | None = None  # inclusive
    yearly_increase_pct: Decimal = Decimal(0)


@dataclass(frozen=True)
class Line:
    starts_on: date
    ends_on: date  # inclusive
    due_on: date
    amount_fen: int


def _anniversaries_passed(start: date, day: date) -> int:
    years = day.year - start.year
    try:
        anniversary = start.replace(year=day.year)
    except ValueError:  # 29 February in a common year: the anniversary is 1 March
        anniversary = date(day.year, 3, 1)
    return years - (1 if day < anniversary else 0)


def _monthly_rent(terms: Terms, day: date) -> Fraction:
    rate = 1 + Fraction(terms.yearly_increase_pct) / 100
    return terms.monthly_rent_fen * rate ** max(0, _anniversaries_passed(terms.start, day))


def _accrued(terms: Terms, first: date, last: date) -> Fraction:
    """Exact rent for the days first..last (inclusive), fit-out days excluded."""
    if terms.rent_free_until is not None and terms.rent_free_until >= first:
        first = terms.rent_free_until + timedelta(days=1)
    total = Fraction(0)
    day = first
    while day <= last:
        month_days = calendar.monthrange(day.year, day.month)[1]
        month_end = date(day.year, day.month, month_days)
        chunk_end = min(month_end, last)
        # The rent of one month is the same for all its days unless an anniversary falls in
        # it; split the month at the anniversary.
        for piece_start, piece_end in _split_at_anniversary(terms.start, day, chunk_end):
            days = (piece_end - piece_start).days + 1
            total += _monthly_rent(terms, piece_start) * days / month_days
        day = chunk_end + timedelta(days=1)
    return total


def _split_at_anniversary(start: date, first: date, last: date):
    try:
        anniversary = start.replace(year=first.year)
    except ValueError:
        anniversary = date(first.year, 3, 1)
    if first < anniversary <= last:
        return [(first, anniversary - timedelta(days=1)), (anniversary, last)]
    return [(first, last)]


def _period_end(day: date, cycle_months: int) -> date:
    """The last day of the calendar period (month, quarter, half-year, year) holding ``day``."""
    month_index = (day.month - 1) // cycle_months * cycle_months + cycle_months  # 1-based end
    year = day.year
    last_month = month_index
    return date(year, last_month, calendar.monthrange(year, last_month)[1])


def periods(terms: Terms) -> list[tuple[date, date]]:
    result = []
    day = terms.start
    while day <= terms.end:
        last = min(_period_end(day, terms.cycle_months), terms.end)
        result.append((day, last))
        day = last + timedelta(days=1)
    return result


def lease_total(terms: Terms) -> int:
    """The whole lease's rent, rounded once."""
    return round(_accrued(terms, terms.start, terms.end))


def schedule(terms: Terms) -> list[Line]:
    if terms.end < terms.start:
        raise ValueError("a lease ends after it starts")
    if terms.cycle_months not in (1, 3, 6, 12):
        raise ValueError("unknown payment cycle")
    lines, running, billed = [], Fraction(0), 0
    for first, last in periods(terms):
        running += _accrued(terms, first, last)
        amount = round(running) - billed
        billed += amount
        lines.append(Line(first, last, first, amount))
    return lines
