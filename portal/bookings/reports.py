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

The page and its export run two queries whatever the data size: the venues, and one that
reads the served slots once and clips, shares and sums them in the database (per venue and in
total; integer arithmetic on both engines; a booking's seconds over all its slots are stored
on it, ``Booking.slot_seconds``), with, on the page, the catering served (summed in the
database, priced by :mod:`.pricing`).
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
from sqlalchemy.orm import aliased

from .. import stored_figures
from ..authz import staff_required
from ..core.nav import nav_item
from ..exports import Column, Kind, export_response, requested_format
from ..extensions import db
from ..htmx import render
from ..i18n import local_zone, number, percent
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


def _served_slots(first: datetime, last: datetime, boundaries: list[datetime]):
    """SQL (a CTE): the served bookings' slots that meet ``[first, last)``, with their
    booking's figures and the interval between ``boundaries`` each starts in. A booking's
    seconds over all its slots (also those outside the span) are stored on it
    (Booking.slot_seconds), so no pass over all of them. MATERIALIZED: the one read of the
    slots and bookings, for the figures' sums, the rest and the catering."""
    held = was_served(Booking.status, Booking.arrived_at, Booking.starts_at,
                      sa.literal(check_in_since(), Booking.starts_at.type))
    slot_seconds = seconds_between(VenueSlot.ends_at, VenueSlot.starts_at)
    interval = _interval(VenueSlot.starts_at, boundaries)
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
            .where(Booking.status.in_(SERVED),
                   # Implied by the slot's bound (a booking starts at its first slot), but
                   # sargable on ix_booking_status_starts: the bookings still to come after
                   # the periods are not read (the wide table's full scan was the cost).
                   Booking.starts_at < last,
                   overlaps(VenueSlot.starts_at, VenueSlot.ends_at, first, last))
            .cte("slots").prefix_with("MATERIALIZED"))


