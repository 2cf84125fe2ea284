"""The waitlist: clients queue for a taken period of a venue; freed time is offered in turn.

* **Joining** (:func:`join`): only for a period that is taken (a free one is answered "this
  slot is free" with the booking form's link), once per client, venue and overlapping time
  (:data:`~portal.bookings.models.WAITLIST_GUARD` in the database; checked first for the
  message).
* **Offering** (:func:`offer_freed_time`): the first waiting entry (first come, first served)
  whose period is now free and whose headcount the venue seats gets a *hold*: a booking in
  status ``offered`` in the client's name, for ``WAITLIST_HOLD_HOURS``, announced by mail and
  notification through the outbox.  Each offer runs in its own write transaction that locks
  the entry (``SELECT … FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``), re-checks it, and writes
  the hold, the entry's step and the mail together: a second tick, or the offer after another
  freeing step, finds the entry offered or the period held and does nothing.  The database
  backs this twice: the slot guard refuses a second hold on the period, and the entry's
  unique ``booking_id`` ties one hold to one entry.
* **When** offers are made: right after a step that frees time has committed (cancelled,
  rejected, expired, no-show, a booking moved), for its venues, and by every ``tick`` for all
  venues (what the first missed: a failure, time freed inside a longer transaction).  Both
  run the same locked function, so an offer is made once whichever comes first.
* **Taking** the offer is the booking's ``take_offer`` step (hold -> ordinary request); a hold
  declined, cancelled or expired closes the entry as lapsed and the next entry is offered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, selectinload, with_expression

from ..database import is_unique_violation, utcnow, write_transaction
from ..errors import NotAllowed, Problems, ServiceError
from ..extensions import db
from ..i18n import format_time_24, local_zone
from ..outbox.services import queue_email
from ..periods import overlaps, violates
from ..roles import Role
from ..urls import base_url
from ..workflow import SYSTEM, Transition, Workflow, locked
from . import pricing
from .models import (
    SLOT_GUARD,
    WAITLIST_GUARD,
    Booking,
    BookingStatus,
    Venue,
    VenueSlot,
    WaitlistEntry,
    WaitlistStatus,
)
from .services import (
    STAFF,
    BookingInput,
    SlotError,
    SlotInput,
    _replace_slots_and_details,
    busy_slots,
    check_times,
    price,
    slot_period,
    venues_stmt,
)

W = WaitlistStatus
log = logging.getLogger("portal.bookings")

WAITLIST = Workflow(
    W.ALL,
    [
        Transition("offer", (W.WAITING,), W.OFFERED, (SYSTEM,), _l("Offer")),
        Transition("take", (W.OFFERED,), W.BOOKED, (Role.CLIENT,), _l("Take the offer"),
                   owner_only=(Role.CLIENT,)),
        Transition("lapse", (W.WAITING, W.OFFERED), W.LAPSED, (SYSTEM,), _l("Lapse")),
        Transition("leave", (W.WAITING,), W.LEFT, (Role.CLIENT,), _l("Leave the waitlist"),
                   owner_only=(Role.CLIENT,)),
        Transition("remove", (W.WAITING,), W.REMOVED, STAFF, _l("Remove from the waitlist"),
                   needs_reason=True),
    ],
    labels=W.LABELS, noun=_l("This waitlist entry"),
    owner=lambda entry, actor: entry.client_id == actor.id,
)


def _step(entry: WaitlistEntry, name: str, actor, reason: str = "", expected=None,
          change=None, after=None) -> WaitlistEntry:
    """One waitlist step through the workflow; ``active`` follows the status."""

    def write(fresh: WaitlistEntry, step: Transition) -> None:
        if change is not None:
            change(fresh, step)
        fresh.active = step.target in W.ACTIVE
        if step.needs_reason:
            fresh.reason = reason.strip()

    return WAITLIST.apply(entry, name, actor, reason=reason, expected=expected, change=write,
                          after=after)


# --- joining --------------------------------------------------------------------------------


@dataclass
class WaitlistInput:
    venue_id: int
    day: date
    session: str
    start: time | None
    end: time | None
    headcount: int
    title: str = ""


class SlotIsFree(ServiceError):
    """The period asked for is free: book it instead (``link``: the booking form, filled)."""

    def __init__(self, link: str):
        super().__init__(_l("This slot is free: you can book it now."))
        self.link = link


def _fits(venue: Venue, headcount: int) -> bool:
    return headcount <= venue.max_capacity


def join(user, data: WaitlistInput) -> WaitlistEntry:
    """A client queues for a taken period; refused beside the field that is wrong."""
    if user.role != Role.CLIENT:
        raise NotAllowed(_l("Only clients can join a waitlist."))
    venue = db.session.scalar(venues_stmt(user).where(Venue.id == data.venue_id, Venue.active))
    problems = Problems()
    if venue is None:
        raise ServiceError(_l("That venue does not exist or cannot be booked."),
                           field="venue_id")
    if data.start is None or data.end is None:
        raise ServiceError(_l("Enter a time."), field="start")
    try:
        check_times(data.day, data.start, data.end, data.session)
        if data.start < venue.opens_at or data.end > venue.closes_at:
            raise SlotError(_l("%(venue)s is open from %(opens)s to %(closes)s.",
                               venue=venue.name, opens=format_time_24(venue.opens_at),
                               closes=format_time_24(venue.closes_at)),
                            "session" if data.session in pricing.SESSIONS else "start")
    except SlotError as error:
        problems.add(error.message, error.part)
    if not data.headcount or data.headcount < 1:
        problems.add(_l("Enter the number of people."), "headcount")
    elif not _fits(venue, data.headcount):
        problems.add(_l("%(venue)s seats at most %(n)d people.", venue=venue.name,
                        n=venue.max_capacity), "headcount")
    problems.raise_any()
    slot = SlotInput(venue.id, data.day, data.session, data.start, data.end)
    starts, ends, blocked_from, blocked_until = slot_period(venue, slot)
    time_field = "session" if data.session in pricing.SESSIONS else "start"
    try:
        with write_transaction():
            if not busy_slots([venue.id], blocked_from, blocked_until):
                raise SlotIsFree(url_for(
                    "bookings.book", venue_id=venue.id, day=data.day.isoformat(),
                    session=data.session, start=data.start.strftime("%H:%M"),
                    end=data.end.strftime("%H:%M"), headcount=data.headcount))
            if _duplicate(user.id, venue.id, starts, ends):
                raise ServiceError(_DUPLICATE, field=time_field)
            entry = WaitlistEntry(client_id=user.id, venue_id=venue.id, session=data.session,
                                  starts_at=starts, ends_at=ends, headcount=data.headcount,
                                  title=(data.title or "").strip())
            db.session.add(entry)
            db.session.flush()
    except sa.exc.IntegrityError as error:
        if violates(error, WAITLIST_GUARD):  # the same client twice at once: one entry
            raise ServiceError(_DUPLICATE, field=time_field) from None
        raise
    return entry


_DUPLICATE = _l("You are already on the waitlist of this venue for an overlapping time.")


def _duplicate(client_id: int, venue_id: int, starts: datetime, ends: datetime) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(
        WaitlistEntry.client_id == client_id, WaitlistEntry.venue_id == venue_id,
        WaitlistEntry.active,
        overlaps(WaitlistEntry.starts_at, WaitlistEntry.ends_at, starts, ends))))


def leave(user, entry: WaitlistEntry, expected: str | None = None) -> WaitlistEntry:
    return _step(entry, "leave", user, expected=expected)


def remove(user, entry: WaitlistEntry, reason: str, expected: str | None = None
           ) -> WaitlistEntry:
    return _step(entry, "remove", user, reason=reason, expected=expected)


# --- offering freed time ----------------------------------------------------------------------


def _free_now(entry_table):
    """SQL: no active slot of the entry's venue meets the entry's own period (the buffers are
    checked for each candidate before its hold is written)."""
    return ~sa.exists().where(
        VenueSlot.venue_id == entry_table.venue_id, VenueSlot.active,
        overlaps(VenueSlot.blocked_from, VenueSlot.blocked_until,
                 entry_table.starts_at, entry_table.ends_at))


def offer_freed_time(venue_ids: list[int] | None = None) -> int:
    """Offer freed periods to the waitlists (of these venues, or all): each waiting entry in
    queue order whose period is free gets a hold.  The number of offers made."""
    now = utcnow()
    stmt = (sa.select(WaitlistEntry.id)
            .where(WaitlistEntry.status == W.WAITING, WaitlistEntry.starts_at > now,
                   _free_now(WaitlistEntry))
            .order_by(WaitlistEntry.id))
    if venue_ids is not None:
        if not venue_ids:
            return 0
        stmt = stmt.where(WaitlistEntry.venue_id.in_(venue_ids))
    candidates = list(db.session.scalars(stmt))
    db.session.rollback()  # end the read snapshot before the offers' write transactions
    return sum(1 for entry_id in candidates if _offer(entry_id))


def _offer(entry_id: int) -> bool:
    """Offer one entry a hold, if it is still waiting and its period still free (locked)."""
    try:
        with write_transaction():
            entry = db.session.get(WaitlistEntry, entry_id)
            entry = locked(entry) if entry is not None else None
            if entry is None or entry.status != W.WAITING or entry.starts_at <= utcnow():
                return False
            venue = db.session.get(Venue, entry.venue_id)
            data = entry_input(entry, venue)
            _, _, blocked_from, blocked_until = slot_period(venue, data.slots[0])
            if (not venue.active or not _fits(venue, entry.headcount)
                    or busy_slots([venue.id], blocked_from, blocked_until)):
                return False
            booking = Booking(
                client_id=entry.client_id, created_by_id=None, status=BookingStatus.OFFERED,
                rate_kind=pricing.RateKind.EXTERNAL,
                expires_at=utcnow() + timedelta(hours=current_app.config["WAITLIST_HOLD_HOURS"]))
            db.session.add(booking)
            _replace_slots_and_details(booking, data, {venue.id: venue},
                                       price(data, {venue.id: venue}), [])
            db.session.flush()

            def change(fresh: WaitlistEntry, step: Transition) -> None:
                fresh.booking_id = booking.id
                fresh.offered_at = utcnow()

            _step(entry, "offer", None, change=change,
                  after=lambda fresh, step, before: _announce(fresh, booking))
    except sa.exc.IntegrityError as error:
        # Another offer won the race: the period is held (slot guard) or the entry's offer is
        # made (unique booking_id).  Nothing of this attempt is saved.
        if violates(error, SLOT_GUARD) or is_unique_violation(error):
            log.info("waitlist offer %s lost a race; nothing written", entry_id)
            return False
        raise
    return True


def entry_input(entry: WaitlistEntry, venue: Venue) -> BookingInput:
    """The request a hold is made of: the entry's period, headcount and title, in the
    venue's largest layout (the client may change it once they take the offer)."""
    zone = local_zone()
    start, end = entry.starts_at.astimezone(zone), entry.ends_at.astimezone(zone)
    layout = max(venue.layouts, key=lambda item: item.capacity).layout
    return BookingInput(
        title=entry.title or venue.name, headcount=entry.headcount, layout=layout,
        slots=[SlotInput(venue.id, start.date(), entry.session, start.time(), end.time())])


