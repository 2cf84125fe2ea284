"""Calendar files: an ``.ics`` per booking, and private iCal feed addresses.

* ``/venues/bookings/<id>.ics``: one booking, one VEVENT per slot, for its client or staff.
* A client's **personal feed** lists all their bookings; a member of staff's **venue feed**
  lists one venue's active bookings and blackouts.  Calendar apps cannot log in, so the feed
  address carries a random secret (``secrets.token_urlsafe(32)``) that is shown once; only its
  SHA-256 is stored (:class:`~.models.CalendarFeed`), like the one-time tokens of accounts.
  Creating a new address revokes the previous one (a client has one personal feed; a member of
  staff one feed per venue); a revoked or unknown address answers 404.
* A feed also stops working when its owner's account is deactivated, and a venue feed when its
  creator is no longer staff, so no address outlives the person it was given to.

What a feed lists (the UID of an event is its slot's, so calendar apps update events in place):

* personal: slots of the client's bookings in every state except ``rejected`` and ``expired``
  (requests that never held a place); cancelled ones stay, marked ``STATUS:CANCELLED``, so that
  subscribed calendars show the cancellation;
* venue: the venue's active slots (requested and approved bookings, blackouts), with the
  customer's name or organisation (staff only: the address is the secret);
* both: events that ended less than :data:`FEED_HISTORY_DAYS` ago, and all later ones.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import abort, current_app, flash, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from icalendar import Event
from sqlalchemy.orm import contains_eager, selectinload

from ..auth.models import User
from ..authz import log_denied, role_required, staff_required, visible_or_404
from ..database import utcnow, write_transaction
from ..errors import NotAllowed
from ..extensions import db, limiter
from ..htmx import redirect_to, render
from ..ical import ics_response, new_calendar, time_line, uid_domain
from ..roles import Role
from ..security import safe_next
from ..urls import base_url
from ..workflow import locked
from . import bp
from .models import Booking, BookingStatus, CalendarFeed, Layout, Venue, VenueSlot
from .services import STAFF

S = BookingStatus
FEED_HISTORY_DAYS = 365
# A personal feed leaves out requests that never held a place.
PERSONAL_FEED_STATUSES = (S.REQUESTED, S.APPROVED, S.COMPLETED, S.CANCELLED, S.NO_SHOW)
# iCalendar STATUS of a booking's events; every other state is CANCELLED.
ICS_STATUS = {S.REQUESTED: "TENTATIVE", S.APPROVED: "CONFIRMED", S.COMPLETED: "CONFIRMED"}
MAX_TOKEN_LENGTH = 128
CREATE_LIMIT = "10 per minute"


# --- tokens -----------------------------------------------------------------------------------


def hash_token(raw: str) -> str:
    """What is stored of a feed's secret (the same SHA-256 as account tokens)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def feed_url(raw: str) -> str:
    """The absolute address a calendar app subscribes to."""
    return base_url() + url_for("bookings.feed", token=raw)


def webcal_url(url: str) -> str:
    """The same address as ``webcal://``, which opens the calendar app's subscribe dialog."""
    parts = urlsplit(url)
    return parts._replace(scheme="webcal").geturl()


# --- services ---------------------------------------------------------------------------------


def _lock_owner(user) -> None:
    """Serialise feed creation per user (PostgreSQL; SQLite's BEGIN IMMEDIATE already does)."""
    locked(user)


