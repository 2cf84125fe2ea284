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

The page runs two queries whatever the data size: a page of the venues the filters keep (with
the columns the grid needs and their largest capacity) together with the buildings (the
filter's choices) and how many venues of each the filters keep, then the active slots of
those venues in the period, with the booking's or blackout's few columns joined in; the
statements are built once per role and shape of filters.  What a period's cells share is
computed once a period (:class:`Period`); each row is computed and written here, in plain
Python, as one string of HTML (:class:`_CellWriter`; see the benchmark paragraphs in the
README).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from urllib.parse import quote_plus, urlencode

import sqlalchemy as sa
from flask import current_app, request, url_for
from flask_babel import get_locale, lazy_pgettext
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy.dialects import postgresql

from ..authz import Reader
from ..database import UTCDateTime, generic_plans, utcnow
from ..extensions import db
from ..i18n import local_date, local_today, local_zone, translated
from ..periods import overlaps
from ..reporting import count_when, seconds_between
from ..roles import Role
from ..urls import address_around
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


@dataclass(frozen=True)
class Period:
    """The days and columns of a grid, and what its cells share, computed once a period (a
    day and its hours, or a week; nothing in it depends on the data or the viewer)."""
    days: tuple[date, ...]
    columns: tuple[Column, ...]
    start: datetime  # the first day's midnight: every time below is in seconds since it
    end: datetime
    bounds: tuple[tuple[date, float, float], ...]  # each column's day, begin and finish
    free: tuple[tuple[str, str], ...]  # each free cell's link after the venue, and its text
    head: Markup  # the day view's column headings
    hours: dict = field(default_factory=dict, compare=False)  # opening hours, see opening()
    labels: dict = field(default_factory=dict, compare=False)  # see week_labels()

    def opening(self, opens: time, closes: time) -> dict[date, tuple[float, float]]:
        """Each day's opening hours (venues share a few), in seconds since ``start``."""
        hours = self.hours.get((opens, closes))
        if hours is None:
            zone, origin = self.start.tzinfo, self.start.timestamp()
            hours = self.hours[opens, closes] = {
                one: (datetime.combine(one, opens, tzinfo=zone).timestamp() - origin,
                      datetime.combine(one, closes, tzinfo=zone).timestamp() - origin)
                for one in self.days}
        return hours

    def week_labels(self, locale: str) -> tuple[tuple[str, ...], str]:
        """The week's day headings and its row of session headings, in this language."""
        labels = self.labels.get(locale)
        if labels is None:
            sessions = translated(pricing.SESSION_LABELS)
            labels = self.labels[locale] = (
                tuple(local_date(one, "EEE M/d").translate(_ESCAPES) for one in self.days),
                "".join(f'<th scope="col" class="session">'
                        f"{sessions[column.session].translate(_ESCAPES)}</th>"
                        for column in self.columns))
        return labels


@dataclass
class Grid:
    view: str
    day: date
    days: tuple[date, ...]
    columns: tuple[Column, ...]
    head: Markup  # the column headings: a day's half hours, or a week's days
    sessions: Markup  # the week's second row of headings: each day's sessions
    rows: Markup  # every row of venues, written by :class:`_CellWriter`
    page: int
    pages: int
    total: int
    buildings: list[str]
    link: GridLink


# The characters url_for leaves as they are in a query's values (werkzeug.urls._urlencode).
QUERY_SAFE = "!$'()*,/:;?@"


class GridLink:
    """The grid's own addresses (its navigation, pages and days) from one ``url_for``: a
    dozen a page cost as much as its cells.  The query is ``url_for``'s, in its order."""

    def __init__(self, filters: Filters):
        path, _mark, query = url_for("bookings.grid_page", **filters.args()).partition("?")
        self.path = path
        self.filters = f"&{query}" if query else ""

    def __call__(self, day: date, view: str, page: int | None = None) -> str:
        if view not in VIEWS:  # as asked (the check-in's way back), encoded as url_for does
            view = quote_plus(view, safe=QUERY_SAFE)
        if page is None:
            return f"{self.path}?date={day.isoformat()}&view={view}{self.filters}"
        return f"{self.path}?date={day.isoformat()}&view={view}&page={page}{self.filters}"


@functools.lru_cache(maxsize=128)
def _period(view: str, day: date, opens: time, closes: time, zone) -> Period:
    """The period shown: a week of sessions, or the half hours of one day from ``opens`` to
    ``closes`` (the earliest and latest of the page's venues)."""
    if view == "week":
        first = day - timedelta(days=day.weekday())
        days = tuple(first + timedelta(days=n) for n in range(7))
        columns = []
        for one in days:
            for session in WEEK_SESSIONS:
                start, end = pricing.SESSIONS[session]
                columns.append(Column(one, start, end, session,
                                      datetime.combine(one, start, tzinfo=zone),
                                      datetime.combine(one, end, tzinfo=zone)))
    else:
        days = (day,)
        cursor = datetime.combine(day, time(opens.hour, 30 if opens.minute >= 30 else 0),
                                  tzinfo=zone)
        last = datetime.combine(day, closes, tzinfo=zone)
        columns = []
        while cursor < last:
            following = cursor + STEP
            columns.append(Column(day, cursor.time(), following.time(), "", cursor, following))
            cursor = following
    start = datetime.combine(days[0], time.min, tzinfo=zone)
    origin = start.timestamp()
    head = "".join(
        f'<th scope="col" class="{"hour" if column.start.minute == 0 else "half"}">'
        f"{column.start.strftime('%H:%M')}</th>" for column in columns)
    return Period(
        days=days, columns=tuple(columns), start=start,
        end=datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=zone),
        bounds=tuple((column.day, column.starts_at.timestamp() - origin,
                      column.ends_at.timestamp() - origin) for column in columns),
        # ISO dates, times and session codes: nothing to escape but the ampersands.
        free=tuple((column.link_tail.replace("&", "&amp;"), f"{column.text}</span></a></td>")
                   for column in columns),
        head=Markup(head) if view == "day" else Markup())  # noqa: S704  (times only)


