"""Booking rules: availability, requests, the lifecycle, and the conflict answers.

The database guard on ``venue_slot`` makes double bookings impossible; these services check
first so that a conflict is explained (which booking or blackout, and what is free instead),
and turn the guard's refusal in a race into the same answer.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import format_date, lazy_pgettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from ..auth.models import User
from ..database import generic_plans, utcnow, write_transaction
from ..errors import Conflict, NotAllowed, Problems, ServiceError
from ..extensions import db
from ..i18n import format_datetime_local, format_time_24, local_today, local_zone
from ..outbox.services import queue_email
from ..periods import is_overlap_violation, overlaps
from ..reporting import local_day
from ..roles import Role
from ..urls import base_url
from ..workflow import SYSTEM, Transition, Workflow, locked
from . import pricing
from .models import (
    Blackout,
    Booking,
    BookingCatering,
    BookingSeries,
    BookingStatus,
    CateringOption,
    Venue,
    VenueEquipment,
    VenueLayout,
    VenueSlot,
)

S = BookingStatus
log = logging.getLogger("portal.bookings")
STAFF = Role.BUREAU


def _client_cancels_in_time(booking, actor, details) -> None:
    if booking.status == S.OFFERED:
        return  # declining a hold offered from the waitlist is always possible
    if actor is not None and actor.role == Role.CLIENT and not cancellable_by_client(booking):
        raise NotAllowed(_l("Bookings can be cancelled online until %(hours)d hours before "
                            "they start; please call the conference center.",
                            hours=current_app.config["BOOKING_CANCEL_CUTOFF_HOURS"]))


def _event_has_begun(booking, actor, details) -> None:
    """Held or a no-show can be recorded only once the first slot has started."""
    if utcnow() < booking.starts_at:
        raise NotAllowed(_l("The event has not begun yet (it starts %(start)s); record it "
                            "once it has.", start=format_datetime_local(booking.starts_at)))


def _may_check_in(booking, actor, details) -> None:
    """Arrival is recorded once, on or after the day the booking starts."""
    if booking.arrived_at is not None:
        raise NotAllowed(_l("The arrival is already recorded (%(time)s).",
                            time=format_datetime_local(booking.arrived_at)))
    first_day = booking.starts_at.astimezone(local_zone()).date()
    if local_today() < first_day:
        raise NotAllowed(_l("Arrivals are recorded on the day of the booking (%(day)s).",
                            day=format_date(first_day, "medium")))


def _no_show_after_start(booking, actor, details) -> None:
    """A no-show only once the event has begun, and never for a booking checked in."""
    _event_has_begun(booking, actor, details)
    if booking.arrived_at is not None:
        raise NotAllowed(_l("The guests are checked in; this booking is not a no-show."))


def default_deposit_due() -> date:
    return local_today() + timedelta(days=current_app.config["BOOKING_DEPOSIT_DUE_DAYS"])


def _deposit_due_after_approval(booking, actor, details) -> None:
    due = details.get("deposit_due_on")
    if due is not None and due < local_today():
        raise ServiceError(_l("The deposit cannot fall due before the booking is approved "
                              "(today, %(today)s).", today=format_date(local_today(), "medium")),
                           field="deposit_due_on")


WORKFLOW = Workflow(
    S.ALL,
    [
        Transition("approve", (S.REQUESTED,), S.APPROVED, STAFF, _l("Approve"),
                   rule=_deposit_due_after_approval),
        Transition("reject", (S.REQUESTED,), S.REJECTED, STAFF,
                   lazy_pgettext("booking", "Reject"), needs_reason=True),
        Transition("cancel", (S.OFFERED, S.REQUESTED, S.APPROVED), S.CANCELLED,
                   (*STAFF, Role.CLIENT), _l("Cancel"), owner_only=(Role.CLIENT,),
                   rule=_client_cancels_in_time),
        Transition("expire", (S.OFFERED, S.REQUESTED), S.EXPIRED, (SYSTEM,), _l("Expire")),
        # The client takes a hold offered from the waitlist: it becomes an ordinary request.
        Transition("take_offer", (S.OFFERED,), S.REQUESTED, (Role.CLIENT,),
                   _l("Take the offer"), owner_only=(Role.CLIENT,)),
        Transition("complete", (S.APPROVED,), S.COMPLETED, STAFF, _l("Record as held"),
                   rule=_event_has_begun),
        Transition("no_show", (S.APPROVED,), S.NO_SHOW, STAFF, _l("Record a no-show"),
                   rule=_no_show_after_start),
        # Check-in on the day: the booking stays approved and records its arrival.
        Transition("check_in", (S.APPROVED,), S.APPROVED, STAFF, _l("Check in"),
                   rule=_may_check_in),
        # A client's change to an approved booking sends it back for approval.
        Transition("resubmit", (S.APPROVED,), S.REQUESTED, (Role.CLIENT,), _l("Change"),
                   owner_only=(Role.CLIENT,)),
    ],
    labels=S.LABELS, noun=_l("This booking"),
    owner=lambda booking, actor: booking.client_id == actor.id,
)


def local_datetime(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=local_zone())


@dataclass(frozen=True)
class SlotInput:
    venue_id: int
    day: date
    session: str
    start: time
    end: time


@dataclass(frozen=True)
class CateringInput:
    option_id: int
    quantity: int  # per day for an "every day" line
    times: int = 1
    day: date | None = None  # one of the booking's days; None: every day


@dataclass
class BookingInput:
    title: str
    headcount: int
    layout: str
    slots: list[SlotInput]
    purpose: str = ""
    equipment: list[str] = field(default_factory=list)
    catering: list[CateringInput] = field(default_factory=list)
    notes: str = ""
    contact_phone: str = ""
    rate_kind: str = pricing.RateKind.EXTERNAL
    department: str = ""  # staff bookings for a government department
    category: str = ""  # staff only: "government_session" (人代会, 政协会) or ""


@dataclass
class ConflictDetail:
    slot: SlotInput
    venue: Venue
    reason: str  # "booking" or "blackout"
    free_venues: list[Venue]
    free_times: list[tuple[date, str]]


class SlotError(ServiceError):
    """A slot's venue, date or time is refused: ``row`` is the slot's place in the request
    and ``part`` the slot field it concerns (venue_id, day, session, start or end); ``field``
    names the form field, e.g. ``slots-0-start``."""

    def __init__(self, message, part: str, row: int = 0):
        super().__init__(message, field=f"slots-{row}-{part}")
        self.part, self.row = part, row


def check_times(day: date, start: time, end: time, session: str = "custom",
                row: int = 0) -> None:
    """The date and time rules of every slot (and of the free-venue search): the end after
    the start, not in the past, within the booking horizon.  The time's field is the session
    when the times are a session's."""
    time_part = "start" if session not in pricing.SESSIONS else "session"
    if end <= start:
        raise SlotError(lazy_pgettext("time", "The end must be after the start."),
                        "end" if time_part == "start" else time_part, row)
    if local_datetime(day, start) <= utcnow():
        raise SlotError(_l("That time has already passed."),
                        "day" if day < local_today() else time_part, row)
    horizon_days = current_app.config["BOOKING_HORIZON_DAYS"]
    if day > local_today() + timedelta(days=horizon_days):
        raise SlotError(_l("Bookings open %(days)d days ahead; choose an earlier date.",
                           days=horizon_days), "day", row)


