"""The day and week grid of all venues (MRBS's main view).

Rows are venues (a page of them, filtered by building, capacity, layout and equipment);
columns are the half hours of the venues' opening hours on one day, or the conference center's
sessions (:data:`portal.bookings.pricing.SESSIONS`: morning, afternoon, evening) on each day
of a week.  A cell is one of:

* ``free``: a link to the booking form prefilled with the venue, the day and the cell's times
  (a run of free cells selected with the mouse opens the form with the whole run, see
  ``static/js/portal.js``; without JavaScript each cell is a plain link);
* ``booked``: the event time of a booking's slot; consecutive cells of one slot are drawn as
  one block (``colspan``).  Staff see its reference, title and status; the public and clients
  see "booked", except a client's own bookings;
* ``buffer``: the setup or cleanup time around a booked slot (not bookable either);
* ``blackout``: a period when the venue is closed;
* ``closed``: outside the venue's own opening hours;
* ``past``: a free cell that has begun (nothing to book).

The page runs a fixed number of queries whatever the data size: the venue count, a page of
venues (with the columns the grid needs and their largest capacity), the distinct buildings
(the filter's choices) and one query for the active slots of those venues in the period, with
the booking's or blackout's few columns joined in.  The cells are computed here, in plain
Python, and the template only prints them (see the benchmark row in the README).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from ..database import utcnow
from ..extensions import db
from ..i18n import local_today, local_zone
from ..periods import overlaps
from ..roles import Role
from . import pricing
from .models import (
    Blackout,
    Booking,
    BookingStatus,
    Equipment,
    Layout,
    Venue,
    VenueEquipment,
    VenueLayout,
    VenueSlot,
)

GRID_PAGE = 20  # venues per page of the grid
STEP = timedelta(minutes=30)
WEEK_SESSIONS = ("morning", "afternoon", "evening")  # the week view's columns per day
VIEWS = ("day", "week")


@dataclass(frozen=True)
class Filters:
    building: str = ""
    capacity: int | None = None
    layout: str = ""
    equipment: tuple[str, ...] = ()

    def args(self) -> dict:
        """The filters as query arguments (for links that keep them)."""
        args: dict = {}
        if self.building:
            args["building"] = self.building
        if self.capacity:
            args["capacity"] = self.capacity
        if self.layout:
            args["layout"] = self.layout
        if self.equipment:
            args["equipment"] = list(self.equipment)
        return args


def parse_filters(args) -> Filters:
    capacity = args.get("capacity", type=int)
    layout = args.get("layout", "")
    return Filters(
        building=args.get("building", "").strip()[:100],
        capacity=capacity if capacity and 0 < capacity <= 100_000 else None,
        layout=layout if layout in Layout.ALL else "",
        equipment=tuple(sorted({code for code in args.getlist("equipment")
                                if code in Equipment.ALL})),
    )


def grid_range() -> tuple[date, date]:
    """The days a grid may show: as far back and ahead as the booking horizon."""
    today = local_today()
    horizon = timedelta(days=current_app.config["BOOKING_HORIZON_DAYS"])
    return today - horizon, today + horizon


def parse_day(text: str | None) -> tuple[date, str | None]:
    """The grid's day, or today with a message when it is malformed or out of range."""
    today = local_today()
    if not text:
        return today, None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return today, str(_l("“%(text)s” is not a date; today's grid is shown.", text=text[:20]))
    first, last = grid_range()
    if not first <= day <= last:
        return today, str(_l("The grid shows the days from %(first)s to %(last)s; today's grid "
                             "is shown.", first=first.isoformat(), last=last.isoformat()))
    return day, None


@dataclass(frozen=True)
class Column:
    day: date
    start: time
    end: time
    session: str = ""  # the week view's session, "" for a half hour
    starts_at: datetime | None = None
    ends_at: datetime | None = None

    # Computed once per column rather than once per cell (the grid's hot loop, see bench).
    @property
    def bounds(self) -> tuple[float, float]:
        return self.starts_at.timestamp(), self.ends_at.timestamp()

    @property
    def link_tail(self) -> str:
        """The booking form's query arguments after the venue."""
        if self.session:
            return f"&day={self.day.isoformat()}&session={self.session}"
        return (f"&day={self.day.isoformat()}&start={self.start.strftime('%H:%M')}"
                f"&end={self.end.strftime('%H:%M')}")

    @property
    def text(self) -> str:
        return f"{self.day.isoformat()} {self.start.strftime('%H:%M')}"


@dataclass
class Cell:
    kind: str  # free, booked, buffer, blackout, closed, past
    span: int = 1
    column: Column | None = None
    url: str = ""  # a free cell's booking form
    text: str = ""  # a free cell's label for screen readers
    label: str = ""
    detail: str = ""
    status: str = ""  # a booking's status (staff and own bookings)
    status_label: str = ""
    booking_id: int | None = None
    checkin: str = ""  # staff: the check-in form's address, when it may be recorded now
    arrived: bool = False