def _served_figures(slots, bounds: list[tuple[datetime, datetime]]) -> list:
    """SQL: the served figures of each period per venue and in total, rows of (``part``,
    ``key``, ``venue_id``, booked seconds, income, meetings internal, external, government
    sessions, NULL).

    The periods' bounds cut time into intervals (between consecutive bounds; each period is
    a run of them). A slot of a booking of one slot that lies within one interval counts the
    same in every period holding that interval: its seconds, its booking's whole income and
    one meeting. Those (nearly all) are summed per interval and venue (``part`` 0, ``key``
    the interval: between ``boundaries[key - 1]`` and ``boundaries[key]``), before any
    period is met, so no slot is paired with each period (the per-slot join was the cost).
    The rest (a slot across a bound, or of a booking of several slots) are clipped and shared
    per period (``key`` the period's index): ``part`` 1 for those of one slot by venue (which
    also make up the totals), ``part`` 2 for those of several slots by venue and in total
    (``venue_id`` NULL; a booking counts once per venue and once in the total).

    A booking's income is shared over its slots by their seconds (all its slots, also those
    outside the period), each slot's share within a period rounded half up to the fen, in
    integer arithmetic on both engines: a whole slot of a one-slot booking gets it all.
    """
    periods = spans_table(bounds, VenueSlot.starts_at.type)  # bound as the columns (UTC)
    no_kind = sa.null().label("kind")  # the catering's column

    def meetings(rows, distinct: bool):
        kinds = {"internal_meetings": rows.c.client_id.is_(None),
                 "external_meetings": rows.c.client_id.is_not(None),
                 "government_sessions": rows.c.category == GOVERNMENT_SESSION}
        if not distinct:  # no DISTINCT: PostgreSQL hashes the rows by venue instead of sorting
            return [count_when(sa.and_(rows.c.held, kind)).label(name)
                    for name, kind in kinds.items()]
        return [sa.func.count(sa.distinct(sa.case((sa.and_(rows.c.held, kind),
                                                   rows.c.booking_id)))).label(name)
                for name, kind in kinds.items()]

    # The whole slots of one-slot bookings (within one interval: counted whole wherever they
    # are counted), per interval and venue.
    within = sa.and_(slots.c.alone, slots.c.interval == slots.c.last)
    whole = (sa.select(sa.literal(0).label("part"), slots.c.interval.label("key"),
                       slots.c.venue_id,
                       sa.func.coalesce(sa.func.sum(slots.c.seconds), 0).label("booked_seconds"),
                       sa.func.coalesce(sa.func.sum(slots.c.income), 0).label("income_fen"),
                       *meetings(slots, distinct=False), no_kind)
             .where(within).group_by(slots.c.interval, slots.c.venue_id))
    # The rest (few) read into their own CTE first: else PostgreSQL scans all the slots once
    # per period to find them.
    rest = sa.select(slots).where(~within).cte("rest").prefix_with("MATERIALIZED")

    def shares(alone: bool):
        """The (slot, period) rows of the rest's bookings of one slot (or of several), each
        with its seconds within the period and its whole-fen share of the booking's income."""
        inside = seconds_between(earliest(rest.c.ends_at, periods.c.ends),
                                 latest(rest.c.starts_at, periods.c.starts))
        rows = (sa.select(periods.c.idx, rest.c.venue_id, rest.c.booking_id,
                          inside.label("inside"), rest.c.seconds, rest.c.income,
                          rest.c.client_id, rest.c.category, rest.c.held)
                .join_from(rest, periods, overlaps(rest.c.starts_at, rest.c.ends_at,
                                                   periods.c.starts, periods.c.ends))
                .where(rest.c.alone if alone else ~rest.c.alone)
                .subquery())
        share = sa.case((rows.c.seconds > 0,
                         (2 * rows.c.income * rows.c.inside + rows.c.seconds)
                         // (2 * rows.c.seconds)), else_=0)
        return rows, [sa.func.coalesce(sa.func.sum(rows.c.inside), 0).label("booked_seconds"),
                      sa.func.coalesce(sa.func.sum(share), 0).label("income_fen"),
                      *meetings(rows, distinct=not alone), no_kind]

    # A booking of one slot is counted by its rows as they are, in the total at its one venue.
    rows, figures = shares(alone=True)
    alone = (sa.select(sa.literal(1).label("part"), rows.c.idx, rows.c.venue_id, *figures)
             .group_by(rows.c.idx, rows.c.venue_id))
    # A booking of several slots is counted once per venue and once in the total.
    rows, figures = shares(alone=False)
    several = sa.literal(2).label("part")
    if db.session.get_bind().dialect.name == "postgresql":
        # Both groupings from one sort (SQLite has no GROUPING SETS); the totals' venue_id
        # comes back NULL.
        grouped = [sa.select(several, rows.c.idx, rows.c.venue_id, *figures)
                   .group_by(sa.func.grouping_sets(sa.tuple_(rows.c.idx, rows.c.venue_id),
                                                   sa.tuple_(rows.c.idx)))]
    else:
        grouped = [sa.select(several, rows.c.idx, rows.c.venue_id, *figures)
                   .group_by(rows.c.idx, rows.c.venue_id),
                   sa.select(several, rows.c.idx, sa.null().label("venue_id"), *figures)
                   .group_by(rows.c.idx)]
    return [whole, alone, *grouped]


CATERING = 3  # the part of the catering's rows


def _catering_served(slots, first: datetime):
    """SQL: the catering served by kind, rows of (``part`` 3, the interval, NULL, the line's
    unit price, quantity and times, the days counted, 0, the kind): each line of a served
    booking counts once on each of the booking's (local) days, an "every day" line on all of
    them, a dated line on its day only. The slots are those of :func:`_served_slots`; a slot
    counts its day in the interval (and so the periods) it starts in: a day never spans two
    intervals, the periods' bounds being local midnights. The database counts those days per
    interval, kind and line figures; pricing's definitions (servings, charge) turn them into
    each period's figures in :func:`venue_reports`."""
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


# The venue figures of a closed period are stored (portal/stored_figures.py) under the month
# keys of its days: every change to a booking, slot or catering line replaces the keys of its
# booking's months (models.py); venues and bulk statements replace the shared key.
VENUE_FIGURES = stored_figures.Source(
    "bookings.venue_figures", "bookings",
    keys=lambda first, end: [month_key(month.first) for month in months_of(first, end)],
    # What else the sums depend on: check-in's start (was_served), the local time zone.
    settings=lambda: [current_app.config["BOOKING_CHECK_IN_SINCE"],
                      current_app.config["BABEL_DEFAULT_TIMEZONE"]])


def venue_reports(periods: list[Period], catering: bool | int = True) -> list[VenueReport]:
    """The figures of every venue for each period, and the totals, in two queries whatever
    the periods (the work report asks for three at once): the venues, and their sums with
    the catering served (the export leaves it out). ``catering``: for every period, none, or
    the number of leading periods that need it (the work report's three half-years, not its
    chart's months: each period costs the query rows).

    The sums of a closed period are stored (:data:`VENUE_FIGURES`): those still valid are
    read (two small queries, the tokens and the stored rows) and only the other periods are
    summed, in the one pass of :func:`_sums`."""
    wanted = len(periods) if catering is True else int(catering)
    venues = list(db.session.scalars(sa.select(Venue).order_by(Venue.building, Venue.code)))
    daily = {venue.id: _daily_open_seconds(venue) for venue in venues}
    needs_catering = {(period.first, period.end) for period in periods[:wanted]}
    sums = stored_figures.results(VENUE_FIGURES, periods, lambda missing: _sums(
        missing, [(period.first, period.end) in needs_catering
                  or stored_figures.storable(period) for period in missing]))
    reports = []
    for idx, (period, result) in enumerate(zip(periods, sums, strict=True)):
        figures = {venue.id: VenueFigures(venue, open_seconds=daily[venue.id] * period.days)
                   for venue in venues}
        for venue_id, *numbers in result["venues"]:
            item = figures.get(venue_id)
            if item is not None:
                _add(item, numbers)
        total = _add(VenueFigures(None), result["total"])
        rows = [item for item in figures.values() if item.venue.active or item.has_activity]
        total.open_seconds = sum(item.open_seconds for item in rows)
        served = [CateringFigures(kind, servings, amount_fen)
                  for kind, servings, amount_fen in result["catering"]] if idx < wanted else []
        reports.append(VenueReport(period, rows, total, sum(item.income_fen for item in rows),
                                   served))
    return reports


# The sums of a period (a JSON-like result, as stored): "venues": [venue id, *sums] per venue
# with served slots, "total": the sums, "catering": [kind, servings, amount] per kind (None
# when not asked for). The sums: booked seconds, meetings internal, external, government
# sessions, income (VenueFigures' order).
_SUMS = ("booked_seconds", "internal_meetings", "external_meetings", "government_sessions",
         "income_fen")


def _add(item: VenueFigures, numbers) -> VenueFigures:
    for name, value in zip(_SUMS, numbers, strict=True):
        setattr(item, name, getattr(item, name) + value)
    return item


def _sums(periods: list[Period], with_catering: list[bool]) -> list[dict]:
    """The served figures of each period per venue and in total, and the catering served of
    those ``with_catering``, in one query whatever the periods (none for no period)."""
    if not periods:
        return []
    bounds = [(period.starts_at(), period.ends_at()) for period in periods]
    per_venue = [defaultdict(lambda: [0] * len(_SUMS)) for _period in periods]
    totals = [[0] * len(_SUMS) for _period in periods]
    first, last = min(start for start, _end in bounds), max(end for _start, end in bounds)
    boundaries = sorted({bound for pair in bounds for bound in pair})
    slots = _served_slots(first, last, boundaries)
    parts = _served_figures(slots, bounds) + (
        [_catering_served(slots, first)] if any(with_catering) else [])
    # The periods holding each interval (between two boundaries; none before the first or
    # after the last).
    holding = {interval: [idx for idx, (starts, ends) in enumerate(bounds)
                          if starts <= boundaries[interval - 1] and boundaries[interval] <= ends]
               for interval in range(1, len(boundaries))}
    served_days = defaultdict(int)  # (period, catering line's figures): the days served

    # One query: the slots and bookings read once for the figures and the catering.
    for part, key, venue_id, *sums, kind in db.session.execute(sa.union_all(*parts)):
        if part == CATERING:
            unit_price_fen, quantity, times, count, _zero = (int(n) for n in sums)
            for idx in holding.get(key, ()):
                if with_catering[idx]:
                    served_days[idx, kind, unit_price_fen, quantity, times] += count
            continue
        # Whole slots of an interval count in every period holding it; the rest are of the
        # period ``key``.
        held_by = holding[key] if part == 0 else [key]
        booked_seconds, income_fen, internal, external, government = (int(n) for n in sums)
        numbers = (booked_seconds, internal, external, government, income_fen)
        for idx in held_by:
            # The bookings of one slot by venue (also making up the totals), and those of
            # several by venue and in total (venue_id NULL).
            counted = ([per_venue[idx][venue_id], totals[idx]] if part < 2
                       else [totals[idx] if venue_id is None else per_venue[idx][venue_id]])
            for sums_of in counted:
                for position, value in enumerate(numbers):
                    sums_of[position] += value
    served = [{kind: [0, 0] for kind in CateringKind.ALL} for _bound in bounds]
    for (idx, kind, unit_price_fen, quantity, times), count in served_days.items():
        request = CateringRequest(kind, "", unit_price_fen, quantity, times)  # one day's
        item = served[idx][kind]
        item[0] += request.servings * count
        item[1] += catering_charge(request, days=1) * count
    return [{"venues": [[venue_id, *numbers] for venue_id, numbers in sorted(venues.items())],
             "total": totals[idx],
             "catering": [[kind, *served[idx][kind]] for kind in CateringKind.ALL]
             if with_catering[idx] else None}
            for idx, venues in enumerate(per_venue)]


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