def _revoke_where(*conditions) -> None:
    db.session.execute(
        sa.update(CalendarFeed)
        .where(*conditions, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def create_personal_feed(user) -> tuple[CalendarFeed, str]:
    """A client's new feed address; their previous one stops working.  Returns (feed, secret)."""
    if user.role != Role.CLIENT:
        raise NotAllowed(_l("Only clients have a calendar of their own bookings."))
    raw = secrets.token_urlsafe(32)
    with write_transaction():
        _lock_owner(user)
        _revoke_where(CalendarFeed.user_id == user.id)
        feed = CalendarFeed(user_id=user.id, created_by_id=user.id, token_hash=hash_token(raw))
        db.session.add(feed)
    return feed, raw


def create_feed_for_venue(user, venue: Venue) -> tuple[CalendarFeed, str]:
    """A member of staff's feed of one venue; their previous one of that venue stops working."""
    if user.role not in STAFF:
        raise NotAllowed(_l("Only bureau staff can subscribe to a venue's calendar."))
    raw = secrets.token_urlsafe(32)
    with write_transaction():
        _lock_owner(user)
        _revoke_where(CalendarFeed.venue_id == venue.id, CalendarFeed.created_by_id == user.id)
        feed = CalendarFeed(venue_id=venue.id, created_by_id=user.id, token_hash=hash_token(raw))
        db.session.add(feed)
    return feed, raw


def owned_by(user):
    """Feeds this user may see and revoke: their personal one, and venue feeds they created."""
    return sa.or_(
        CalendarFeed.user_id == user.id,
        sa.and_(CalendarFeed.venue_id.is_not(None), CalendarFeed.created_by_id == user.id),
    )


def revoke(feed: CalendarFeed) -> CalendarFeed:
    """The address stops working at once (revoking twice is harmless)."""
    with write_transaction():
        feed = locked(feed)
        if feed.revoked_at is None:
            feed.revoked_at = utcnow()
    return feed


@dataclass
class ActiveFeeds:
    """The current user's live addresses: for the links partial."""

    personal: CalendarFeed | None = None
    venues: dict[int, CalendarFeed] = field(default_factory=dict)


def active_feeds(user) -> ActiveFeeds:
    """One query: the user's feeds that still work."""
    result = ActiveFeeds()
    if not getattr(user, "is_authenticated", False):
        return result
    for feed in db.session.scalars(
        sa.select(CalendarFeed).where(owned_by(user), CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.created_at, CalendarFeed.id)
    ):
        if feed.user_id is not None:
            result.personal = feed
        else:
            result.venues[feed.venue_id] = feed
    return result


def find_feed(raw: str) -> tuple[CalendarFeed, User] | None:
    """The live feed with this secret and its owner (one query), or None."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        return None
    owner_id = sa.func.coalesce(CalendarFeed.user_id, CalendarFeed.created_by_id)
    row = db.session.execute(
        sa.select(CalendarFeed, User).join(User, User.id == owner_id).where(
            CalendarFeed.token_hash == hash_token(raw),
            CalendarFeed.revoked_at.is_(None),
            User.active,
            sa.or_(CalendarFeed.user_id.is_not(None), User.role.in_(STAFF)),
        )
    ).first()
    return (row[0], row[1]) if row else None


def _since() -> datetime:
    return utcnow() - timedelta(days=FEED_HISTORY_DAYS)


def personal_slots(user_id: int) -> list[VenueSlot]:
    """The slots of a client's feed (two queries whatever the data size)."""
    return list(db.session.scalars(
        sa.select(VenueSlot).join(VenueSlot.booking)
        .where(Booking.client_id == user_id, Booking.status.in_(PERSONAL_FEED_STATUSES),
               VenueSlot.ends_at >= _since())
        .options(contains_eager(VenueSlot.booking), selectinload(VenueSlot.venue))
        .order_by(VenueSlot.starts_at, VenueSlot.id)))


def venue_slots(venue_id: int) -> list[VenueSlot]:
    """The active slots of a venue's feed (four queries whatever the data size)."""
    return list(db.session.scalars(
        sa.select(VenueSlot)
        .where(VenueSlot.venue_id == venue_id, VenueSlot.active, VenueSlot.ends_at >= _since())
        .options(selectinload(VenueSlot.booking).selectinload(Booking.client),
                 selectinload(VenueSlot.blackout))
        .order_by(VenueSlot.starts_at, VenueSlot.id)))


# --- iCalendar --------------------------------------------------------------------------------


def location(venue: Venue) -> str:
    where = " ".join(part for part in (venue.building, venue.floor) if part)
    return _("%(name)s (%(detail)s)", name=venue.name, detail=where) if where else venue.name


def _customer(booking: Booking) -> str:
    if booking.client is not None:
        return booking.client.organisation or booking.client.name
    return booking.department


def _detail_link(booking: Booking) -> str:
    return base_url() + url_for("bookings.detail", booking_id=booking.id)


def _event(slot: VenueSlot, venue: Venue, summary: str, description: list[str], status: str,
           stamp: datetime, url: str | None = None) -> Event:
    event = Event()
    event.add("uid", f"slot-{slot.id}@{uid_domain()}")
    event.add("dtstamp", stamp)
    event.add("dtstart", slot.starts_at)  # aware UTC: written as ...Z
    event.add("dtend", slot.ends_at)
    event.add("summary", summary)
    event.add("location", location(venue))
    event.add("description", "\n".join(description))
    event.add("status", status)
    event.add("transp", "TRANSPARENT" if status == "CANCELLED" else "OPAQUE")
    if url:
        event.add("url", url)
    return event


def _booking_event(slot: VenueSlot, booking: Booking, stamp: datetime,
                   venue: Venue | None = None, for_staff: bool = False) -> Event:
    summary = booking.title
    lines = [_("Booking %(ref)s", ref=booking.reference), time_line(slot.starts_at, slot.ends_at),
             _("Status: %(status)s", status=str(S.LABELS[booking.status]))]
    if for_staff:
        summary = _("%(name)s (%(detail)s)", name=booking.title, detail=_customer(booking))
        lines += [_("Customer: %(name)s", name=_customer(booking)),
                  _("Number of people: %(n)d", n=booking.headcount),
                  _("Layout: %(layout)s", layout=str(Layout.LABELS.get(booking.layout,
                                                                         booking.layout)))]
    link = _detail_link(booking)
    lines.append(link)
    return _event(slot, venue or slot.venue, summary, lines,
                  ICS_STATUS.get(booking.status, "CANCELLED"), stamp, link)


def booking_calendar(booking: Booking) -> bytes:
    """One booking as an .ics file: one event per slot."""
    calendar = new_calendar(f"{booking.reference} {booking.title}")
    stamp = utcnow()
    for slot in booking.slots:
        calendar.add_component(_booking_event(slot, booking, stamp))
    return calendar.to_ical()


def personal_calendar(owner: User) -> bytes:
    calendar = new_calendar(_("My conference center bookings"))
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = utcnow()
    for slot in personal_slots(owner.id):
        calendar.add_component(_booking_event(slot, slot.booking, stamp))
    return calendar.to_ical()


def venue_calendar(venue: Venue) -> bytes:
    calendar = new_calendar(_("%(venue)s: bookings", venue=venue.name))
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    stamp = utcnow()
    for slot in venue_slots(venue.id):
        if slot.booking is not None:
            calendar.add_component(_booking_event(slot, slot.booking, stamp, venue,
                                                  for_staff=True))
        elif slot.blackout is not None:
            reason = slot.blackout.reason
            calendar.add_component(_event(
                slot, venue, _("Closed: %(reason)s", reason=reason),
                [time_line(slot.starts_at, slot.ends_at),
                 _("The venue cannot be booked in this period.")], "CONFIRMED", stamp))
    return calendar.to_ical()


def feed_calendar(feed: CalendarFeed, owner: User) -> bytes:
    """A feed's calendar, in its owner's language (calendar apps send no useful one)."""
    with force_locale(owner.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        if feed.user_id is not None:
            return personal_calendar(owner)
        venue = db.session.get(Venue, feed.venue_id)
        return venue_calendar(venue)


# --- routes -----------------------------------------------------------------------------------


@bp.route("/bookings/<int:booking_id>.ics")
@login_required
def booking_ics(booking_id: int):
    booking = visible_or_404(Booking, booking_id,
                             selectinload(Booking.slots).selectinload(VenueSlot.venue))
    return ics_response(booking_calendar(booking), f"{booking.reference}.ics")


@bp.route("/feeds/<token>.ics")
def feed(token: str):
    """A feed, for calendar apps: no login, the secret in the address is the key."""
    found = find_feed(token)
    if found is None:
        abort(404)
    response = ics_response(feed_calendar(*found), cache_control="private, no-store")
    response.headers["X-Robots-Tag"] = "noindex"
    return response


def _feed_created(feed: CalendarFeed, raw: str, title: str, back: str):
    url = feed_url(raw)
    response = render("bookings/feed_created.html", feed=feed, url=url, webcal=webcal_url(url),
                      title=title, back=back)
    response.headers["Cache-Control"] = "no-store"  # the secret is on this page only
    return response


def _back(default: str) -> str:
    return safe_next(request.form.get("next"), default)


@bp.route("/feeds", methods=["POST"])
@limiter.limit(CREATE_LIMIT)
@role_required(Role.CLIENT)
def create_feed():
    feed_row, raw = create_personal_feed(current_user._get_current_object())
    return _feed_created(feed_row, raw, _("Your calendar address"),
                         _back(url_for("bookings.mine")))


@bp.route("/<int:venue_id>/feeds", methods=["POST"])
@limiter.limit(CREATE_LIMIT)
@staff_required
def create_venue_feed(venue_id: int):
    venue = visible_or_404(Venue, venue_id)
    feed_row, raw = create_feed_for_venue(current_user._get_current_object(), venue)
    return _feed_created(feed_row, raw, _("Calendar address of %(venue)s", venue=venue.name),
                         _back(url_for("bookings.venue", venue_id=venue.id)))


@bp.route("/feeds/<int:feed_id>/revoke", methods=["POST"])
@login_required
def revoke_feed(feed_id: int):
    user = current_user._get_current_object()
    item = db.session.scalar(
        sa.select(CalendarFeed).where(CalendarFeed.id == feed_id, owned_by(user)))
    if item is None:
        if db.session.get(CalendarFeed, feed_id) is not None:
            log_denied(f"CalendarFeed {feed_id} is not this user's")
        abort(404)
    revoke(item)
    flash(_("The calendar address is revoked: calendar apps using it get nothing more."),
          "success")
    default = (url_for("bookings.venue", venue_id=item.venue_id) if item.venue_id
               else url_for("bookings.mine"))
    return redirect_to(_back(default))


@bp.app_template_global("calendar_feeds")
def calendar_feeds() -> ActiveFeeds:
    """The current user's live feed addresses, for ``bookings/_calendar_links.html``."""
    return active_feeds(current_user)
