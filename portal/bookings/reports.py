"""Reports for the bureau's monthly and half-year figures (issue 3, item 8).

Per venue and period (a month, or a half-year: H1 January-June, H2 July-December):

* **booked hours**: the event times (setup and cleanup buffers excluded) of approved and
  completed bookings, clipped to the period, against **open hours** (the venue's daily opening
  hours times the days of the period): the **utilisation**;
* **external income**: what outside clients pay for approved bookings (the price frozen at
  approval) and completed ones (the final bill);
* **meetings served**: the meetings that took place (:func:`was_served`): completed bookings,
  approved ones whose guests were checked in on the day, and, for the days before check-in
  existed (``BOOKING_CHECK_IN_SINCE``), approved ones that began (they were never marked a
  no-show, which is its own state); an approved booking not checked in is not served (yet:
  staff check it in, complete it or record the no-show), nor is one still to come.  Internal
  (booked by staff for a government department, ``client_id IS NULL``) and external; of them
  the **government sessions** (人代会, 政协会: the category staff set on the booking).  Booked
  hours and income still count every approved booking (what is booked and owed);
* **catering served** (on the page), by kind: the servings (meals, tea-break servings,
  banquet tables) and their amount at the prices ordered, counting each day of a served
  booking within the period once: an "every day" line on each of those days, a dated line
  on its day only.

A booking's income is shared out over its slots in proportion to their hours, and a slot's
share over the periods it falls in, so a two-venue or month-straddling booking is split rather
than counted twice: the venues add up to the total and the months to their half-year (to the
fen, give or take rounding). A meeting counts once for each venue (and period) it used; the
total counts it once.

A period's figures are summed per calendar month (:func:`_period_sums`): the months' *whole
slots* (the slots of one-slot bookings within one month: nearly all) in one query that reads
the months' served slots once and clips, shares and sums them in the database (per venue and
in total; integer arithmetic on both engines; a booking's seconds over all its slots are
stored on it, ``Booking.slot_seconds``), with the catering served (summed in the database,
priced by :mod:`.pricing`); a month that has ended is stored (:data:`VENUE_FIGURES`) and read
back while its bookings are unchanged. The few bookings not whole within one month (several
slots, a slot across a month's midnight) are counted for the period itself in one more query.
So the page and its export run a bounded number of queries whatever the data size (the
venues, the stored months' tokens and rows, the months not stored, those few bookings).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import aliased

from .. import stored_figures
from ..authz import staff_required
from ..core.nav import nav_item
from ..exports import Column, Kind, export_response, requested_format
from ..extensions import db
from ..htmx import render
from ..i18n import local_today, local_zone, number, percent
from ..periods import overlaps
from ..reporting import (
    Period,
    count_when,
    earliest,
    half_year_choices,
    latest,
    local_day,
    months_of,
    period_from_request,
    seconds_between,
    spans_table,
)
from . import bp
from .models import (
    Booking,
    BookingCatering,
    BookingStatus,
    Venue,
    VenueSlot,
    month_key,
)
from .pricing import CateringKind, CateringRequest, catering_charge

nav_item("bookings.reports", _l("Reports"), ("staff", "admin"), order=13)

SERVED = (BookingStatus.APPROVED, BookingStatus.COMPLETED)
GOVERNMENT_SESSION = "government_session"  # Booking.category
# --- figures ---------------------------------------------------------------------------------


def _hours(seconds: int) -> Decimal:
    return Decimal(seconds) / 3600


@dataclass
class VenueFigures:
    venue: Venue | None  # None for the totals row
    open_seconds: int = 0
    booked_seconds: int = 0
    internal_meetings: int = 0
    external_meetings: int = 0
    government_sessions: int = 0  # of them, government sessions (人代会…)
    income_fen: int = 0  # external income: the sum of the bookings' whole-fen shares

    @property
    def open_hours(self) -> Decimal:
        return _hours(self.open_seconds)

    @property
    def booked_hours(self) -> Decimal:
        return _hours(self.booked_seconds)

    @property
    def utilisation(self) -> Decimal | None:
        """Booked over open hours, a fraction (None when the venue was never open)."""
        if not self.open_seconds:
            return None
        return Decimal(self.booked_seconds) / Decimal(self.open_seconds)

    @property
    def has_activity(self) -> bool:
        return bool(self.booked_seconds or self.internal_meetings or self.external_meetings
                    or self.income_fen)


@dataclass
class CateringFigures:
    kind: str  # a CateringKind
    servings: int = 0  # meals, tea-break servings or banquet tables
    amount_fen: int = 0


@dataclass
class VenueReport:
    period: Period
    rows: list[VenueFigures]
    total: VenueFigures
    total_income_fen: int  # the sum of the rows' rounded incomes, so the column adds up
    catering: list[CateringFigures] = field(default_factory=list)  # one per kind


def _daily_open_seconds(venue: Venue) -> int:
    opens = datetime.combine(date.min, venue.opens_at)
    closes = datetime.combine(date.min, venue.closes_at)
    return max(int((closes - opens).total_seconds()), 0)


def _income_fen():
    """SQL: what an outside client pays for a served booking: the final bill once held, else
    the price frozen at approval (the live quote only for rows approved before it was
    frozen); an internal booking (a department's) is no income.

    The frozen price (JSON, in the wide row) is looked up only for the bookings that need it
    (approved, not yet billed: few in a report's past): everything else the reports read of
    a booking is in ix_booking_status_starts, so PostgreSQL reads that index alone."""
    frozen = aliased(Booking)
    price = (sa.select(sa.func.coalesce(frozen.approved_quote["total_fen"].as_integer(),
                                        frozen.quote_total_fen, 0))
             .where(frozen.id == Booking.id).scalar_subquery())
    return sa.case(
        (Booking.client_id.is_(None), 0),
        (sa.and_(Booking.status == BookingStatus.COMPLETED, Booking.final_total_fen.is_not(None)),
         Booking.final_total_fen),
        else_=price)


def check_in_since() -> datetime:
    """The instant check-in went live: before it, an approved booking that began was served."""
    day = date.fromisoformat(current_app.config["BOOKING_CHECK_IN_SINCE"])
    return datetime.combine(day, time.min, tzinfo=local_zone())


def was_served(status, arrived_at, starts_at, since: datetime):
    """SQL: did this booking's meeting take place (the reports' "meetings served")? Completed,
    or approved and checked in, or approved and begun before check-in existed."""
    return sa.or_(status == BookingStatus.COMPLETED,
                  sa.and_(status == BookingStatus.APPROVED,
                          sa.or_(arrived_at.is_not(None), starts_at < since)))


def _interval(moment, boundaries: list[datetime], inclusive: bool = False):
    """SQL: how many of the (sorted) ``boundaries`` lie before ``moment`` (at or before it;
    with ``inclusive``, strictly before it): a CASE, on both engines."""
    moment_type = VenueSlot.starts_at.type
    return sa.case(*(((moment <= sa.literal(bound, moment_type)) if inclusive
                      else (moment < sa.literal(bound, moment_type)), index)
                     for index, bound in enumerate(boundaries)), else_=len(boundaries))


def _served_slots(spans: list[tuple[datetime, datetime]], boundaries: list[datetime],
                  bookings: list[int] | None = None):
    """SQL (a CTE): the served bookings' slots that meet one of the ``spans`` (each
    ``[first, last)``), or, given ``bookings``, those of these bookings that meet them; with
    their booking's figures and the interval between ``boundaries`` each starts and ends in.
    A booking's seconds over all its slots (also those outside the spans) are stored on it
    (Booking.slot_seconds), so no pass over all of them. MATERIALIZED: the one read of the
    slots and bookings, for the figures' sums, the rest and the catering.

    The slots are found by the GiST index of their periods (``ix_venue_slot_span``, on
    PostgreSQL): a month's 10,000 slots, not every served booking that began before it."""
    held = was_served(Booking.status, Booking.arrived_at, Booking.starts_at,
                      sa.literal(check_in_since(), Booking.starts_at.type))
    slot_seconds = seconds_between(VenueSlot.ends_at, VenueSlot.starts_at)
    interval = _interval(VenueSlot.starts_at, boundaries)
    meets = sa.or_(*(overlaps(VenueSlot.starts_at, VenueSlot.ends_at, first, last, guarded=True)
                     for first, last in spans))
    if bookings is None:
        chosen = meets
    elif db.session.get_bind().dialect.name == "postgresql":
        # One array parameter however many bookings (a list of ids has one parameter each,
        # and the driver takes at most 65,535).
        chosen = sa.and_(VenueSlot.booking_id == sa.any_(sa.bindparam(
            "rest_bookings", bookings, type_=postgresql.ARRAY(sa.Integer))), meets)
    else:
        chosen = sa.and_(VenueSlot.booking_id.in_(bookings), meets)
    return (sa.select(VenueSlot.venue_id, VenueSlot.booking_id,
                      VenueSlot.starts_at, VenueSlot.ends_at,
                      Booking.slot_seconds.label("seconds"),
                      # The booking's only slot (slots last > 0 s): no other to count it twice.
                      (slot_seconds == Booking.slot_seconds).label("alone"),
                      # The intervals it starts and ends in (the same: it lies within one).
                      interval.label("interval"),
                      _interval(VenueSlot.ends_at, boundaries, inclusive=True).label("last"),
                      Booking.client_id, Booking.category, _income_fen().label("income"),
                      held.label("held"))
            .join(Booking, Booking.id == VenueSlot.booking_id)
            .where(Booking.status.in_(SERVED), chosen)
            .cte("slots").prefix_with("MATERIALIZED"))