class BookingConflict(Conflict):
    def __init__(self, details: list[ConflictDetail]):
        super().__init__(_l("The venue is not free at the time you asked for."), field="slots")
        self.details = details


# --- venues and availability ---------------------------------------------------------------


def venues_stmt(user):
    """The venues this user may see (visitors and clients: public ones), with their details."""
    return (sa.select(Venue).where(Venue.visible_to(user))
            .order_by(Venue.building, Venue.code)
            .options(selectinload(Venue.layouts), selectinload(Venue.equipment)))


def slot_period(venue: Venue, slot: SlotInput) -> tuple[datetime, datetime, datetime, datetime]:
    """Event start/end and the blocked period with the venue's setup and cleanup buffers."""
    starts = local_datetime(slot.day, slot.start)
    ends = local_datetime(slot.day, slot.end)
    return (starts, ends, starts - timedelta(minutes=venue.setup_minutes),
            ends + timedelta(minutes=venue.cleanup_minutes))


def busy_slots(venue_ids, start: datetime, end: datetime, exclude_booking: int | None = None):
    """Active slots (bookings and blackouts) of these venues that meet [start, end)."""
    stmt = sa.select(VenueSlot).where(
        VenueSlot.venue_id.in_(venue_ids), VenueSlot.active,
        overlaps(VenueSlot.blocked_from, VenueSlot.blocked_until, start, end),
    )
    if exclude_booking is not None:
        stmt = stmt.where(sa.or_(VenueSlot.booking_id.is_(None),
                                 VenueSlot.booking_id != exclude_booking))
    return list(db.session.scalars(stmt))


def free_venues(day: date, start: time, end: time, headcount: int = 1, layout: str | None = None,
                equipment: tuple[str, ...] = (), user=None, limit: int = 50) -> list[Venue]:
    """Venues that fit and are free for the whole period, best fit (smallest room) first.

    A visitor (user None) sees public venues only.  Four queries whatever the data size: the
    fitting venues' ids and capacities (filtered in SQL), their busy periods that day, and the
    details of the venues shown.
    """
    capacity = (sa.select(sa.func.max(VenueLayout.capacity))
                .where(VenueLayout.venue_id == Venue.id)
                .where(*([VenueLayout.layout == layout] if layout else []))
                .scalar_subquery())
    stmt = (sa.select(Venue.id, Venue.code, Venue.setup_minutes, Venue.cleanup_minutes,
                      capacity.label("capacity"))
            .where(Venue.visible_to(user), Venue.active, Venue.opens_at <= start,
                   Venue.closes_at >= end, capacity >= headcount))
    for code in equipment:
        stmt = stmt.where(Venue.id.in_(sa.select(VenueEquipment.venue_id).where(
            VenueEquipment.equipment == code)))
    # The venues (200 at most) and their busy periods of one day through the overlap guard's
    # index: the same plans whatever the day and filters, so planned once
    # (see active_slots_meeting).
    with generic_plans():
        candidates = db.session.execute(stmt).all()
        if not candidates:
            return []
        starts, ends = local_datetime(day, start), local_datetime(day, end)
        widest = max(max(c.setup_minutes, c.cleanup_minutes) for c in candidates)
        busy: dict[int, list[tuple[datetime, datetime]]] = {}
        for venue_id, blocked_from, blocked_until in db.session.execute(
                sa.select(VenueSlot.venue_id, VenueSlot.blocked_from, VenueSlot.blocked_until)
                # The candidates' filter again as a subquery: not one bound id per venue (two
                # hundred parameters to send and parse on every search).
                .where(VenueSlot.venue_id.in_(stmt.with_only_columns(Venue.id)),
                       VenueSlot.active,
                       overlaps(VenueSlot.blocked_from, VenueSlot.blocked_until,
                                starts - timedelta(minutes=widest),
                                ends + timedelta(minutes=widest), guarded=True))):
            busy.setdefault(venue_id, []).append((blocked_from, blocked_until))
    free = []
    for candidate in candidates:
        blocked_from = starts - timedelta(minutes=candidate.setup_minutes)
        blocked_until = ends + timedelta(minutes=candidate.cleanup_minutes)
        if not any(b_from < blocked_until and blocked_from < b_until
                   for b_from, b_until in busy.get(candidate.id, ())):
            free.append(candidate)
    free.sort(key=lambda c: (c.capacity, c.code))
    shown = [c.id for c in free[:limit]]
    venues = {v.id: v for v in db.session.scalars(venues_stmt(user).where(Venue.id.in_(shown)))}
    return [venues[venue_id] for venue_id in shown if venue_id in venues]