def _announce(entry: WaitlistEntry, booking: Booking) -> None:
    """The offer by mail and in-app notification (the outbox makes both), in the same
    transaction as the hold: an offer that loses a race sends nothing."""
    client = entry.client
    link = base_url() + url_for("bookings.detail", booking_id=booking.id)
    queue_email(client.email, "waitlist_offer", locale=client.locale, booking=booking,
                entry=entry, venue=entry.venue, link=link)


def offer_settled(booking: Booking, actor) -> None:
    """A hold offered from the waitlist left ``offered`` (inside its step's transaction): the
    entry is booked when the client took it, lapsed otherwise (declined, cancelled by staff,
    expired) -- after which the time it frees goes to the next in the queue."""
    entry = db.session.scalar(sa.select(WaitlistEntry).where(
        WaitlistEntry.booking_id == booking.id))
    if entry is None or entry.status != W.OFFERED:
        return
    if booking.status == BookingStatus.REQUESTED:
        _step(entry, "take", actor)
    else:
        _step(entry, "lapse", None)


def lapse_past_entries() -> int:
    """Waiting entries whose period has begun leave the queue (run by ``tick``)."""
    ids = list(db.session.scalars(sa.select(WaitlistEntry.id).where(
        WaitlistEntry.status == W.WAITING, WaitlistEntry.starts_at <= utcnow())))
    db.session.rollback()
    count = 0
    for entry_id in ids:
        try:
            _step(db.session.get(WaitlistEntry, entry_id), "lapse", None)
            count += 1
        except NotAllowed:
            continue  # another tick, or the client, got there first
    return count


