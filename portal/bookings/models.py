"""Conference-center and canteen bookings.

Every period that occupies a venue is a :class:`VenueSlot` row: a booked slot (with its setup
and cleanup buffers in ``blocked_from``/``blocked_until``) or a blackout.  One database guard
(:data:`SLOT_GUARD`) forbids two active slots of a venue from overlapping, so double bookings
and bookings inside a blackout are impossible whatever the application does.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..audit.services import Audited
from ..database import UTCDateTime, raw_objects, utcnow
from ..extensions import db
from ..i18n import local_zone
from ..page_cache import cache_scope, key, shared_key
from ..periods import PeriodGuard
from ..roles import Role
from ..uploads import PhotoColumns
from . import pricing

SLOT_GUARD = PeriodGuard(
    table="venue_slot", resource="venue_id", start="blocked_from", end="blocked_until",
    active="active",
)


class Layout:
    THEATRE = "theatre"
    CLASSROOM = "classroom"
    BOARDROOM = "boardroom"
    BANQUET = "banquet"
    ALL = (THEATRE, CLASSROOM, BOARDROOM, BANQUET)
    LABELS = {
        THEATRE: _l("Theatre"), CLASSROOM: _l("Classroom"), BOARDROOM: _l("Boardroom"),
        BANQUET: _l("Banquet tables"),
    }


class Equipment:
    PROJECTOR = "projector"
    LED_SCREEN = "led_screen"
    VIDEO_CONFERENCE = "video_conference"
    INTERPRETATION = "interpretation"
    SOUND = "sound"
    STAGE = "stage"
    ALL = (PROJECTOR, LED_SCREEN, VIDEO_CONFERENCE, INTERPRETATION, SOUND, STAGE)
    LABELS = {
        PROJECTOR: _l("Projector"), LED_SCREEN: _l("LED screen"),
        VIDEO_CONFERENCE: _l("Video conferencing"),
        INTERPRETATION: _l("Simultaneous interpretation"), SOUND: _l("Sound system"),
        STAGE: _l("Stage"),
    }


class VenueKind:
    MEETING_ROOM = "meeting_room"
    HALL = "hall"
    BANQUET_HALL = "banquet_hall"
    ALL = (MEETING_ROOM, HALL, BANQUET_HALL)
    LABELS = {MEETING_ROOM: _l("Meeting room"), HALL: _l("Hall"),
              BANQUET_HALL: _l("Banquet hall")}


class BookingStatus:
    # A slot freed for the first client on its waitlist, held in their name until they take
    # it (it then becomes a request) or the hold lapses.
    OFFERED = "offered"
    REQUESTED = "requested"
    APPROVED = "approved"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    NO_SHOW = "no_show"
    ALL = (OFFERED, REQUESTED, APPROVED, COMPLETED, REJECTED, CANCELLED, EXPIRED, NO_SHOW)
    ACTIVE = (OFFERED, REQUESTED, APPROVED)  # still to take place: these hold their slots
    # Ending here frees the slots that have not begun; a held booking keeps its periods.
    RELEASES_SLOTS = (REJECTED, CANCELLED, EXPIRED, NO_SHOW)
    LABELS = {
        OFFERED: lazy_pgettext("booking status", "Offered from the waitlist"),
        REQUESTED: lazy_pgettext("booking status", "Requested"),
        APPROVED: lazy_pgettext("booking status", "Approved"),
        COMPLETED: lazy_pgettext("booking status", "Completed"),
        REJECTED: lazy_pgettext("booking status", "Rejected"),
        CANCELLED: lazy_pgettext("booking status", "Cancelled"),
        EXPIRED: lazy_pgettext("booking status", "Expired"),
        NO_SHOW: lazy_pgettext("booking status", "No-show"),
    }


def _money(name: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{name} >= 0", name=f"{name}_not_negative")


class Venue(Audited, db.Model):
    __tablename__ = "venue"
    __table_args__ = (
        sa.CheckConstraint("opens_at < closes_at", name="opening_hours"),
        sa.CheckConstraint("setup_minutes >= 0 AND cleanup_minutes >= 0", name="buffers"),
        sa.CheckConstraint("kind IN ('meeting_room', 'hall', 'banquet_hall')", name="kind_known"),
        *(_money(f"{kind}_{rate}_fen") for kind in ("external", "internal")
          for rate in ("half_day", "evening", "full_day")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(sa.String(20))
    building: Mapped[str] = mapped_column(sa.String(100))
    floor: Mapped[str] = mapped_column(sa.String(20), default="")
    description: Mapped[str] = mapped_column(sa.Text, default="")
    opens_at: Mapped[time] = mapped_column(sa.Time, default=time(8, 0))
    closes_at: Mapped[time] = mapped_column(sa.Time, default=time(22, 0))
    setup_minutes: Mapped[int] = mapped_column(default=30)
    cleanup_minutes: Mapped[int] = mapped_column(default=30)
    public: Mapped[bool] = mapped_column(default=True)  # outside clients may book it
    active: Mapped[bool] = mapped_column(default=True)
    external_half_day_fen: Mapped[int] = mapped_column(default=0)
    external_evening_fen: Mapped[int] = mapped_column(default=0)
    external_full_day_fen: Mapped[int] = mapped_column(default=0)
    internal_half_day_fen: Mapped[int] = mapped_column(default=0)
    internal_evening_fen: Mapped[int] = mapped_column(default=0)
    internal_full_day_fen: Mapped[int] = mapped_column(default=0)

    photos: Mapped[list[VenuePhoto]] = relationship(
        back_populates="venue", cascade="all, delete-orphan", order_by="VenuePhoto.id"
    )
    layouts: Mapped[list[VenueLayout]] = relationship(
        back_populates="venue", cascade="all, delete-orphan", order_by="VenueLayout.capacity.desc()"
    )
    equipment: Mapped[list[VenueEquipment]] = relationship(
        back_populates="venue", cascade="all, delete-orphan"
    )

    @property
    def max_capacity(self) -> int:
        return max((layout.capacity for layout in self.layouts), default=0)

    def capacity_for(self, layout: str) -> int:
        return next((item.capacity for item in self.layouts if item.layout == layout), 0)

    @property
    def equipment_codes(self) -> set[str]:
        return {item.equipment for item in self.equipment}

    @classmethod
    def visible_to(cls, user):
        """Outside clients and visitors see public venues only; staff see all."""
        if getattr(user, "is_authenticated", False) and user.role in Role.BUREAU:
            return sa.true()
        return sa.and_(cls.public, cls.active)


class VenuePhoto(Audited, PhotoColumns, db.Model):
    __tablename__ = "venue_photo"

    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venue.id", ondelete="CASCADE"),
                                          index=True)

    venue: Mapped[Venue] = relationship(back_populates="photos")


class VenueLayout(db.Model):
    __tablename__ = "venue_layout"
    __table_args__ = (
        sa.CheckConstraint("capacity > 0", name="capacity_positive"),
        sa.CheckConstraint(
            "layout IN ('theatre', 'classroom', 'boardroom', 'banquet')", name="layout_known"
        ),
    )

    venue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("venue.id", ondelete="CASCADE"), primary_key=True
    )
    layout: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    capacity: Mapped[int]

    venue: Mapped[Venue] = relationship(back_populates="layouts")


class VenueEquipment(db.Model):
    __tablename__ = "venue_equipment"

    venue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("venue.id", ondelete="CASCADE"), primary_key=True
    )
    equipment: Mapped[str] = mapped_column(sa.String(30), primary_key=True)

    venue: Mapped[Venue] = relationship(back_populates="equipment")


class CateringOption(Audited, db.Model):
    """A catering standard the canteen offers: per person (meal, tea break) or per table."""

    __tablename__ = "catering_option"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('meal', 'tea_break', 'banquet')", name="kind_known"),
        _money("unit_price_fen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(100))
    unit_price_fen: Mapped[int]
    active: Mapped[bool] = mapped_column(default=True)


class Blackout(Audited, db.Model):
    """A period when one venue, or the whole center (venue_id NULL), cannot be booked."""

    __tablename__ = "blackout"
    __table_args__ = (sa.CheckConstraint("starts_at < ends_at", name="period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int | None] = mapped_column(sa.ForeignKey("venue.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    venue: Mapped[Venue | None] = relationship()


class BookingSeries(Audited, db.Model):
    """A weekly recurring internal meeting; each date is an ordinary booking of the series.

    A date is skipped by cancelling its booking and moved by moving it, so an exception never
    touches the other dates.
    """

    __tablename__ = "booking_series"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_valid"),
        sa.CheckConstraint("first_day <= last_day", name="dates_ordered"),
        sa.CheckConstraint("starts_at_time < ends_at_time", name="times_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    department: Mapped[str] = mapped_column(sa.String(200))
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venue.id", ondelete="RESTRICT"))
    weekday: Mapped[int]
    starts_at_time: Mapped[time] = mapped_column(sa.Time)
    ends_at_time: Mapped[time] = mapped_column(sa.Time)
    first_day: Mapped[date] = mapped_column(sa.Date)
    last_day: Mapped[date] = mapped_column(sa.Date)
    headcount: Mapped[int]
    layout: Mapped[str] = mapped_column(sa.String(20))
    rate_kind: Mapped[str] = mapped_column(sa.String(10), default="internal")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    venue: Mapped[Venue] = relationship()
    bookings: Mapped[list[Booking]] = relationship(back_populates="series",
                                                   order_by="Booking.starts_at")


class Booking(Audited, db.Model):
    """One booking request: one or more venues on one or more days, with catering."""

    __tablename__ = "booking"
    __table_args__ = (
        sa.CheckConstraint("headcount > 0", name="headcount_positive"),
        sa.CheckConstraint(
            "status IN ('offered', 'requested', 'approved', 'completed', 'rejected', "
            "'cancelled', 'expired', 'no_show')", name="status_known",
        ),
        sa.CheckConstraint("rate_kind IN ('external', 'internal', 'free')", name="rate_known"),
        sa.CheckConstraint("client_id IS NOT NULL OR department != ''", name="has_customer"),
        sa.CheckConstraint("category IN ('', 'government_session')", name="category_known"),
        # Check-in on the day: all of the arrival or none of it; arrived and no-show exclude
        # each other.
        sa.CheckConstraint("arrived_headcount >= 0", name="arrived_headcount_not_negative"),
        sa.CheckConstraint("(arrived_at IS NULL) = (arrived_headcount IS NULL)",
                           name="arrival_complete"),
        sa.CheckConstraint("arrived_at IS NULL OR status != 'no_show'",
                           name="arrived_or_no_show"),
        sa.CheckConstraint("slot_seconds >= 0", name="slot_seconds_not_negative"),
        # With what the venue reports read of a served booking (reports._served_slots), so
        # that they read this index alone, not the wide rows.
        sa.Index("ix_booking_status_starts", "status", "starts_at", "id", "slot_seconds",
                 "client_id", "category", "final_total_fen", "arrived_at"),
        # The queue's and "my bookings" order (newest first) straight from an index.
        sa.Index("ix_booking_starts_id", "starts_at", "id"),
        sa.Index("ix_booking_client_starts", "client_id", "starts_at", "id"),
        # A client's own bookings newest first: the global search walks them, probing the
        # query's gram for each (search.services, a client's search).
        sa.Index("ix_booking_client_id", "client_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="RESTRICT")
    )
    department: Mapped[str] = mapped_column(sa.String(200), default="")  # internal bookings
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    status: Mapped[str] = mapped_column(sa.String(20), default=BookingStatus.REQUESTED)
    rate_kind: Mapped[str] = mapped_column(sa.String(10), default="external")
    # Set by staff: a government session (人代会, 政协会…) that the work report counts apart.
    category: Mapped[str] = mapped_column(sa.String(20), default="", server_default="")
    title: Mapped[str] = mapped_column(sa.String(200))
    purpose: Mapped[str] = mapped_column(sa.Text, default="")
    headcount: Mapped[int]
    layout: Mapped[str] = mapped_column(sa.String(20))
    equipment: Mapped[list] = mapped_column(sa.JSON, default=list)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    contact_phone: Mapped[str] = mapped_column(sa.String(20), default="")
    # First slot's start, kept for sorting and the queue's date filter.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The seconds of all its slots, kept with them (:meth:`count_slot_seconds`): the reports
    # share its income over its slots by their seconds without a pass over all of them.
    slot_seconds: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # while offered/requested
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # rejection or cancellation
    deposit_due_on: Mapped[date | None] = mapped_column(sa.Date)
    deposit_fen: Mapped[int] = mapped_column(default=0)
    quote_total_fen: Mapped[int] = mapped_column(default=0)  # the live estimate
    approved_quote: Mapped[dict | None] = mapped_column(sa.JSON)  # frozen at approval
    actual_headcount: Mapped[int | None]
    extras_fen: Mapped[int] = mapped_column(default=0)
    final_total_fen: Mapped[int | None]
    # Checked in on the day (staff, from the grid or the run sheet): when, how many came and
    # what was added on the spot (extra tea, chairs...).
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_headcount: Mapped[int | None]
    arrival_extras: Mapped[str] = mapped_column(sa.Text, default="", server_default="")
    series_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking_series.id", ondelete="SET NULL"), index=True
    )

    client = relationship("User", foreign_keys=[client_id])
    series: Mapped[BookingSeries | None] = relationship(back_populates="bookings")
    slots: Mapped[list[VenueSlot]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="VenueSlot.starts_at"
    )
    catering: Mapped[list[BookingCatering]] = relationship(
        back_populates="booking", cascade="all, delete-orphan", order_by="BookingCatering.id"
    )

    @property
    def reference(self) -> str:
        return self.reference_of(self.id)

    @staticmethod
    def reference_of(record_id: int) -> str:
        """The reference of the record with this id (lists that read only its columns)."""
        return f"HY{record_id:06d}"

    def catering_on(self, day: date) -> list[BookingCatering]:
        """The catering served on one of the booking's days: its "every day" lines and the
        lines dated that day."""
        return [item for item in self.catering if item.day is None or item.day == day]

    def count_slot_seconds(self) -> None:
        """Recount ``slot_seconds`` from the slots: whoever sets the slots calls it (the
        services, with ``starts_at``)."""
        self.slot_seconds = sum(int((slot.ends_at - slot.starts_at).total_seconds())
                                for slot in self.slots)

    @property
    def is_active(self) -> bool:
        return self.status in BookingStatus.ACTIVE

    @classmethod
    def visible_to(cls, user):
        """Staff see every booking; a client only their own."""
        if user.role in Role.BUREAU:
            return sa.true()
        return cls.client_id == user.id


@raw_objects
def _slot_span_index(name: str | None, type_: str) -> bool:
    """The GiST index of the slots' periods (PostgreSQL, migration e3c2b7): the venue
    figures read a month's slots through it (reports._served_slots); an expression index the
    models cannot declare for both engines."""
    return type_ == "index" and name == "ix_venue_slot_span"


class VenueSlot(db.Model):
    """A period that occupies a venue: a booked slot or a blackout."""

    __tablename__ = "venue_slot"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="period"),
        sa.CheckConstraint(
            "blocked_from <= starts_at AND ends_at <= blocked_until", name="buffers_around"
        ),
        sa.CheckConstraint(
            "(booking_id IS NULL) != (blackout_id IS NULL)", name="booking_or_blackout"
        ),
        sa.Index("ix_venue_slot_venue_period", "venue_id", "blocked_from", "blocked_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venue.id", ondelete="RESTRICT"))
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking.id", ondelete="CASCADE"), index=True
    )
    blackout_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("blackout.id", ondelete="CASCADE"), index=True
    )
    session: Mapped[str] = mapped_column(sa.String(20), default="custom")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_from: Mapped[datetime] = mapped_column(UTCDateTime)
    blocked_until: Mapped[datetime] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)

    venue: Mapped[Venue] = relationship()
    booking: Mapped[Booking | None] = relationship(back_populates="slots")
    blackout: Mapped[Blackout | None] = relationship()


class BookingCatering(db.Model):
    """One catering line of a booking: served on ``day``, or (``day`` NULL) on every day of the
    booking, the quantity then being per day.  The service checks that a day is one of the
    booking's days."""

    __tablename__ = "booking_catering"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0 AND times > 0", name="quantities_positive"),
        _money("unit_price_fen"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(sa.ForeignKey("booking.id", ondelete="CASCADE"),
                                            index=True)
    option_id: Mapped[int | None] = mapped_column(sa.ForeignKey("catering_option.id"))
    kind: Mapped[str] = mapped_column(sa.String(20))
    label: Mapped[str] = mapped_column(sa.String(100))
    unit_price_fen: Mapped[int]
    quantity: Mapped[int]
    times: Mapped[int] = mapped_column(default=1)
    day: Mapped[date | None] = mapped_column(sa.Date)  # None: every day of the booking

    booking: Mapped[Booking] = relationship(back_populates="catering")

    @property
    def servings(self) -> int:
        return self.pricing_request().servings

    def pricing_request(self) -> pricing.CateringRequest:
        return pricing.CateringRequest(self.kind, self.label, self.unit_price_fen,
                                       self.quantity, self.times, self.day)

    @property
    def day_amount_fen(self) -> int:
        """The price of one day's serving (a dated line's whole price)."""
        return pricing.catering_charge(self.pricing_request(), days=1)


class CalendarFeed(db.Model):
    """A private iCal feed URL: a client's bookings, or (for staff) one venue's.

    Only the token's SHA-256 is stored; revoking sets ``revoked_at`` and the URL stops working.
    """

    __tablename__ = "calendar_feed"
    __table_args__ = (
        sa.CheckConstraint("(user_id IS NULL) != (venue_id IS NULL)", name="user_or_venue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    venue_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("venue.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


WAITLIST_GUARD = PeriodGuard(
    table="waitlist_entry", resource="venue_id", start="starts_at", end="ends_at",
    active="active", scope=("client_id",),
)


class WaitlistStatus:
    WAITING = "waiting"
    OFFERED = "offered"  # a hold (an offered booking) is theirs to take
    BOOKED = "booked"  # they took it: the hold became a request
    LAPSED = "lapsed"  # the offer was not taken in time, or the time passed
    LEFT = "left"  # the client left the queue
    REMOVED = "removed"  # staff removed the entry (with a reason)
    ALL = (WAITING, OFFERED, BOOKED, LAPSED, LEFT, REMOVED)
    ACTIVE = (WAITING, OFFERED)  # in the queue: one per client, venue and time
    LABELS = {
        WAITING: lazy_pgettext("waitlist", "Waiting"),
        OFFERED: lazy_pgettext("waitlist", "Offered"),
        BOOKED: lazy_pgettext("waitlist", "Booked"),
        LAPSED: lazy_pgettext("waitlist", "Lapsed"),
        LEFT: lazy_pgettext("waitlist", "Left the waitlist"),
        REMOVED: lazy_pgettext("waitlist", "Removed by staff"),
    }


class WaitlistEntry(Audited, db.Model):
    """A client waiting for a taken period of one venue; served first come, first served.

    :data:`WAITLIST_GUARD` refuses a second active entry of the same client for an
    overlapping period of the same venue; the unique ``booking_id`` makes an offered hold the
    offer of one entry only.
    """

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="period"),
        sa.CheckConstraint("headcount > 0", name="headcount_positive"),
        sa.CheckConstraint(
            "status IN ('waiting', 'offered', 'booked', 'lapsed', 'left', 'removed')",
            name="status_known"),
        sa.CheckConstraint("active = (status IN ('waiting', 'offered'))", name="active_status"),
        sa.CheckConstraint("status != 'offered' OR booking_id IS NOT NULL",
                           name="offer_has_hold"),
        # The queue of a venue in order, and a client's own entries.
        sa.Index("ix_waitlist_entry_venue_queue", "venue_id", "status", "created_at", "id"),
        sa.Index("ix_waitlist_entry_client", "client_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    venue_id: Mapped[int] = mapped_column(sa.ForeignKey("venue.id", ondelete="CASCADE"))
    session: Mapped[str] = mapped_column(sa.String(20), default="custom")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    headcount: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[str] = mapped_column(sa.String(20), default=WaitlistStatus.WAITING)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The hold offered (a booking in status "offered"): one entry's offer, never two.
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking.id", ondelete="RESTRICT"), unique=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # staff's, when removed
    # Waiting entries ahead of this one in its queue, when a list asks for it.
    ahead: Mapped[int | None] = query_expression()

    client = relationship("User", foreign_keys=[client_id])
    venue: Mapped[Venue] = relationship()
    booking: Mapped[Booking | None] = relationship()

    @classmethod
    def visible_to(cls, user):
        """Staff see every entry; a client only their own."""
        if user.role in Role.BUREAU:
            return sa.true()
        return cls.client_id == user.id


# --- the page cache's keys (portal/page_cache.py) ---------------------------------------------
# A booked period changes the pages of its venue and days only: the venue's calendars of those
# days, the month overview of those months, the free-venue search of those days (a day either
# side: a search widens its period by the venues' buffers), the staff queue and the client's own
# list.  Venues, their photos, layouts and equipment, catering options, blackouts and calendar
# feeds are the shared data every bookings page shows (rare writes by staff).

QUEUE_KEY = key("bookings", "queue")


def venue_day_key(venue_id: int, day: date) -> str:
    """One venue's day: its day, week and month calendars read it."""
    return key("bookings", "venue", venue_id, day.isoformat())


def day_key(day: date) -> str:
    """Every venue's day: the free-venue search of that day reads it."""
    return key("bookings", "day", day.isoformat())


def month_key(day: date) -> str:
    """Every venue's month: the month overview reads it, and the venue reports' stored
    figures of the periods covering it (reports.VENUE_FIGURES): a change to a booking, its
    slots or its catering replaces the keys of its booking's months."""
    return key("bookings", "month", day.strftime("%Y-%m"))


def booking_key(booking_id: int) -> str:
    """One booking, wherever another module shows it (a joint meeting's venue)."""
    return key("bookings", "booking", booking_id)


def client_key(client_id: int) -> str:
    """A client's own bookings ("my bookings")."""
    return key("bookings", "client", client_id)


def _local_days(start: datetime, end: datetime) -> list[date]:
    zone = local_zone()
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _period_keys(venue_id: int, start: datetime, end: datetime) -> set[str]:
    days = _local_days(start, end)
    keys = {venue_day_key(venue_id, day) for day in days} | {month_key(day) for day in days}
    return keys | {day_key(day + timedelta(days=n)) for day in days for n in (-1, 0, 1)}


def _lists_keys(booking: Booking | None) -> set[str]:
    """The lists a booking is on: the staff queue and its client's own; and its own key."""
    if booking is None:
        return set()
    keys = {QUEUE_KEY, booking_key(booking.id)}
    return keys | ({client_key(booking.client_id)} if booking.client_id else set())


def _booking_row_keys(booking, session) -> set[str]:
    """A booking: its lists and its slots' venues and days (the calendars show its title and
    status); slots that moved name the days they left themselves."""
    keys = _lists_keys(booking)
    for slot in booking.slots:
        keys |= _slot_period_keys(slot)
    return keys


def _slot_period_keys(slot) -> set[str]:
    if None in (slot.venue_id, slot.blocked_from, slot.blocked_until):
        return {shared_key("bookings")}  # not written yet: no telling, every page
    return _period_keys(slot.venue_id, slot.blocked_from, slot.blocked_until)


def _slot_keys(slot, session) -> set[str]:
    """A slot: its venue's days (with its buffers), and, a booked one, its booking's lists."""
    return _slot_period_keys(slot) | _lists_keys(slot.booking)


def _catering_keys(line, session) -> set[str]:
    """A catering line: shown with its booking only (its own page, not cached), and counted in
    the catering served of the venue reports: its booking's months (those of every slot's
    days: a line without a day is served on each of them)."""
    booking = line.booking
    if booking is None:
        return {QUEUE_KEY, shared_key("bookings")}  # not attached yet: no telling
    months = set()
    for slot in booking.slots:
        if None in (slot.blocked_from, slot.blocked_until):
            return {QUEUE_KEY, shared_key("bookings")}
        months |= {month_key(day) for day in _local_days(slot.blocked_from, slot.blocked_until)}
    return {QUEUE_KEY} | months


# Cached pages drawn from these models are rendered afresh after any change to them (the keys
# above; every other model of the module: every bookings page).
cache_scope("bookings", Venue, VenuePhoto, VenueLayout, VenueEquipment, CateringOption, Blackout,
            BookingSeries, Booking, VenueSlot, BookingCatering, CalendarFeed, WaitlistEntry,
            keys={Booking: _booking_row_keys, VenueSlot: _slot_keys,
                  BookingCatering: _catering_keys,
                  # A waitlist entry is on no cached page; its offer is a booking (above).
                  WaitlistEntry: lambda entry, session: set()})