def _meetings(rows, distinct: bool) -> list:
    """SQL: the meetings served among ``rows`` (internal, external, government sessions):
    one a row, or (``distinct``) one a booking."""
    kinds = {"internal_meetings": rows.c.client_id.is_(None),
             "external_meetings": rows.c.client_id.is_not(None),
             "government_sessions": rows.c.category == GOVERNMENT_SESSION}
    if not distinct:  # no DISTINCT: PostgreSQL hashes the rows by venue instead of sorting
        return [count_when(sa.and_(rows.c.held, kind)).label(name)
                for name, kind in kinds.items()]
    return [sa.func.count(sa.distinct(sa.case((sa.and_(rows.c.held, kind),
                                               rows.c.booking_id)))).label(name)
            for name, kind in kinds.items()]


NO_KIND = sa.null().label("kind")  # the catering's column, in the other parts' rows


def _shares(slots, periods, condition=None):
    """SQL: the (slot, period) rows of the ``slots`` meeting each period (and ``condition``),
    each with its seconds within the period and its whole-fen share of its booking's income
    (a booking's income is shared over its slots by their seconds, also those outside the
    period, each slot's share within a period rounded half up to the fen, in integer
    arithmetic on both engines: a whole slot of a one-slot booking gets it all); and the
    sums of such rows: booked seconds, income, and the meetings (``distinct``: one a booking)."""
    inside = seconds_between(earliest(slots.c.ends_at, periods.c.ends),
                             latest(slots.c.starts_at, periods.c.starts))
    rows = (sa.select(periods.c.idx, slots.c.venue_id, slots.c.booking_id, slots.c.alone,
                      inside.label("inside"), slots.c.seconds, slots.c.income,
                      slots.c.client_id, slots.c.category, slots.c.held)
            .join_from(slots, periods, overlaps(slots.c.starts_at, slots.c.ends_at,
                                                periods.c.starts, periods.c.ends))
            # Some time within the period: an empty period (a day's instant) meets none.
            .where(inside > 0, sa.true() if condition is None else condition(periods))
            .subquery())
    # In 64-bit integers: twice an income of ¥10.7 million times seconds overflows 32 bits.
    share = sa.case((rows.c.seconds > 0,
                     (2 * sa.cast(rows.c.income, sa.BigInteger) * rows.c.inside
                      + rows.c.seconds)
                     // (2 * rows.c.seconds)), else_=0)

    def sums(distinct: bool) -> list:
        return [sa.func.coalesce(sa.func.sum(rows.c.inside), 0).label("booked_seconds"),
                sa.func.coalesce(sa.func.sum(share), 0).label("income_fen"),
                *_meetings(rows, distinct), NO_KIND]
    return rows, sums


# The parts of the sums' rows: (part, key, venue_id, *numbers, kind).
WHOLE, WHOLE_CLIPPED, SEVERAL, CATERING, REST = 0, 1, 2, 3, 4


def _month_figures(slots, bounds: list[tuple[datetime, datetime]]) -> list:
    """SQL: the parts of the months' figures (:func:`_months_sums`), each month (or part of
    one, ``bounds``) counting its *whole slots*: the slots of one-slot bookings lying within
    it, which count the same in every period holding the month.

    The months' bounds cut time into intervals (between consecutive bounds; a month is a run
    of them). The whole slots within one interval count the same in every month holding it:
    they are summed per interval and venue (``WHOLE``, ``key`` the interval: between
    ``boundaries[key - 1]`` and ``boundaries[key]``), before any month is met, so no slot is
    paired with a month (the per-slot join was the cost). The rest (few) are paired with the
    months they meet: those whole within the month are summed per month and venue
    (``WHOLE_CLIPPED``, ``key`` the month's index); the others' bookings are listed per month
    (``REST``, the booking id in ``venue_id``), for :func:`_rest_sums`."""
    months = spans_table(bounds, VenueSlot.starts_at.type)  # bound as the columns (UTC)
    within = sa.and_(slots.c.alone, slots.c.interval == slots.c.last)
    whole = (sa.select(sa.literal(WHOLE).label("part"), slots.c.interval.label("key"),
                       slots.c.venue_id,
                       sa.func.coalesce(sa.func.sum(slots.c.seconds), 0).label("booked_seconds"),
                       sa.func.coalesce(sa.func.sum(slots.c.income), 0).label("income_fen"),
                       *_meetings(slots, distinct=False), NO_KIND)
             .where(within).group_by(slots.c.interval, slots.c.venue_id))
    # The rest read into their own CTE first: else PostgreSQL scans all the slots once per
    # month to find them.
    rest = sa.select(slots).where(~within).cte("rest").prefix_with("MATERIALIZED")
    rows, sums = _shares(rest, months)
    inside = sa.and_(rows.c.alone, rows.c.inside == rows.c.seconds)
    clipped = (sa.select(sa.literal(WHOLE_CLIPPED), rows.c.idx, rows.c.venue_id, *sums(False))
               .where(inside).group_by(rows.c.idx, rows.c.venue_id))
    zeros = [sa.literal(0).label(f"zero{n}") for n in range(len(_SUMS))]
    listed = (sa.select(sa.literal(REST), rows.c.idx, rows.c.booking_id, *zeros, NO_KIND)
              .where(~inside).group_by(rows.c.idx, rows.c.booking_id))
    return [whole, clipped, listed]


def _catering_served(slots, first: datetime):
    """SQL: the catering served by kind, rows of (``CATERING``, the interval, NULL, the line's
    unit price, quantity and times, the days counted, 0, the kind): each line of a served
    booking counts once on each of the booking's (local) days, an "every day" line on all of
    them, a dated line on its day only. The slots are those of :func:`_served_slots`; a slot
    counts its day in the interval (and so the months) it starts in: a day never spans two
    intervals, the bounds being local midnights. The database counts those days per
    interval, kind and line figures; pricing's definitions (servings, charge) turn them into
    each month's figures in :func:`_months_sums`."""
    day = local_day(slots.c.starts_at, first)
    line = (BookingCatering.kind, BookingCatering.unit_price_fen, BookingCatering.quantity,
            BookingCatering.times)
    # Each line once per day it is served on (the slots joined to the lines straight away:
    # those without catering drop out in the same pass).
    served = (sa.select(slots.c.interval, BookingCatering.id, day.label("day"), *line)
              .join_from(slots, BookingCatering, BookingCatering.booking_id == slots.c.booking_id)
              .where(sa.or_(BookingCatering.day.is_(None), BookingCatering.day == day))
              .distinct().subquery("served"))
    figures = (served.c.unit_price_fen, served.c.quantity, served.c.times)
    return (sa.select(sa.literal(CATERING), served.c.interval, sa.null(), *figures,
                      sa.func.count(), sa.literal(0), served.c.kind)
            .group_by(served.c.interval, served.c.kind, *figures))


# The venue figures are summed per calendar month (the months of a period, the first and last
# clipped to it: ``months_of``), and a month that has ended is stored
# (portal/stored_figures.py) under its month key: every change to a booking, slot or catering
# line replaces the keys of its booking's months (models.py); venues and bulk statements
# replace the shared key. A period's figures are its months' plus those of the few bookings
# that are not whole within one of them (:func:`_period_sums`): a half-year still open sums
# only its current month.
VENUE_FIGURES = stored_figures.Source(
    "bookings.venue_figures", "bookings",
    keys=lambda first, end: [month_key(month.first) for month in months_of(first, end)],
    # What else the sums depend on: check-in's start (was_served), the local time zone.
    settings=lambda: [current_app.config["BOOKING_CHECK_IN_SINCE"],
                      current_app.config["BABEL_DEFAULT_TIMEZONE"]],
    version=2)


# How far back the periodic task keeps the months' figures stored: the work report compares a
# half-year with the one before and the same one a year earlier (up to 24 months back).
STORED_MONTHS = 24


def store_months(today: date | None = None) -> int:
    """Sum and store the venue figures of each month of the last :data:`STORED_MONTHS` that
    has ended and whose stored figures are missing or no longer valid (a booking of it
    changed); the number summed. The periodic task runs it, so that a report's first visit
    after a change finds the months stored (at most the changes of the last few minutes
    are summed then); the months that are valid cost a read of their tokens and rows."""
    if not current_app.config.get("STORED_FIGURES", True):
        return 0
    today = today or local_today()
    this_month = date(today.year, today.month, 1)
    first = date(this_month.year - STORED_MONTHS // 12, this_month.month, 1)
    summed = []

    def compute(months: list[Period]) -> list[dict]:
        summed.extend(months)
        return _months_sums(months)

    stored_figures.results(VENUE_FIGURES, months_of(first, this_month), compute)
    db.session.commit()
    return len(summed)


def venue_reports(periods: list[Period], catering: bool | int = True) -> list[VenueReport]:
    """The figures of every venue for each period, and the totals, in a few queries whatever
    the periods (the work report asks for three half-years and six months at once): the
    venues, the months' sums (:func:`_period_sums`). ``catering``: the catering served of
    every period, none, or of the number of leading periods that show it (the export leaves
    it out)."""
    wanted = len(periods) if catering is True else int(catering)
    venues = list(db.session.scalars(sa.select(Venue).order_by(Venue.building, Venue.code)))
    daily = {venue.id: _daily_open_seconds(venue) for venue in venues}
    reports = []
    for idx, (period, result) in enumerate(zip(periods, _period_sums(periods), strict=True)):
        figures = {venue.id: VenueFigures(venue, open_seconds=daily[venue.id] * period.days)
                   for venue in venues}
        for venue_id, numbers in result["venues"].items():
            item = figures.get(venue_id)
            if item is not None:
                _add(item, numbers)
        total = _add(VenueFigures(None), result["total"])
        rows = [item for item in figures.values() if item.venue.active or item.has_activity]
        total.open_seconds = sum(item.open_seconds for item in rows)
        served = [CateringFigures(kind, servings, amount_fen)
                  for kind, (servings, amount_fen) in result["catering"].items()
                  ] if idx < wanted else []
        reports.append(VenueReport(period, rows, total, sum(item.income_fen for item in rows),
                                   served))
    return reports


# The sums: booked seconds, meetings internal, external, government sessions, income
# (VenueFigures' order).
_SUMS = ("booked_seconds", "internal_meetings", "external_meetings", "government_sessions",
         "income_fen")


def _add(item: VenueFigures, numbers) -> VenueFigures:
    for name, value in zip(_SUMS, numbers, strict=True):
        setattr(item, name, getattr(item, name) + value)
    return item


def _numbers(row_sums) -> tuple[int, ...]:
    """A sums row's figures (booked seconds, income, meetings internal, external, government
    sessions, as :func:`_shares` selects them) in :data:`_SUMS`' order."""
    booked_seconds, income_fen, internal, external, government = (int(n) for n in row_sums)
    return booked_seconds, internal, external, government, income_fen


def _plus(sums: list[int], numbers) -> None:
    for position, value in enumerate(numbers):
        sums[position] += value


def _period_sums(periods: list[Period]) -> list[dict]:
    """The served figures of each period per venue and in total, and its catering served:
    ``{"venues": {venue id: sums}, "total": sums, "catering": {kind: [servings, amount]}}``.

    A period's figures are the sums of its months' *whole slots* (the slots of one-slot
    bookings within one month: nearly all), read stored for the months that have ended
    (:data:`VENUE_FIGURES`) and summed for the others in one query (:func:`_months_sums`),
    plus those of the bookings that are not whole within one of its months (a booking of
    several slots, a slot across midnight at a month's end), which the months list and
    :func:`_rest_sums` counts for the period itself in one more query (none when there are
    none): a meeting once per venue and in the total, a slot's income share within the
    period. The same figures as summing the period's slots at once (tests compare them)."""
    months_of_period = [months_of(period.first, period.end) for period in periods]
    months = list({(month.first, month.end): month
                   for each in months_of_period for month in each}.values())
    by_span = dict(zip(((month.first, month.end) for month in months),
                       stored_figures.results(VENUE_FIGURES, months, _months_sums),
                       strict=True))
    rest = _rest_sums(periods, sorted({booking_id for result in by_span.values()
                                        for booking_id in result["rest"]}))
    results = []
    for each, (venues, total) in zip(months_of_period, rest, strict=True):
        catering = {kind: [0, 0] for kind in CateringKind.ALL}
        for month in each:
            result = by_span[month.first, month.end]
            for venue_id, *numbers in result["venues"]:
                _plus(venues[venue_id], numbers)
            _plus(total, result["total"])
            for kind, *numbers in result["catering"]:
                _plus(catering[kind], numbers)
        results.append({"venues": venues, "total": total, "catering": catering})
    return results


def _months_sums(months: list[Period]) -> list[dict]:
    """Each month's (or part of a month's) sums of its whole slots per venue and in total,
    its catering served, and the bookings it holds that are not whole within it (a JSON-like
    result, as stored): ``{"venues": [[venue id, *sums]], "total": sums, "catering": [[kind,
    servings, amount]], "rest": [booking ids]}``; one query whatever the months (none for no
    month), reading only their slots (months apart are read apart)."""
    if not months:
        return []
    bounds = [(month.starts_at(), month.ends_at()) for month in months]
    per_venue = [defaultdict(lambda: [0] * len(_SUMS)) for _month in months]
    totals = [[0] * len(_SUMS) for _month in months]
    rest = [set() for _month in months]
    boundaries = sorted({bound for pair in bounds for bound in pair})
    spans = []  # the runs of adjoining months, each read as one span
    for first, last in sorted(bounds):
        if spans and first <= spans[-1][1]:
            spans[-1] = (spans[-1][0], max(spans[-1][1], last))
        else:
            spans.append((first, last))
    slots = _served_slots(spans, boundaries)
    parts = [*_month_figures(slots, bounds), _catering_served(slots, boundaries[0])]
    # The months holding each interval (between two boundaries; none before the first or
    # after the last).
    holding = {interval: [idx for idx, (starts, ends) in enumerate(bounds)
                          if starts <= boundaries[interval - 1] and boundaries[interval] <= ends]
               for interval in range(1, len(boundaries))}
    served_days = defaultdict(int)  # (month, catering line's figures): the days served

    # One query: the slots and bookings read once for the figures and the catering.
    for part, key, venue_id, *sums, kind in db.session.execute(sa.union_all(*parts)):
        if part == CATERING:
            unit_price_fen, quantity, times, count, _zero = (int(n) for n in sums)
            for idx in holding.get(key, ()):
                served_days[idx, kind, unit_price_fen, quantity, times] += count
        elif part == REST:
            rest[key].add(venue_id)  # the booking's id
        else:
            # Whole slots of an interval count in every month holding it; the others are
            # of the month ``key``.
            numbers = _numbers(sums)
            for idx in holding[key] if part == WHOLE else [key]:
                _plus(per_venue[idx][venue_id], numbers)
                _plus(totals[idx], numbers)
    served = [{kind: [0, 0] for kind in CateringKind.ALL} for _bound in bounds]
    for (idx, kind, unit_price_fen, quantity, times), count in served_days.items():
        request = CateringRequest(kind, "", unit_price_fen, quantity, times)  # one day's
        _plus(served[idx][kind], (request.servings * count,
                                  catering_charge(request, days=1) * count))
    return [{"venues": [[venue_id, *numbers] for venue_id, numbers in sorted(venues.items())],
             "total": totals[idx],
             "catering": [[kind, *served[idx][kind]] for kind in CateringKind.ALL],
             "rest": sorted(rest[idx])}
            for idx, venues in enumerate(per_venue)]


def _rest_sums(periods: list[Period], bookings: list[int]) -> list[tuple[dict, list[int]]]:
    """For each period, the sums per venue and in total of the slots of ``bookings`` (those
    its months listed as not whole within them) that meet it, but for the slots whole within
    one of its months (the months counted those): a booking of one slot by its clipped
    slot, in the total at its venue; a booking of several slots once per venue and once in
    the total. One query (none for no booking)."""
    results = [(defaultdict(lambda: [0] * len(_SUMS)), [0] * len(_SUMS)) for _period in periods]
    if not bookings:
        return results
    bounds = [(period.starts_at(), period.ends_at()) for period in periods]
    first, last = min(start for start, _end in bounds), max(end for _start, end in bounds)
    # The months' bounds within the periods: a slot within one month lies between two.
    month_bounds = [month.starts_at() for month in months_of(min(p.first for p in periods),
                                                             max(p.end for p in periods))]
    slots = _served_slots([(first, last)], month_bounds, bookings)
    periods_table = spans_table(bounds, VenueSlot.starts_at.type)

    def counted_apart(periods):  # not a whole slot within one of the period's months
        return ~sa.and_(slots.c.alone, slots.c.interval == slots.c.last,
                        periods.c.starts <= slots.c.starts_at, slots.c.ends_at <= periods.c.ends)

    rows, sums = _shares(slots, periods_table, counted_apart)
    alone = (sa.select(sa.literal(WHOLE_CLIPPED), rows.c.idx, rows.c.venue_id, *sums(False))
             .where(rows.c.alone).group_by(rows.c.idx, rows.c.venue_id))
    several = (sa.select(sa.literal(SEVERAL), rows.c.idx, rows.c.venue_id, *sums(True))
               .where(~rows.c.alone))
    if db.session.get_bind().dialect.name == "postgresql":
        # Both groupings from one sort (SQLite has no GROUPING SETS); the totals' venue_id
        # comes back NULL.
        grouped = [several.group_by(sa.func.grouping_sets(
            sa.tuple_(rows.c.idx, rows.c.venue_id), sa.tuple_(rows.c.idx)))]
    else:
        grouped = [several.group_by(rows.c.idx, rows.c.venue_id),
                   several.with_only_columns(sa.literal(SEVERAL), rows.c.idx, sa.null(),
                                             *sums(True)).group_by(rows.c.idx)]
    for part, idx, venue_id, *sums_, _kind in db.session.execute(sa.union_all(alone, *grouped)):
        numbers = _numbers(sums_)
        venues, total = results[idx]
        # A booking of one slot in the total at its venue; one of several by venue and in
        # total (venue_id NULL).
        for sums_of in ([venues[venue_id], total] if part == WHOLE_CLIPPED
                        else [total if venue_id is None else venues[venue_id]]):
            _plus(sums_of, numbers)
    return results


def venue_report(period: Period, catering: bool = True) -> VenueReport:
    """The figures of every venue for the period (see :func:`venue_reports`)."""
    return venue_reports([period], catering)[0]


# --- the table, on the page and in the exports -------------------------------------------------


def report_columns() -> list[Column]:
    return [
        Column(_("Venue")),
        Column(_("Building")),
        Column(_("Open hours"), Kind.DECIMAL),
        Column(_("Booked hours"), Kind.DECIMAL),
        Column(_("Utilisation"), Kind.PERCENT),
        Column(_("Internal meetings"), Kind.INT),
        Column(_("External meetings"), Kind.INT),
        Column(_("External income (¥)"), Kind.MONEY_FEN),
    ]


def _cells(item: VenueFigures, income_fen: int) -> list:
    return [item.open_hours, item.booked_hours, item.utilisation, item.internal_meetings,
            item.external_meetings, income_fen]


def report_table(report: VenueReport) -> tuple[list[Column], list[list], list]:
    rows = [[item.venue.name, item.venue.building, *_cells(item, item.income_fen)]
            for item in report.rows]
    totals = [_("Total"), "", *_cells(report.total, report.total_income_fen)]
    return report_columns(), rows, totals


# --- views -----------------------------------------------------------------------------------


def _hours_text(value: Decimal) -> str:
    return number(value, 1)


def _percent_text(value: Decimal | None) -> str:
    return "—" if value is None else percent(value, 1)


@bp.route("/reports")
@staff_required
def reports():
    period, error = period_from_request()
    report = venue_report(period)
    return render("bookings/reports.html", "report", report=report, period=period,
                  period_error=error, half_years=half_year_choices(period), hours=_hours_text,
                  percent=_percent_text)


@bp.route("/reports/export")
@staff_required
def reports_export():
    fmt = requested_format()
    period, error = period_from_request()
    if error:
        abort(400, description=error)
    columns, rows, totals = report_table(venue_report(period, catering=False))
    return export_response(_("venue-report-%(period)s", period=period.key), columns, rows,
                           totals=totals, fmt=fmt)