# The grid's statements are built once per viewer's role and shape of filters, their values
# bound (building them cost more than running them: a millisecond a page, see the README).


@functools.lru_cache(maxsize=256)
def _venue_statement(role: str | None, building: bool, layout: bool, capacity: bool,
                     equipment: tuple[str, ...]):
    """A page of the venues the filters keep (id, name, building, opens_at, closes_at, their
    largest capacity), then the buildings of the venues the viewer sees (the filter's choices)
    with how many venues of each the filters keep (building and that count, the rest null):
    one statement, one round trip (bound: ``building``, ``layout``, ``capacity``,
    ``offset``)."""
    visible = Venue.visible_to(Reader(role) if role else None)
    kept = []
    if building:
        kept.append(Venue.building == sa.bindparam("building", type_=sa.String))
    if layout or capacity:
        fits = sa.select(VenueLayout.venue_id).where(VenueLayout.venue_id == Venue.id)
        if layout:
            fits = fits.where(VenueLayout.layout == sa.bindparam("layout", type_=sa.String))
        if capacity:
            fits = fits.where(
                VenueLayout.capacity >= sa.bindparam("capacity", type_=sa.Integer))
        kept.append(fits.exists())
    for code in equipment:  # a code of Equipment.ALL: part of the statement's shape
        kept.append(sa.select(VenueEquipment.venue_id).where(
            VenueEquipment.venue_id == Venue.id,
            VenueEquipment.equipment == sa.literal(code, sa.String, literal_execute=True))
            .exists())
    count = count_when(sa.and_(*kept)) if kept else sa.func.count()
    largest = (sa.select(sa.func.max(VenueLayout.capacity))
               .where(VenueLayout.venue_id == Venue.id).scalar_subquery())
    page = (sa.select(Venue.id, Venue.name, Venue.building, Venue.opens_at, Venue.closes_at,
                      largest.label("capacity"), sa.literal(0).label("part"),
                      Venue.code.label("code"))
            .where(visible, Venue.active, *kept)
            .order_by(Venue.building, Venue.code, Venue.id)
            .limit(GRID_PAGE).offset(sa.bindparam("offset", type_=sa.Integer))).subquery()
    # The page first: its columns' types read the rows (SQLite's times are text).
    buildings = (sa.select(sa.null(), sa.null(), Venue.building, sa.null(), sa.null(), count,
                           sa.literal(1), sa.null())
                 .where(visible, Venue.active).group_by(Venue.building))
    return sa.union_all(sa.select(page), buildings).order_by(
        sa.literal_column("part"), sa.literal_column("building"), sa.literal_column("code"),
        sa.literal_column("id"))