@dataclass
class Row:
    venue: object  # a row: id, name, building, opens_at, closes_at, capacity
    cells: list[Cell] = field(default_factory=list)
    url: str = ""  # the venue's own calendar of the day


@dataclass
class Grid:
    view: str
    day: date
    days: list[date]
    columns: list[Column]
    rows: list[Row]
    page: int
    pages: int
    total: int
    buildings: list[str]


def _columns(view: str, day: date, venues) -> tuple[list[date], list[Column]]:
    zone = local_zone()
    if view == "week":
        first = day - timedelta(days=day.weekday())
        days = [first + timedelta(days=n) for n in range(7)]
        columns = []
        for one in days:
            for session in WEEK_SESSIONS:
                start, end = pricing.SESSIONS[session]
                columns.append(Column(one, start, end, session,
                                      datetime.combine(one, start, tzinfo=zone),
                                      datetime.combine(one, end, tzinfo=zone)))
        return days, columns
    opens = min((v.opens_at for v in venues), default=time(8, 0))
    closes = max((v.closes_at for v in venues), default=time(22, 0))
    cursor = datetime.combine(day, time(opens.hour, 30 if opens.minute >= 30 else 0),
                              tzinfo=zone)
    last = datetime.combine(day, closes, tzinfo=zone)
    columns = []
    while cursor < last:
        following = cursor + STEP
        columns.append(Column(day, cursor.time(), following.time(), "", cursor, following))
        cursor = following
    return [day], columns


def _venues_stmt(user, filters: Filters):
    capacity = (sa.select(sa.func.max(VenueLayout.capacity))
                .where(VenueLayout.venue_id == Venue.id).scalar_subquery())
    stmt = sa.select(Venue.id, Venue.name, Venue.building, Venue.opens_at, Venue.closes_at,
                     capacity.label("capacity")).where(Venue.visible_to(user), Venue.active)
    if filters.building:
        stmt = stmt.where(Venue.building == filters.building)
    if filters.layout or filters.capacity:
        fits = sa.select(VenueLayout.venue_id).where(VenueLayout.venue_id == Venue.id)
        if filters.layout:
            fits = fits.where(VenueLayout.layout == filters.layout)
        if filters.capacity:
            fits = fits.where(VenueLayout.capacity >= filters.capacity)
        stmt = stmt.where(fits.exists())
    for code in filters.equipment:
        stmt = stmt.where(sa.select(VenueEquipment.venue_id).where(
            VenueEquipment.venue_id == Venue.id, VenueEquipment.equipment == code).exists())
    return stmt


# A booked slot lies within one day (its buffers around it): one that meets the grid's days
# began at most this long before them, which bounds the index scan (blackouts may be long and
# are read apart, there are few of them).
LONGEST_SLOT = timedelta(days=2)


def _slots(venue_ids: list[int], start: datetime, end: datetime):
    """The active slots of these venues meeting [start, end), with what a cell shows (one
    query; the order does not matter, active slots of a venue never overlap)."""
    if not venue_ids:
        return []
    columns = sa.select(
        VenueSlot.venue_id, VenueSlot.id, VenueSlot.starts_at, VenueSlot.ends_at,
        VenueSlot.blocked_from, VenueSlot.blocked_until, VenueSlot.booking_id, Booking.title,
        Booking.status, Booking.client_id, Booking.arrived_at,
        Booking.starts_at.label("booking_starts_at"), Blackout.reason,
    ).outerjoin(Booking, Booking.id == VenueSlot.booking_id).outerjoin(
        Blackout, Blackout.id == VenueSlot.blackout_id).where(
        VenueSlot.venue_id.in_(venue_ids), VenueSlot.active,
        overlaps(VenueSlot.blocked_from, VenueSlot.blocked_until, start, end))
    booked = columns.where(VenueSlot.booking_id.is_not(None),
                           VenueSlot.blocked_from >= start - LONGEST_SLOT)
    closed = columns.where(VenueSlot.blackout_id.is_not(None))
    return db.session.execute(sa.union_all(booked, closed)).all()


def _cell_for(bounds: tuple[float, float], hours: tuple[float, float], slots,
             now: float) -> tuple[str, object]:
    """What one column (its bounds in epoch seconds) of one venue is, and the slot that makes
    it so; ``slots``: (blocked_from, blocked_until, starts_at, ends_at, row) in epoch seconds
    (comparing aware datetimes costs a time-zone lookup each)."""
    begin, finish = bounds
    if begin < hours[0] or finish > hours[1]:
        return "closed", None
    buffer = None
    for blocked_from, blocked_until, starts, ends, slot in slots:
        if blocked_from >= finish or blocked_until <= begin:
            continue
        if slot.booking_id is None:
            return "blackout", slot
        if starts < finish and begin < ends:
            return "booked", slot
        buffer = slot
    if buffer is not None:
        return "buffer", buffer
    if begin < now:
        return "past", None
    return "free", None