def _alternatives(venue: Venue, slot: SlotInput, headcount: int, layout: str, user):
    others = [v for v in free_venues(slot.day, slot.start, slot.end, headcount, layout,
                                     user=user, limit=4) if v.id != venue.id][:3]
    times = []
    sessions = [slot.session] if slot.session in pricing.SESSIONS else []
    sessions += [s for s in ("morning", "afternoon", "evening") if s not in sessions]
    for offset in range(0, 8):
        day = slot.day + timedelta(days=offset)
        for session in sessions:
            if offset == 0 and session == slot.session:
                continue
            start, end = pricing.SESSIONS[session]
            if not (venue.opens_at <= start and end <= venue.closes_at):
                continue
            candidate = SlotInput(venue.id, day, session, start, end)
            _, _, blocked_from, blocked_until = slot_period(venue, candidate)
            if blocked_from > utcnow() and not busy_slots([venue.id], blocked_from,
                                                          blocked_until):
                times.append((day, session))
            if len(times) == 3:
                return others, times
    return others, times


# --- validation and quotes -----------------------------------------------------------------


def _load_venues(user, slots: list[SlotInput], problems: Problems | None = None
                 ) -> dict[int, Venue]:
    """The venues of the slots; a venue that cannot be booked is refused beside its row
    (added to ``problems`` when given, so the other rows are checked too)."""
    venue_ids = {slot.venue_id for slot in slots}
    venues = {v.id: v for v in db.session.scalars(
        venues_stmt(user).where(Venue.id.in_(venue_ids), Venue.active))}
    found = Problems() if problems is None else problems
    for row, slot in enumerate(slots):
        if slot.venue_id not in venues:
            found.add(SlotError(_l("That venue does not exist or cannot be booked."),
                                "venue_id", row))
    if problems is None:
        found.raise_any()
    return venues


def booking_days(slots: list[SlotInput]) -> list[date]:
    """The days a request covers (the days its "every day" catering is served on)."""
    return sorted({slot.day for slot in slots})


def validate(user, data: BookingInput) -> dict[int, Venue]:
    """Check a request against the rules; every problem at once, each naming its field (a
    slot's problems name its row's field: :class:`SlotError`, one per row)."""
    if data.rate_kind != pricing.RateKind.EXTERNAL and user.role not in STAFF:
        raise NotAllowed(_l("Only bureau staff can book at the internal rate."),
                         field="rate_kind")
    problems = Problems()
    if not data.slots:
        problems.add(_l("Choose at least one venue and time."), "slots")
    counted = data.headcount is not None and data.headcount >= 1
    if not counted:
        problems.add(_l("Enter the number of people."), "headcount")
    venues = _load_venues(user, data.slots, problems)
    seen = []
    for row, slot in enumerate(data.slots):
        venue = venues.get(slot.venue_id)
        if venue is None:
            continue  # refused beside its row already
        try:
            check_times(slot.day, slot.start, slot.end, slot.session, row)
            if slot.start < venue.opens_at or slot.end > venue.closes_at:
                part = "session" if slot.session in pricing.SESSIONS else (
                    "start" if slot.start < venue.opens_at else "end")
                raise SlotError(_l("%(venue)s is open from %(opens)s to %(closes)s.",
                                   venue=venue.name, opens=format_time_24(venue.opens_at),
                                   closes=format_time_24(venue.closes_at)), part, row)
            period = slot_period(venue, slot)
            for other_venue, other in seen:
                if other_venue == venue.id and other[2] < period[3] and period[2] < other[3]:
                    raise SlotError(_l("Two of your times for %(venue)s overlap.",
                                       venue=venue.name),
                                    "session" if slot.session in pricing.SESSIONS else "start",
                                    row)
            seen.append((venue.id, period))
        except SlotError as error:
            problems.add(error)
        capacity = venue.capacity_for(data.layout)
        if capacity == 0:
            problems.add(_l("%(venue)s cannot be set up in this layout.", venue=venue.name),
                         "layout")
        elif counted and data.headcount > capacity:
            problems.add(_l("%(venue)s seats at most %(n)d people in this layout.",
                            venue=venue.name, n=capacity), "headcount")
    try:
        _catering_requests(data.catering, booking_days(data.slots))
    except ServiceError as error:
        problems.include(error)
    problems.raise_any()
    return venues


def _rates(venue: Venue, rate_kind: str) -> pricing.VenueRates:
    prefix = "internal" if rate_kind == pricing.RateKind.INTERNAL else "external"
    return pricing.VenueRates(*(getattr(venue, f"{prefix}_{rate}_fen")
                                for rate in ("half_day", "evening", "full_day")))