def _venues(user, filters: Filters, page: int) -> tuple[list[str], int, int, list]:
    """(buildings, how many venues the filters keep, the page shown, its venues: id, name,
    building, opens_at, closes_at, capacity each)."""
    role = user.role if getattr(user, "is_authenticated", False) else None
    statement = _venue_statement(
        role, bool(filters.building), bool(filters.layout), bool(filters.capacity),
        filters.equipment)
    values = {"building": filters.building, "layout": filters.layout,
              "capacity": filters.capacity}
    # Core rows through the session's connection: the ORM's execution path adds nothing to
    # plain columns but its bookkeeping (a fifth of the grid's queries' Python calls).
    connection = db.session.connection()
    page = max(page, 1)
    while True:
        rows = connection.execute(statement, {**values, "offset": (page - 1) * GRID_PAGE}).all()
        buildings = [row for row in rows if row[6]]
        total = sum(row[5] for row in buildings)
        last = max(1, -(-total // GRID_PAGE))
        if page <= last:
            break
        page = last  # past the last page: the last one instead (a second round trip)
    return ([row[2] for row in buildings], total, page,
            [row[:6] for row in rows if not row[6]])


# A booked slot lies within one day (its buffers around it): one that meets the grid's days
# began at most this long before them, which bounds the index scan (blackouts may be long and
# are read apart, there are few of them).
LONGEST_SLOT = timedelta(days=2)


# A slot's columns, in order (see _slots_statement): its blocked period and event time, then
# its booking's id, title, status, client, whether it is checked in and when it begins (None
# for a blackout), a blackout's reason, and the venue.
SLOT = ("blocked_from", "blocked_until", "starts_at", "ends_at", "booking_id", "title",
        "status", "client_id", "arrived", "booking_starts", "reason", "venue_id")


@functools.lru_cache(maxsize=4)
def _slots_statement(dialect: str):
    """The active slots of the venues ``venue_ids`` meeting [``start``, ``end``), with what a
    cell shows (the order does not matter, active slots of a venue never overlap), its columns
    in the order of :data:`SLOT` (read by position: a row's attribute costs ten times an
    index, and a week reads 220 rows ten times each).  Their times come as seconds since
    ``start``: a week's 220 slots as datetimes cost more to convert than the query took.
    Each half joins only the table it shows: a booked slot its booking, a blackout its
    reason."""
    start, end = (sa.bindparam(name, type_=UTCDateTime()) for name in ("start", "end"))
    # PostgreSQL takes the ids as one array (an expanding IN is rendered anew at every
    # execution, a tenth of the page's SQL calls); SQLite has no arrays.
    venue_ids = (VenueSlot.venue_id == sa.any_(sa.bindparam(
        "venue_ids", type_=postgresql.ARRAY(sa.Integer))) if dialect == "postgresql"
        else VenueSlot.venue_id.in_(sa.bindparam("venue_ids", expanding=True)))
    meets = (venue_ids,
             VenueSlot.active, overlaps(VenueSlot.blocked_from, VenueSlot.blocked_until,
                                        start, end))
    slot = (*[seconds_between(column, start).label(column.key) for column in (
        VenueSlot.blocked_from, VenueSlot.blocked_until, VenueSlot.starts_at,
        VenueSlot.ends_at)], VenueSlot.booking_id)
    booked = sa.select(
        *slot, Booking.title, Booking.status, Booking.client_id,
        Booking.arrived_at.is_not(None).label("arrived"),
        seconds_between(Booking.starts_at, start).label("booking_starts"),
        sa.null().label("reason"), VenueSlot.venue_id,
    ).join(Booking, Booking.id == VenueSlot.booking_id).where(
        *meets, VenueSlot.blocked_from >= sa.bindparam("earliest", type_=UTCDateTime()))
    closed = sa.select(*slot, *[sa.null()] * 5, Blackout.reason, VenueSlot.venue_id).join(
        Blackout, Blackout.id == VenueSlot.blackout_id).where(*meets)
    return sa.union_all(booked, closed)


def _slots(venue_ids: list[int], start: datetime, end: datetime):
    """The active slots of these venues meeting [start, end) (one query), their times in
    seconds since ``start``."""
    if not venue_ids:
        return []
    connection = db.session.connection()
    return connection.execute(_slots_statement(connection.dialect.name), {
        "venue_ids": venue_ids, "start": start, "end": end,
        "earliest": start - LONGEST_SLOT}).all()


@functools.lru_cache(maxsize=64)
def _cell_text(locale: str, script_root: str) -> dict[str, str]:
    """What every cell of every page in this language shares, escaped: its labels and the
    addresses before an id (translating and building them was a tenth of the page's time)."""
    buffer = escape(_l("Setup or cleanup"))
    return {
        "book": f'<td class="c-free"><a href="{escape(url_for("bookings.book"))}?venue_id=',
        "book_label": f'"><span class="visually-hidden">{escape(_l("Book this slot:"))} ',
        "booked": escape(_l("Booked")),
        "blackout": escape(lazy_pgettext("venue blackout", "Closed")),
        # Addresses around a record's id, (before, after): url_for once, not per cell.
        "detail_url": tuple(map(escape, address_around("bookings.detail", "booking_id"))),
        "checkin_url": tuple(map(escape, address_around("bookings.check_in", "booking_id"))),
        "venue_url": tuple(map(escape, address_around("bookings.venue", "venue_id"))),
        "checkin_label": f'">{escape(_l("Check in"))}</a>',
        "arrived": f' <span class="badge good">{escape(_l("Arrived"))}</span>',
        "buffer": f' title="{buffer}"><span class="visually-hidden">{buffer}</span></td>',
        "closed": (f'<td class="c-closed"><span class="visually-hidden">'
                   f'{escape(_l("Not open"))}</span></td>'),
        **{f"status_{code}": f'<span class="small">{escape(label)}</span>'
           for code, label in BookingStatus.LABELS.items()},
        **{f"status_cell_{code}": f'<td class="c-booked status-{escape(code)}"'
           for code in BookingStatus.LABELS},
    }


# markupsafe's escaping (the same five characters, the same entities) as one C call per text:
# its escape() makes four calls, and a week's grid writes some 250 titles and names.
_ESCAPES = str.maketrans({"&": "&amp;", ">": "&gt;", "<": "&lt;", "'": "&#39;", '"': "&#34;"})


class _CellWriter:
    """The rows as HTML, written here rather than in the template: 560 cells a page as Jinja
    (its attribute look-ups, tests and escaping per cell) were half the page's time, and the
    20 rows' headings as Jinja a tenth of the rest.  What every row shares (labels, addresses,
    each column's link and text) is escaped once a period or once a language (:class:`Period`,
    :func:`_cell_text`); a row adds its venue, a cell its booking.  The markup is the
    template's own (see templates/bookings/grid.html)."""

    def __init__(self, user, period: Period, back: str, tomorrow: float, venue_args: str):
        """``back``: the address the check-in form returns to."""
        authenticated = getattr(user, "is_authenticated", False)
        self.is_staff = authenticated and user.role in Role.BUREAU
        self.may_book = not authenticated or user.role != Role.SUPERVISOR
        self.own_id = user.id if authenticated and not self.is_staff else None
        self.tomorrow = tomorrow  # a booking may be checked in when it begins before this
        text = self.text = _cell_text(str(get_locale()), request.script_root)
        self.free, self.bounds = period.free, period.bounds
        self.book, self.book_label = text["book"], text["book_label"]
        self.detail = text["detail_url"]
        head, tail = text["checkin_url"]
        back = urlencode([("next", back)], safe=QUERY_SAFE).translate(_ESCAPES)
        self.checkin = (f'<a class="button small checkin" href="{head}',
                        f"{tail}?{back}{text['checkin_label']}")
        self.buffer, self.closed = text["buffer"], text["closed"]
        head, tail = text["venue_url"]
        self.venue_url = f'<tr>\n<th scope="row" class="venue"><a href="{head}'
        self.venue_args = f'{tail}{venue_args.translate(_ESCAPES)}">'

    def row(self, venue, hours: dict, slots: list, now: float) -> str:
        """A venue's row: its heading, then its cells, the consecutive columns of one slot on
        one day drawn as one cell (``colspan``).  ``hours``: the venue's opening hours each
        day, ``slots``: its slots (see :data:`SLOT`) in the order they begin; all times in
        seconds since the period's start, as the columns' bounds are (comparing aware
        datetimes costs a time-zone look-up each).  The columns come in time
        order: the slots that ended before a column are passed once, not looked at again for
        every later column.  Each cell is written as it is found (one call a cell)."""
        venue_id, name, building, _opens, _closes, capacity = venue
        name = name.translate(_ESCAPES)
        capacity = f" · {capacity}" if capacity else ""
        html = [f'{self.venue_url}{venue_id}{self.venue_args}{name}</a><span class="small muted">'
                f"{building.translate(_ESCAPES)}{capacity}</span></th>"]
        add = html.append
        book = f"{self.book}{venue_id}" if self.may_book else ""
        label = f"{self.book_label}{name} "
        free, closed = self.free, self.closed
        run = None  # [kind, slot, day, span]: the slot's cell being drawn, columns may join it
        first, count = 0, len(slots)  # the slots before ``first`` ended before this column
        for column, (day, begin, finish) in enumerate(self.bounds):
            opens, closes = hours[day]
            found = None
            if begin < opens or finish > closes:
                kind = "closed"
            else:
                while first < count and slots[first][1] <= begin:
                    first += 1
                kind = "past" if begin < now else "free"
                for slot in slots[first:]:
                    blocked_from, blocked_until, starts, ends, booking_id = slot[:5]
                    if blocked_from >= finish:
                        break
                    if blocked_until <= begin:
                        continue
                    if booking_id is None:
                        kind, found = "blackout", slot
                        break
                    if starts < finish and begin < ends:
                        kind, found = "booked", slot
                        break
                    kind, found = "buffer", slot
            if run is not None:
                if run[1] is found and run[0] == kind and run[2] == day:
                    run[3] += 1
                    continue
                add(self._slot_cell(*run))
                run = None
            if found is not None:
                run = [kind, found, day, 1]
            elif kind == "free":
                if book:
                    link, text = free[column]
                    add(f"{book}{link}{label}{text}")
                else:
                    add('<td class="c-free"></td>')
            elif kind == "closed":
                add(closed)
            else:
                add('<td class="c-past"></td>')
        if run is not None:
            add(self._slot_cell(*run))
        add("</tr>")
        return "\n".join(html)

    def _slot_cell(self, kind: str, slot, _day, span: int) -> str:
        colspan = f' colspan="{span}"' if span > 1 else ""
        (_from, _until, _starts, _ends, booking_id, title, status, client_id, arrived,
         booking_starts, reason, _venue_id) = slot
        text = self.text
        if kind == "buffer":
            return f'<td class="c-buffer"{colspan}{self.buffer}'
        if kind == "blackout":
            reason = f": {reason.translate(_ESCAPES)}" if self.is_staff and reason else ""
            return f'<td class="c-blackout"{colspan}>{text["blackout"]}{reason}</td>'
        if not self.is_staff and (self.own_id is None or client_id != self.own_id):
            return f'<td class="c-booked"{colspan}>{text["booked"]}</td>'
        # The check-in first: a block is one line cut at its width, and a short one (an
        # hour on a phone) cut the button off at its end.
        action = (f"{self.checkin[0]}{booking_id}{self.checkin[1]} "
                  if self.is_staff and not arrived and status == BookingStatus.APPROVED
                  and booking_starts < self.tomorrow else "")
        html = (f'{text["status_cell_" + status]}{colspan}>{action}'
                f'<a href="{self.detail[0]}{booking_id}{self.detail[1]}">'
                f"{Booking.reference_of(booking_id)}</a> {title.translate(_ESCAPES)} "
                f'{text["status_" + status]}')
        if self.is_staff and arrived:
            html += text["arrived"]
        return html + "</td>"


def build_grid(user, view: str, day: date, filters: Filters, page: int = 1) -> Grid:
    """The grid asked for (a check-in returns to this address, ``view`` and ``page`` as they
    were asked: a view not known shows the day, a page past the last shows the last)."""
    link = GridLink(filters)
    back = link(day, view, page)
    view = view if view in VIEWS else "day"
    # Both statements are range look-ups whose best plan is the same for every day, page
    # and filter (200 venues; slots by the venues' index on their period): a generic plan
    # spares planning them on every request (0.3 + 0.4 ms of the server's time, measured).
    with generic_plans():
        buildings, total, page, venues = _venues(user, filters, page)
        zone = local_zone()
        # A venue's row: id, name, building, opens_at, closes_at, capacity (see _venues).
        period = (_period(view, day, None, None, zone) if view == "week" else _period(
            view, day, min([v[3] for v in venues], default=time(8, 0)),
            max([v[4] for v in venues], default=time(22, 0)), zone))
        slots_of_page = _slots([v[0] for v in venues], period.start, period.end)
    pages = max(1, -(-total // GRID_PAGE))
    by_venue: dict[int, list] = {}
    for slot in slots_of_page:
        by_venue.setdefault(slot[-1], []).append(slot)
    # Every time below in seconds since the period's start, as the slots' are.
    origin = period.start.timestamp()
    now = utcnow().timestamp() - origin
    tomorrow = datetime.combine(local_today() + timedelta(days=1), time.min, tzinfo=zone)
    writer = _CellWriter(user, period, back, tomorrow.timestamp() - origin,
                         f"?view=day&date={day.isoformat()}")
    rows = []
    for venue in venues:
        slots = by_venue.get(venue[0], ())
        if len(slots) > 1:
            slots.sort(key=itemgetter(0))  # by blocked_from
        rows.append(writer.row(venue, period.opening(venue[3], venue[4]), slots, now))
    head, sessions = period.head, Markup()
    if view == "week":
        days, sessions = period.week_labels(str(get_locale()))
        today = local_today()
        head = "".join(
            f'<th scope="colgroup" colspan="3" class="{"today" if one == today else ""}">'
            f'<a href="{address}" hx-get="{address}" hx-target="#grid" hx-swap="outerHTML" '
            f'hx-push-url="true">{label}</a></th>'
            for one, label, address in zip(
                period.days, days, [link(one, "day").translate(_ESCAPES) for one in period.days],
                strict=True))
    return Grid(view, day, period.days, period.columns, Markup(head),  # noqa: S704
                Markup(sessions),  # noqa: S704  (every value escaped above)
                Markup("\n".join(rows)),  # noqa: S704  (every value escaped above)
                page, pages, total, buildings, link)