def _prefix(endpoint: str, **args) -> str:
    """An address with a numeric id to append: ``url_for`` once per page, not per cell."""
    return url_for(endpoint, **dict.fromkeys(args, 0)).removesuffix("0")


def build_grid(user, view: str, day: date, filters: Filters, page: int = 1,
               back: str = "") -> Grid:
    """The grid; ``back``: the address the check-in form returns to."""
    view = view if view in VIEWS else "day"
    visible = _venues_stmt(user, filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(visible.subquery()))
    pages = max(1, -(-total // GRID_PAGE))
    page = min(max(page, 1), pages)
    venues = db.session.execute(
        visible.order_by(Venue.building, Venue.code, Venue.id)
        .limit(GRID_PAGE).offset((page - 1) * GRID_PAGE)).all()
    buildings = list(db.session.scalars(
        sa.select(Venue.building).where(Venue.visible_to(user), Venue.active).distinct()
        .order_by(Venue.building)))
    days, columns = _columns(view, day, venues)
    zone = local_zone()
    start = datetime.combine(days[0], time.min, tzinfo=zone)
    end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=zone)
    by_venue: dict[int, list] = {}
    for slot in _slots([v.id for v in venues], start, end):
        by_venue.setdefault(slot.venue_id, []).append((
            slot.blocked_from.timestamp(), slot.blocked_until.timestamp(),
            slot.starts_at.timestamp(), slot.ends_at.timestamp(), slot))
    prepared = [(column, column.bounds, column.link_tail, column.text)
                for column in columns]
    authenticated = getattr(user, "is_authenticated", False)
    is_staff = authenticated and user.role in Role.BUREAU
    may_book = not authenticated or user.role != Role.SUPERVISOR
    own_id = user.id if authenticated and not is_staff else None
    booked, closed = str(_l("Booked")), str(lazy_pgettext("venue blackout", "Closed"))
    book_url, book_label = url_for("bookings.book"), str(_l("Book this slot:"))
    now = utcnow().timestamp()
    status_labels = {code: str(label) for code, label in BookingStatus.LABELS.items()}
    detail_url = _prefix("bookings.detail", booking_id=0)
    checkin_url = url_for("bookings.check_in", booking_id=0, next=back).replace(
        "/0/", "/{}/", 1)
    venue_url = _prefix("bookings.venue", venue_id=0)
    venue_args = f"?view=day&date={day.isoformat()}"
    today = local_today()
    rows = []
    for venue in venues:
        slots = by_venue.get(venue.id, [])
        hours = {one: (datetime.combine(one, venue.opens_at, tzinfo=zone).timestamp(),
                       datetime.combine(one, venue.closes_at, tzinfo=zone).timestamp())
                 for one in days}
        link_head = f"{book_url}?venue_id={venue.id}"
        label = f"{book_label} {venue.name} "
        cells: list[Cell] = []
        previous_key = None
        for column, bounds, tail, text in prepared:
            kind, slot = _cell_for(bounds, hours[column.day], slots, now)
            key = (kind, slot.id) if slot is not None else None
            if key is not None and key == previous_key and cells[-1].column.day == column.day:
                cells[-1].span += 1
                continue
            previous_key = key
            cell = Cell(kind, column=column)
            if kind == "free" and may_book:
                cell.url, cell.text = link_head + tail, label + text
            elif kind == "booked":
                if is_staff or (own_id is not None and slot.client_id == own_id):
                    cell.label = Booking.reference_of(slot.booking_id)
                    cell.detail, cell.status = slot.title, slot.status
                    cell.status_label = status_labels[slot.status]
                    cell.booking_id = slot.booking_id
                    cell.url = detail_url + str(slot.booking_id)
                else:
                    cell.label = booked
                cell.arrived = is_staff and slot.arrived_at is not None
                if (is_staff and slot.status == BookingStatus.APPROVED
                        and slot.arrived_at is None
                        and slot.booking_starts_at.astimezone(zone).date() <= today):
                    cell.checkin = checkin_url.format(slot.booking_id)
            elif kind == "blackout":
                cell.label = closed
                cell.detail = slot.reason if is_staff else ""
            cells.append(cell)
        rows.append(Row(venue, cells, f"{venue_url}{venue.id}{venue_args}"))
    return Grid(view, day, days, columns, rows, page, pages, total, buildings)