def catering_options(kind: str | None = None) -> list[CateringOption]:
    stmt = sa.select(CateringOption).where(CateringOption.active).order_by(
        CateringOption.kind, CateringOption.unit_price_fen)
    if kind:
        stmt = stmt.where(CateringOption.kind == kind)
    return list(db.session.scalars(stmt))


def _catering_requests(items: list[CateringInput], days: list[date] | None = None
                       ) -> list[tuple[CateringOption, CateringInput]]:
    """The catering options asked for; with ``days``, a dated line must be on one of them
    (refused beside that kind's day field: ``meal_day``, ``tea_break_day``, ``banquet_day``)."""
    if not items:
        return []
    options = {o.id: o for o in db.session.scalars(
        sa.select(CateringOption).where(CateringOption.id.in_({i.option_id for i in items}),
                                        CateringOption.active))}
    chosen = []
    for item in items:
        option = options.get(item.option_id)
        if option is None:
            raise ServiceError(_l("That catering option is not offered."), field="catering")
        if item.quantity < 0 or item.times < 1:
            raise ServiceError(_l("Enter positive quantities."), field="catering")
        if days is not None and item.day is not None and item.day not in days:
            raise ServiceError(_l("Choose one of the booking's days, or every day."),
                               field=f"{option.kind}_day")
        if item.quantity:
            chosen.append((option, item))
    return chosen


def price(data: BookingInput, venues: dict[int, Venue]) -> pricing.Quote:
    """The live quote for a request (also what approval freezes)."""
    slots = [pricing.SlotRequest(venues[s.venue_id].name, s.day, s.session, s.start, s.end,
                                 _rates(venues[s.venue_id], data.rate_kind))
             for s in data.slots]
    catering = [pricing.CateringRequest(option.kind, option.name, option.unit_price_fen,
                                        item.quantity, item.times, item.day)
                for option, item in _catering_requests(data.catering)]
    return pricing.quote(slots, catering, data.rate_kind)


def preview_quote(user, data: BookingInput) -> pricing.Quote | None:
    """A quote for the form as typed so far; None while it is incomplete."""
    try:
        venues = _load_venues(user, data.slots)
        return price(data, venues)
    except ServiceError:
        return None


# --- requests ------------------------------------------------------------------------------


def _explain_conflicts(user, data: BookingInput, venues, exclude_booking=None):
    details = []
    for slot in data.slots:
        venue = venues[slot.venue_id]
        _, _, blocked_from, blocked_until = slot_period(venue, slot)
        clashes = busy_slots([venue.id], blocked_from, blocked_until, exclude_booking)
        if clashes:
            others, times = _alternatives(venue, slot, data.headcount, data.layout, user)
            reason = "blackout" if any(c.blackout_id for c in clashes) else "booking"
            details.append(ConflictDetail(slot, venue, reason, others, times))
    return details


def request_booking(user, data: BookingInput, series_id: int | None = None,
                    notify: bool = True) -> Booking:
    """A client (or staff, for a department) asks for venues; the slots are held at once."""
    venues = validate(user, data)
    quote = price(data, venues)
    catering = _catering_requests(data.catering)
    if user.role in STAFF and data.department:
        client_id, department = None, data.department.strip()
    else:
        client_id, department = user.id, ""
    try:
        with write_transaction():
            details = _explain_conflicts(user, data, venues)
            if details:
                raise BookingConflict(details)
            booking = Booking(
                client_id=client_id, department=department, created_by_id=user.id,
                status=S.REQUESTED, rate_kind=data.rate_kind, series_id=series_id,
                category=data.category if user.role in STAFF else "",
                expires_at=utcnow() + timedelta(hours=current_app.config["BOOKING_EXPIRY_HOURS"]),
            )
            db.session.add(booking)
            _replace_slots_and_details(booking, data, venues, quote, catering)
            db.session.flush()
            if notify:
                _notify(booking)
    except sa.exc.IntegrityError as error:
        if is_overlap_violation(error):
            # A race only the database saw: answer as if the check had caught it.
            log.info("booking conflict caught by the database guard (a race)")
            raise BookingConflict(_explain_conflicts(user, data, venues)) from None
        raise
    return booking


def _replace_slots_and_details(booking: Booking, data: BookingInput, venues, quote,
                               catering) -> None:
    """Give a booking new slots and details; old slots go first (the guard checks each row)."""
    booking.title = data.title.strip()
    booking.purpose = data.purpose.strip()
    booking.headcount = data.headcount
    booking.layout = data.layout
    booking.equipment = sorted(set(data.equipment))
    booking.notes = data.notes.strip()
    booking.contact_phone = data.contact_phone.strip()
    booking.quote_total_fen = quote.total_fen
    booking.starts_at = min(local_datetime(s.day, s.start) for s in data.slots)
    if booking.slots or booking.catering:
        booking.slots.clear()
        booking.catering.clear()
        db.session.flush()  # delete the old slots before the new ones are checked
    for slot in data.slots:
        starts, ends, blocked_from, blocked_until = slot_period(venues[slot.venue_id], slot)
        booking.slots.append(VenueSlot(
            venue_id=slot.venue_id, session=slot.session, starts_at=starts, ends_at=ends,
            blocked_from=blocked_from, blocked_until=blocked_until,
            active=booking.status in S.ACTIVE))
    booking.count_slot_seconds()
    for option, item in catering:
        booking.catering.append(BookingCatering(
            option_id=option.id, kind=option.kind, label=option.name,
            unit_price_fen=option.unit_price_fen, quantity=item.quantity,
            times=1 if option.kind == pricing.CateringKind.BANQUET else item.times,
            day=item.day))


