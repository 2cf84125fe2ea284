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

The page and its export run a fixed number of queries whatever the data size: the venues,
one query for the slots of the bookings that meet the period (with the booking's figures) and
one for their catering (on the page); clipping and sums are done in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from flask import abort, current_app
from flask_babel import format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..authz import staff_required
from ..core.nav import nav_item
from ..exports import Column, Kind, export_response, requested_format
from ..extensions import db
from ..htmx import render
from ..i18n import local_zone
from ..periods import overlaps
from ..reporting import Period, half_year_choices, period_from_request
from . import bp
from .models import Booking, BookingCatering, BookingStatus, Venue, VenueSlot
from .pricing import CateringKind

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
    internal_ids: set[int] = field(default_factory=set)
    external_ids: set[int] = field(default_factory=set)
    government_ids: set[int] = field(default_factory=set)  # government sessions (人代会…)
    income: Fraction = Fraction(0)  # fen, exact until shown

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
    def internal_meetings(self) -> int:
        return len(self.internal_ids)

    @property
    def external_meetings(self) -> int:
        return len(self.external_ids)

    @property
    def government_sessions(self) -> int:
        return len(self.government_ids)

    @property
    def income_fen(self) -> int:
        return math.floor(self.income + Fraction(1, 2))  # half up (amounts are not negative)

    @property
    def has_activity(self) -> bool:
        return bool(self.booked_seconds or self.internal_ids or self.external_ids
                    or self.income)


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


def _booking_income(client_id, status, final_total_fen, approved_total_fen,
                    quote_total_fen) -> int:
    """What an outside client pays for a served booking: the final bill once held, else the
    price frozen at approval (the live quote only for rows approved before it was frozen)."""
    if client_id is None:
        return 0  # internal: a department's booking is not income
    if status == BookingStatus.COMPLETED and final_total_fen is not None:
        return final_total_fen
    if approved_total_fen is not None:
        return approved_total_fen
    return quote_total_fen or 0


def check_in_since() -> datetime:
    """The instant check-in went live: before it, an approved booking that began was served."""
    day = date.fromisoformat(current_app.config["BOOKING_CHECK_IN_SINCE"])
    return datetime.combine(day, time.min, tzinfo=local_zone())


def was_served(status: str, arrived_at: datetime | None, starts_at: datetime,
               since: datetime) -> bool:
    """Did this booking's meeting take place (the reports' "meetings served")?"""
    if status == BookingStatus.COMPLETED:
        return True
    if status != BookingStatus.APPROVED:
        return False
    return arrived_at is not None or starts_at < since


def served_slots(start: datetime, end: datetime):
    """Every slot of the served bookings that meet [start, end), with the booking's figures.

    One query. All the slots of such a booking are read (also those outside the period) so
    that its income can be shared out over its hours.
    """
    return db.session.execute(
        sa.select(VenueSlot.booking_id, VenueSlot.venue_id, VenueSlot.starts_at,
                  VenueSlot.ends_at, Booking.client_id, Booking.status, Booking.final_total_fen,
                  Booking.approved_quote["total_fen"].as_integer().label("approved_total_fen"),
                  Booking.quote_total_fen, Booking.category, Booking.arrived_at,
                  Booking.starts_at.label("booking_starts_at"))
        .join(Booking, VenueSlot.booking_id == Booking.id)
        .where(Booking.status.in_(SERVED), VenueSlot.booking_id.in_(_meeting(start, end)))
    ).all()


def _meeting(start: datetime, end: datetime):
    """The ids of the bookings with a slot that meets [start, end)."""
    return (sa.select(VenueSlot.booking_id)
            .where(VenueSlot.booking_id.is_not(None),
                   overlaps(VenueSlot.starts_at, VenueSlot.ends_at, start, end)))


def served_catering(start: datetime, end: datetime) -> list[BookingCatering]:
    """The catering lines of the served bookings that meet [start, end) (one query)."""
    return list(db.session.scalars(
        sa.select(BookingCatering).join(Booking, BookingCatering.booking_id == Booking.id)
        .where(Booking.status.in_(SERVED),
               BookingCatering.booking_id.in_(_meeting(start, end)))))


def catering_figures(lines: list[BookingCatering],
                     days: dict[int, set[date]]) -> list[CateringFigures]:
    """Catering served by kind, given each booking's days within the period: an "every day"
    line counts on each of them, a dated line on its day only."""
    figures = {kind: CateringFigures(kind) for kind in CateringKind.ALL}
    for line in lines:
        booking_days = days.get(line.booking_id, set())
        count = len(booking_days) if line.day is None else int(line.day in booking_days)
        item = figures[line.kind]
        item.servings += line.servings * count
        item.amount_fen += line.day_amount_fen * count
    return list(figures.values())


def venue_report(period: Period, catering: bool = True) -> VenueReport:
    """The figures of every venue for the period, and the totals (two queries), and the
    catering served (a third query; the export leaves it out)."""
    start, end = period.starts_at(), period.ends_at()
    venues = list(db.session.scalars(sa.select(Venue).order_by(Venue.building, Venue.code)))
    figures = {venue.id: VenueFigures(venue, open_seconds=_daily_open_seconds(venue)
                                      * period.days) for venue in venues}
    total = VenueFigures(None)
    bookings: dict[int, list] = {}
    days: dict[int, set[date]] = {}  # each booking's (local) days within the period
    zone = local_zone()
    for row in served_slots(start, end):
        bookings.setdefault(row.booking_id, []).append(row)
        if start <= row.starts_at < end:
            days.setdefault(row.booking_id, set()).add(row.starts_at.astimezone(zone).date())
    second = timedelta(seconds=1)
    since = check_in_since()
    for booking_id, slots in bookings.items():
        first = slots[0]
        held = was_served(first.status, first.arrived_at, first.booking_starts_at, since)
        income = _booking_income(first.client_id, first.status, first.final_total_fen,
                                 first.approved_total_fen, first.quote_total_fen)
        booking_seconds = sum((slot.ends_at - slot.starts_at) // second for slot in slots)
        for slot in slots:
            inside = (min(slot.ends_at, end) - max(slot.starts_at, start)) // second
            if inside <= 0 or slot.venue_id not in figures:
                continue
            venue = figures[slot.venue_id]
            venue.booked_seconds += inside
            total.booked_seconds += inside
            for item in (venue, total) if held else ():
                (item.internal_ids if first.client_id is None else item.external_ids).add(
                    booking_id)
                if first.category == GOVERNMENT_SESSION:
                    item.government_ids.add(booking_id)
            if income:
                share = Fraction(income * inside, booking_seconds)
                venue.income += share
                total.income += share
    rows = [item for item in figures.values() if item.venue.active or item.has_activity]
    total.open_seconds = sum(item.open_seconds for item in rows)
    return VenueReport(period, rows, total, sum(item.income_fen for item in rows),
                       catering_figures(served_catering(start, end), days) if catering else [])


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
    return format_decimal(value, "#,##0.0")


def _percent_text(value: Decimal | None) -> str:
    return "—" if value is None else format_percent(value, "#,##0.0%")


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