# --- lists -------------------------------------------------------------------------------------


def _ahead():
    """SQL: how many waiting entries are ahead of the entry in its queue (the same venue, an
    overlapping period, joined earlier)."""
    other = aliased(WaitlistEntry)
    return (sa.select(sa.func.count()).select_from(other)
            .where(other.venue_id == WaitlistEntry.venue_id, other.status == W.WAITING,
                   other.id < WaitlistEntry.id,
                   overlaps(other.starts_at, other.ends_at, WaitlistEntry.starts_at,
                            WaitlistEntry.ends_at))
            .correlate(WaitlistEntry).scalar_subquery())


def place_of(entry: WaitlistEntry) -> int | None:
    """The entry's place in its queue (1: next to be offered), None once it is not waiting."""
    if entry.status != W.WAITING:
        return None
    return db.session.scalar(sa.select(_ahead() + 1).where(WaitlistEntry.id == entry.id))


def mine_stmt(user):
    """A client's entries, newest first, each with the number ahead of it (``ahead``)."""
    return (sa.select(WaitlistEntry).where(WaitlistEntry.client_id == user.id)
            .options(with_expression(WaitlistEntry.ahead, _ahead()),
                     selectinload(WaitlistEntry.venue), selectinload(WaitlistEntry.booking))
            .order_by(WaitlistEntry.id.desc()))


def venue_stmt(venue_id: int, everything: bool = False):
    """A venue's queue for staff: the entries in the queue (or every entry), by period and
    then first come first (each with ``ahead``)."""
    stmt = (sa.select(WaitlistEntry).where(WaitlistEntry.venue_id == venue_id)
            .options(with_expression(WaitlistEntry.ahead, _ahead()),
                     selectinload(WaitlistEntry.client), selectinload(WaitlistEntry.booking))
            .order_by(WaitlistEntry.starts_at, WaitlistEntry.id))
    if not everything:
        stmt = stmt.where(WaitlistEntry.active)
    return stmt


def waiting_count(venue_id: int) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(WaitlistEntry).where(
        WaitlistEntry.venue_id == venue_id, WaitlistEntry.active))