def can_change(user, booking: Booking) -> bool:
    """Staff change any active booking; a client its own, until the cancellation cutoff."""
    if booking.status not in S.ACTIVE:
        return False
    if booking.status == S.OFFERED:
        return False  # an offered hold is taken (or declined) as it is, then changed
    if user.role in STAFF:
        return True
    return booking.client_id == user.id and cancellable_by_client(booking)


def change_booking(user, booking: Booking, data: BookingInput) -> Booking:
    """Change venues, times or details under the same rules as a new request.

    Staff moving a booking keep its state; a client's change to an approved booking sends it
    back to staff for approval (the agreed price no longer applies).
    """
    if not can_change(user, booking):
        raise NotAllowed(_l("This booking can no longer be changed online; please call the "
                            "conference center."))
    if user.role not in STAFF:
        data.rate_kind = booking.rate_kind
    venues = validate(user, data)
    quote = price(data, venues)
    catering = _catering_requests(data.catering)
    try:
        with write_transaction():
            booking = locked(booking)
            if not can_change(user, booking):
                raise WORKFLOW.stale(booking)
            details = _explain_conflicts(user, data, venues, exclude_booking=booking.id)
            if details:
                raise BookingConflict(details)
            moved_from = {slot.venue_id for slot in booking.slots}
            _replace_slots_and_details(booking, data, venues, quote, catering)
            if user.role in STAFF:
                booking.category = data.category
            if user.role not in STAFF and booking.status == S.APPROVED:
                transition(booking, "resubmit", user, notify=False)  # the agreed price lapses
            _notify(booking)
    except sa.exc.IntegrityError as error:
        if is_overlap_violation(error):
            raise BookingConflict(
                _explain_conflicts(user, data, venues, exclude_booking=booking.id)) from None
        raise
    _after_slots_freed(moved_from)  # a booking moved may have freed its old time
    return booking


def booking_input(booking: Booking) -> BookingInput:
    """A booking as the form's input (to edit it)."""
    zone = local_zone()
    slots = []
    for slot in booking.slots:
        start, end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
        slots.append(SlotInput(slot.venue_id, start.date(), slot.session, start.time(),
                               end.time()))
    return BookingInput(
        title=booking.title, headcount=booking.headcount, layout=booking.layout, slots=slots,
        purpose=booking.purpose, equipment=list(booking.equipment or []),
        catering=[CateringInput(item.option_id, item.quantity, item.times, item.day)
                  for item in booking.catering if item.option_id],
        notes=booking.notes, contact_phone=booking.contact_phone, rate_kind=booking.rate_kind,
        department=booking.department, category=booking.category)


# --- weekly series (internal meetings) --------------------------------------------------------


@dataclass
class SeriesInput:
    title: str
    department: str
    venue_id: int
    weekday: int
    start: time
    end: time
    first_day: date
    last_day: date
    headcount: int
    layout: str
    rate_kind: str = pricing.RateKind.INTERNAL
    skip_conflicts: bool = False


class SeriesConflict(Conflict):
    def __init__(self, days: list[date]):
        super().__init__(_l("These dates are taken: %(days)s. Tick \"skip taken dates\" to "
                            "book the others.", days=", ".join(d.isoformat() for d in days)),
                         field="first_day")
        self.days = days


def series_dates(data: SeriesInput) -> list[date]:
    first = data.first_day + timedelta(days=(data.weekday - data.first_day.weekday()) % 7)
    return [first + timedelta(weeks=n)
            for n in range(((data.last_day - first).days // 7) + 1) if first <= data.last_day]


def create_series(user, data: SeriesInput) -> BookingSeries:
    """Staff book a weekly meeting; each date becomes an approved booking of the series.

    Taken dates are refused with their list, or skipped when asked; the other dates are
    booked in one transaction.
    """
    if user.role not in STAFF:
        raise NotAllowed(_l("Only bureau staff can book recurring meetings."))
    if not data.department.strip():
        raise ServiceError(_l("This field is required."), field="department")
    if data.last_day < data.first_day:
        raise ServiceError(_l("The last day cannot be before the first day."),
                           field="last_day")
    if (data.last_day - data.first_day).days > current_app.config["BOOKING_HORIZON_DAYS"]:
        raise ServiceError(_l("Bookings open %(days)d days ahead; choose an earlier date.",
                              days=current_app.config["BOOKING_HORIZON_DAYS"]),
                           field="last_day")
    days = series_dates(data)
    if not days:
        raise ServiceError(_l("No such weekday between these dates."), field="weekday")

    def one(day: date) -> BookingInput:
        return BookingInput(title=data.title, headcount=data.headcount, layout=data.layout,
                            slots=[SlotInput(data.venue_id, day, "custom", data.start,
                                             data.end)],
                            rate_kind=data.rate_kind, department=data.department)

    def check(day: date) -> dict[int, Venue]:
        try:
            return validate(user, one(day))
        except ServiceError as error:
            problems = Problems()
            for problem in error.problems:
                if isinstance(problem, SlotError):  # the series form's dates, times, venue
                    problems.add(problem.message, {
                        "day": "first_day" if day == days[0] else "last_day",
                        "session": "start"}.get(problem.part, problem.part))
                else:
                    problems.add(problem)
            problems.raise_any()
            raise

    venues = check(days[0])
    for day in days[1:]:
        check(day)
    venue = venues[data.venue_id]
    with write_transaction():
        taken = []
        for day in days:
            _, _, blocked_from, blocked_until = slot_period(
                venue, SlotInput(venue.id, day, "custom", data.start, data.end))
            if busy_slots([venue.id], blocked_from, blocked_until):
                taken.append(day)
        if taken and not data.skip_conflicts:
            raise SeriesConflict(taken)
        series = BookingSeries(
            title=data.title.strip(), department=data.department.strip(), venue_id=venue.id,
            weekday=data.weekday, starts_at_time=data.start, ends_at_time=data.end,
            first_day=data.first_day, last_day=data.last_day, headcount=data.headcount,
            layout=data.layout, rate_kind=data.rate_kind, created_by_id=user.id)
        db.session.add(series)
        db.session.flush()
        for day in days:
            if day in taken:
                continue
            book_internal(user, one(day), series_id=series.id)
    return series


def book_internal(user, data: BookingInput, series_id: int | None = None) -> Booking:
    """Staff book a room for the government themselves (a weekly series' date, a joint
    meeting's room): the request of the booking form — its rules, its pricing at the rate
    asked for, its conflict check and answer (:class:`BookingConflict`) — approved at once,
    without mail.  Inside a caller's write transaction it is a savepoint of that transaction,
    so the caller's own records and the booking are saved together or not at all."""
    if user.role not in STAFF:
        raise NotAllowed(_l("Only bureau staff can book at the internal rate."),
                         field="rate_kind")
    booking = request_booking(user, data, series_id=series_id, notify=False)
    return transition(booking, "approve", user, notify=False)  # staff booked it themselves


# --- the service team's day -----------------------------------------------------------------


def active_slots_meeting(start: datetime, end: datetime):
    """SQL: an active slot whose time (without its buffers) meets [start, end).

    A slot lies within its blocked period (the check constraint buffers_around), so its
    blocked period meets [start, end) too: said as well, it lets PostgreSQL find the slots
    through the overlap guard's GiST index instead of walking every active slot before
    ``end`` (today's run sheet read 200,000 slots to keep 260).  Its callers' windows are a
    day to a month, for which that index is the best plan whatever the dates: they run
    under ``generic_plans()``, which spares planning it on every request (the month
    overview's counts 3.8 -> 1.7 ms on the server, a month calendar's 2.6 -> 1.0)."""
    return sa.and_(VenueSlot.active,
                   overlaps(VenueSlot.starts_at, VenueSlot.ends_at, start, end),
                   overlaps(VenueSlot.blocked_from, VenueSlot.blocked_until, start, end,
                            guarded=True))


def on_day_condition(day: date):
    """SQL: an active slot of one local day (the run sheet's rows)."""
    start = local_datetime(day, time.min)
    return active_slots_meeting(start, start + timedelta(days=1))


def day_slots(day: date) -> list[VenueSlot]:
    """Every booked slot of one day, in venue and time order, for the run sheet (2 queries)."""
    with generic_plans():  # see active_slots_meeting
        return list(db.session.scalars(
            sa.select(VenueSlot).join(Booking, VenueSlot.booking_id == Booking.id)
            .where(on_day_condition(day))
            .options(selectinload(VenueSlot.venue), selectinload(VenueSlot.booking).options(
                selectinload(Booking.catering), selectinload(Booking.client),
                selectinload(Booking.slots)))
            .order_by(VenueSlot.starts_at, VenueSlot.venue_id)))


def run_sheet(day: date) -> list[tuple[VenueSlot, list[BookingCatering]]]:
    """The day's slots, each with the catering to serve: the booking's lines for that day
    (its "every day" lines and those dated that day), given with its first slot of the day
    only, so that a booking in several rooms is served once."""
    rows, seen = [], set()
    for slot in day_slots(day):
        rows.append((slot, [] if slot.booking_id in seen else slot.booking.catering_on(day)))
        seen.add(slot.booking_id)
    return rows


def catering_summary(day: date) -> tuple[list[tuple[Booking, list[BookingCatering]]],
                                         dict[str, int]]:
    """The canteen's day: the bookings served that day with their lines for that day, and
    the totals by kind (an "every day" line counts on each day of its booking, a dated line
    on its day only)."""
    bookings = [(slot.booking, items) for slot, items in run_sheet(day) if items]
    totals = {kind: 0 for kind in pricing.CateringKind.ALL}
    for _booking, items in bookings:
        for item in items:
            totals[item.kind] += item.servings
    return bookings, totals


# --- the lifecycle -------------------------------------------------------------------------


def actions_for(user, booking: Booking) -> list[Transition]:
    """The lifecycle buttons this user's page offers (from the one table and its rules)."""
    return WORKFLOW.offered(booking, user)


def cancel_cutoff(booking: Booking) -> datetime:
    return booking.starts_at - timedelta(hours=current_app.config["BOOKING_CANCEL_CUTOFF_HOURS"])


def cancellable_by_client(booking: Booking) -> bool:
    return utcnow() < cancel_cutoff(booking)


def transition(booking: Booking, name: str, user=None, reason: str = "", notify: bool = True,
               expected: str | None = None, **details) -> Booking:
    """Move a booking through its lifecycle (the one mechanism: lock, re-check, write, audit,
    mail); the fresh booking."""

    def change(booking: Booking, step: Transition) -> None:
        booking.reason = reason.strip()
        booking.decided_at = utcnow()
        if step.target in S.RELEASES_SLOTS:
            # The periods that have not begun are freed; one that began happened and keeps
            # its true period (a period that ends early is shortened, never switched off).
            now = utcnow()
            for slot in booking.slots:
                if slot.starts_at > now:
                    slot.active = False
        if step.target not in S.ACTIVE:
            booking.expires_at = None
        if name == "approve":
            booking.expires_at = None
            booking.approved_quote = _current_quote(booking).as_dict()
            booking.deposit_fen = details.get("deposit_fen", 0)
            booking.deposit_due_on = details.get("deposit_due_on") or (
                default_deposit_due() if booking.deposit_fen else None)
        if name in ("resubmit", "take_offer"):
            booking.approved_quote = None
            booking.expires_at = utcnow() + timedelta(
                hours=current_app.config["BOOKING_EXPIRY_HOURS"])
        if name == "complete":
            booking.actual_headcount = (details.get("actual_headcount")
                                        or booking.arrived_headcount or booking.headcount)
            booking.extras_fen = details.get("extras_fen", 0)
            frozen = booking.approved_quote or {"total_fen": booking.quote_total_fen}
            booking.final_total_fen = frozen["total_fen"] + booking.extras_fen

    def after(booking: Booking, step: Transition, before: str) -> None:
        if before == S.OFFERED:
            from .waitlist import offer_settled

            offer_settled(booking, user)  # the waitlist entry: booked, or its offer lapsed
        if notify:
            _notify(booking)

    booking = WORKFLOW.apply(booking, name, user, reason=reason, expected=expected,
                             change=change, after=after, **details)
    if WORKFLOW.transitions[name].target in S.RELEASES_SLOTS:
        _after_slots_freed([slot.venue_id for slot in booking.slots])
    return booking


def _after_slots_freed(venue_ids) -> None:
    """Time was freed: once it is committed, offer it to the waitlists of those venues (the
    tick does the same for whatever this misses, so no failure here loses an offer)."""
    if db.session.info.get("portal_write"):
        return  # inside a caller's transaction: not committed yet; the tick offers it
    from .waitlist import offer_freed_time

    try:
        offer_freed_time(sorted(set(venue_ids)))
    except Exception:  # noqa: BLE001 - the step is committed; the next tick offers instead
        db.session.rollback()
        log.exception("waitlist offers after freed time failed; the tick will retry")


@dataclass
class Arrival:
    at: time | None  # local time of day today; None: now
    headcount: int
    extras: str = ""


def check_in(booking: Booking, user, arrival: Arrival, expected: str | None = None) -> Booking:
    """Record that the guests arrived (staff, on the day): a step of the one workflow (lock,
    re-check, write, audit) that keeps the booking approved; no mail."""
    now = utcnow()
    arrived_at = now
    if arrival.at is not None:
        arrived_at = local_datetime(local_today(), arrival.at)
        if arrived_at > now + timedelta(minutes=5):
            raise ServiceError(_l("The arrival time cannot be later than now."),
                               field="arrived_time")
    if arrival.headcount is None or arrival.headcount < 0:
        raise ServiceError(_l("Enter the number of people who came."),
                           field="arrived_headcount")

    def change(booking: Booking, step: Transition) -> None:
        booking.arrived_at = arrived_at
        booking.arrived_headcount = arrival.headcount
        booking.arrival_extras = (arrival.extras or "").strip()

    return WORKFLOW.apply(booking, "check_in", user, expected=expected, change=change)


def _current_quote(booking: Booking) -> pricing.Quote:
    venues = {slot.venue_id: slot.venue for slot in booking.slots}
    zone = local_zone()
    slots = []
    for slot in booking.slots:
        start, end = slot.starts_at.astimezone(zone), slot.ends_at.astimezone(zone)
        slots.append(pricing.SlotRequest(venues[slot.venue_id].name, start.date(), slot.session,
                                         start.time(), end.time(),
                                         _rates(venues[slot.venue_id], booking.rate_kind)))
    catering = [item.pricing_request() for item in booking.catering]
    return pricing.quote(slots, catering, booking.rate_kind)


def _notify(booking: Booking) -> None:
    """Tell the client (and the bookings desk) what happened, through the outbox."""
    link = base_url() + url_for("bookings.detail", booking_id=booking.id)
    context = {"booking": booking, "link": link,
               "status_label": BookingStatus.LABELS[booking.status]}
    if booking.client is not None:
        queue_email(booking.client.email, "booking_status", locale=booking.client.locale,
                    **context)
    desk = current_app.config.get("BOOKINGS_DESK_EMAIL")
    if desk:
        queue_email(desk, "booking_status", **context)


HOLD_WARNING_HOURS = 24  # a request whose hold ends within this many hours: decide it now


def expiring_hold_condition(now: datetime | None = None):
    """SQL: requests whose hold on their slots ends within :data:`HOLD_WARNING_HOURS` (the
    queue's ``expiring=1`` filter and the staff's work list)."""
    now = now or utcnow()
    return sa.and_(Booking.status == S.REQUESTED,
                   Booking.expires_at <= now + timedelta(hours=HOLD_WARNING_HOURS))


def upcoming_condition(now: datetime | None = None):
    """SQL: approved bookings still to begin (a client's ``upcoming=1`` filter)."""
    return sa.and_(Booking.status == S.APPROVED, Booking.starts_at >= (now or utcnow()))


def expire_stale_requests() -> int:
    """Requests nobody acted on in time release their slots (run by ``tick``)."""
    count = 0
    stale = db.session.scalars(sa.select(Booking.id).where(
        Booking.status.in_((S.OFFERED, S.REQUESTED)), Booking.expires_at <= utcnow())).all()
    for booking_id in stale:
        booking = db.session.get(Booking, booking_id)
        try:
            transition(booking, "expire")
            count += 1
        except NotAllowed:
            continue  # another tick or a member of staff got there first
    return count


# --- blackouts ---------------------------------------------------------------------------------


def create_blackout(venue_id: int | None, starts_at: datetime, ends_at: datetime,
                    reason: str) -> Blackout:
    """Close one venue or the whole center; refused while active bookings are in the way."""
    if ends_at <= starts_at:
        raise ServiceError(lazy_pgettext("time", "The end must be after the start."),
                           field="ends_at")
    try:
        with write_transaction():
            venue_ids = [venue_id] if venue_id else list(db.session.scalars(sa.select(Venue.id)))
            # (staff only: every venue, public or not)
            in_the_way = busy_slots(venue_ids, starts_at, ends_at)
            if in_the_way:
                refs = sorted({s.booking.reference for s in in_the_way if s.booking})
                raise Conflict(_l("Move or cancel these bookings first: %(refs)s",
                                  refs=", ".join(refs) or "-"), field="starts_at")
            blackout = Blackout(venue_id=venue_id, starts_at=starts_at, ends_at=ends_at,
                                reason=reason.strip())
            db.session.add(blackout)
            for vid in venue_ids:
                db.session.add(VenueSlot(venue_id=vid, blackout=blackout, session="custom",
                                         starts_at=starts_at, ends_at=ends_at,
                                         blocked_from=starts_at, blocked_until=ends_at))
    except sa.exc.IntegrityError as error:
        if is_overlap_violation(error):
            raise Conflict(_l("A booking was made in that period a moment ago; reload and try "
                              "again."), field="starts_at") from None
        raise
    return blackout


# --- queries for pages -----------------------------------------------------------------------


def bookings_stmt(user, status: str = "", venue_id: int | None = None,
                  on_day: date | None = None, client: str = "", expiring: bool = False,
                  upcoming: bool = False):
    stmt = (sa.select(Booking).where(Booking.visible_to(user))
            .options(selectinload(Booking.slots).joinedload(VenueSlot.venue),
                     joinedload(Booking.client))
            .order_by(Booking.starts_at.desc(), Booking.id.desc()))
    if status:
        stmt = stmt.where(Booking.status == status)
    if expiring:
        stmt = stmt.where(expiring_hold_condition())
    if upcoming:
        stmt = stmt.where(upcoming_condition())
    if venue_id:
        stmt = stmt.where(Booking.id.in_(sa.select(VenueSlot.booking_id).where(
            VenueSlot.venue_id == venue_id)))
    if on_day:
        start = local_datetime(on_day, time.min)
        stmt = stmt.where(Booking.id.in_(sa.select(VenueSlot.booking_id).where(
            overlaps(VenueSlot.starts_at, VenueSlot.ends_at, start, start + timedelta(days=1)))))
    if client:
        like = f"%{client.strip()}%"
        stmt = stmt.where(sa.or_(Booking.department.ilike(like), Booking.client_id.in_(
            sa.select(User.id).where(sa.or_(User.name.ilike(like), User.organisation.ilike(like),
                                            User.email.ilike(like))))))
    return stmt


def calendar_slots(venue: Venue, first: date, days: int) -> list[VenueSlot]:
    """Active slots of one venue from ``first`` for ``days`` days (one query)."""
    start = local_datetime(first, time.min)
    with generic_plans():  # see active_slots_meeting
        return list(db.session.scalars(
            sa.select(VenueSlot).where(
                VenueSlot.venue_id == venue.id,
                active_slots_meeting(start, start + timedelta(days=days)))
            # Each slot's booking or blackout (one of them, many-to-one) joined in the same
            # statement: one round trip, not three.
            .options(joinedload(VenueSlot.booking), joinedload(VenueSlot.blackout))
            .order_by(VenueSlot.starts_at)))


OVERVIEW_PAGE = 25  # venues per page of the month overview


def month_overview(user, first: date, page: int = 1):
    """Visible venues (a page of them) and their active slots per local day of the month.

    Three queries whatever the data size: the venue count, a page of venue names, and the
    slot counts grouped by venue and local day in SQL.
    """
    days = calendar.monthrange(first.year, first.month)[1]
    visible = sa.and_(Venue.visible_to(user), Venue.active)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(Venue).where(visible))
    venues = db.session.execute(
        sa.select(Venue.id, Venue.name).where(visible).order_by(Venue.building, Venue.code)
        .limit(OVERVIEW_PAGE).offset((max(page, 1) - 1) * OVERVIEW_PAGE)).all()
    start = local_datetime(first, time.min)
    slot_day = local_day(VenueSlot.starts_at, start)
    counts: dict[tuple[int, date], int] = {}
    if venues:
        with generic_plans():  # see active_slots_meeting
            rows = db.session.execute(
                sa.select(VenueSlot.venue_id, slot_day.label("day"), sa.func.count())
                .where(VenueSlot.venue_id.in_([v.id for v in venues]),
                       active_slots_meeting(start, start + timedelta(days=days)))
                .group_by(VenueSlot.venue_id, slot_day)).all()
        for venue_id, day, count in rows:
            day = day if isinstance(day, date) else date.fromisoformat(day)
            counts[(venue_id, day)] = count
    return venues, counts, total


def upcoming_blackouts(limit: int = 50) -> list[Blackout]:
    return list(db.session.scalars(
        sa.select(Blackout).where(Blackout.ends_at > utcnow())
        .options(selectinload(Blackout.venue)).order_by(Blackout.starts_at).limit(limit)))
