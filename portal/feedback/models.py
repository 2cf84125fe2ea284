"""Service-quality supervision: the supervisor roster and feedback (the service catalogue,
:class:`~portal.catalogue.models.ServiceCategory`, is the catalogue module's).

* :class:`SupervisorAppointment` — a supervisor's term (聘期) with its appointment letter
  number; a replacement links the term it replaces, so the roster keeps its history.
* :class:`Feedback` — an item a supervisor submits, handled through one transition table;
  :class:`FeedbackEvent` is its timeline, :class:`FeedbackPhoto` its photos.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.services import Audited
from ..bookings.models import Venue
from ..catalogue.models import ServiceCategory
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..page_cache import cache_scope, key
from ..roles import Role
from ..suppliers.models import ServiceContract, Supplier
from ..uploads import PhotoColumns


class SupervisorAppointment(Audited, db.Model):
    __tablename__ = "supervisor_appointment"
    __table_args__ = (
        sa.CheckConstraint("term_start <= term_end", name="term_ordered"),
        sa.CheckConstraint("ended_on IS NULL OR (ended_on >= term_start AND ended_on <= term_end)",
                           name="ended_within_term"),
        sa.CheckConstraint("replaces_id IS NULL OR replaces_id != id", name="not_self_replacing"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="RESTRICT"),
                                         index=True)
    unit: Mapped[str] = mapped_column(sa.String(200))  # the committee, office or bureau
    title: Mapped[str] = mapped_column(sa.String(100), default="")  # e.g. 办公室主任
    letter_number: Mapped[str] = mapped_column(sa.String(50), unique=True)
    term_start: Mapped[date] = mapped_column(sa.Date)
    term_end: Mapped[date] = mapped_column(sa.Date)  # the term's last day
    ended_on: Mapped[date | None] = mapped_column(sa.Date)  # ended early (last day)
    end_reason: Mapped[str] = mapped_column(sa.Text, default="")
    # A replacement appointment names the one it replaces (replacement history).
    replaces_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supervisor_appointment.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user = relationship("User", foreign_keys=[user_id])
    replaces: Mapped[SupervisorAppointment | None] = relationship(
        remote_side=[id], foreign_keys=[replaces_id])

    @property
    def last_day(self) -> date:
        return self.ended_on or self.term_end

    def is_active_on(self, day: date) -> bool:
        return self.term_start <= day <= self.last_day

    @classmethod
    def active_on(cls, day: date):
        """SQL condition: the term covers ``day``."""
        return sa.and_(cls.term_start <= day,
                       sa.func.coalesce(cls.ended_on, cls.term_end) >= day)


class FeedbackStatus:
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    SPAM = "spam"  # a public (QR) item staff marked as spam: hidden from lists and figures
    ALL = (SUBMITTED, ACCEPTED, IN_PROGRESS, RESOLVED, CLOSED, REJECTED, DUPLICATE, SPAM)
    OPEN = (SUBMITTED, ACCEPTED, IN_PROGRESS)  # waiting for the bureau
    FINAL = (CLOSED, REJECTED, DUPLICATE, SPAM)
    LABELS = {
        SUBMITTED: lazy_pgettext("feedback status", "Submitted"),
        ACCEPTED: lazy_pgettext("feedback status", "Accepted"),
        IN_PROGRESS: lazy_pgettext("feedback status", "In progress"),
        RESOLVED: lazy_pgettext("feedback status", "Resolved"),
        CLOSED: lazy_pgettext("feedback status", "Closed"),
        REJECTED: lazy_pgettext("feedback status", "Rejected"),
        DUPLICATE: lazy_pgettext("feedback status", "Duplicate"),
        SPAM: lazy_pgettext("feedback status", "Spam"),
    }


class FeedbackSource:
    """Who reported an item: an appointed supervisor, or anyone through a place's QR code."""

    SUPERVISOR = "supervisor"
    PUBLIC = "public"
    ALL = (SUPERVISOR, PUBLIC)
    LABELS = {SUPERVISOR: _l("Supervisors"), PUBLIC: _l("Public (QR code)")}


class Urgency:
    ALL = ("normal", "urgent", "critical")
    LABELS = {"normal": _l("Normal"), "urgent": _l("Urgent"), "critical": _l("Critical")}


class Feedback(Audited, db.Model):
    __tablename__ = "feedback"
    __table_args__ = (
        sa.CheckConstraint(
            "status IN ('submitted', 'accepted', 'in_progress', 'resolved', 'closed', "
            "'rejected', 'duplicate', 'spam')", name="status_known"),
        sa.CheckConstraint("source IN ('supervisor', 'public')", name="source_known"),
        # A supervisor's item names the supervisor and the term; a public one need not.
        sa.CheckConstraint("source != 'supervisor' OR (supervisor_id IS NOT NULL "
                           "AND appointment_id IS NOT NULL)", name="supervisor_item_signed"),
        sa.CheckConstraint("source != 'public' OR place_label != ''", name="public_item_placed"),
        sa.CheckConstraint("urgency IN ('normal', 'urgent', 'critical')", name="urgency_known"),
        sa.CheckConstraint("service_rating BETWEEN 1 AND 5", name="service_rating_range"),
        sa.CheckConstraint("handling_rating IS NULL OR handling_rating BETWEEN 1 AND 5",
                           name="handling_rating_range"),
        sa.CheckConstraint("status != 'closed' OR handling_rating IS NOT NULL",
                           name="closed_is_rated"),
        sa.CheckConstraint("status NOT IN ('rejected', 'duplicate') OR reason != ''",
                           name="refusal_has_reason"),
        sa.CheckConstraint("status != 'duplicate' OR duplicate_of_id IS NOT NULL",
                           name="duplicate_names_original"),
        sa.CheckConstraint("duplicate_of_id IS NULL OR duplicate_of_id != id",
                           name="not_own_duplicate"),
        sa.CheckConstraint("length(description) > 0", name="description_given"),
        sa.CheckConstraint("reopen_count >= 0", name="reopen_count_not_negative"),
        sa.Index("ix_feedback_status_submitted", "status", "submitted_at"),
        # The queue of all states (newest first) and the dashboard's period ranges.
        sa.Index("ix_feedback_submitted", "submitted_at", "id"),
        sa.Index("ix_feedback_supervisor_submitted", "supervisor_id", "submitted_at"),
        sa.Index("ix_feedback_category_submitted", "category_id", "submitted_at"),
        sa.Index("ix_feedback_supplier_submitted", "supplier_id", "submitted_at"),
        # Feedback by place: a room's history, the queue filtered by building or room.
        sa.Index("ix_feedback_building_submitted", "building_id", "submitted_at"),
        sa.Index("ix_feedback_room_submitted", "room_id", "submitted_at"),
        # Figures by source; the spam throttle counts an address's spam.
        sa.Index("ix_feedback_source_submitted", "source", "submitted_at"),
        sa.Index("ix_feedback_reporter_status", "reporter_address_hash", "status"),
    )

    MAX_DESCRIPTION = 4000  # characters: the form, the service and the page's counter
    MAX_LOCATION = 200

    id: Mapped[int] = mapped_column(primary_key=True)
    # Who reported it: a supervisor (with their account and term) or the public through a
    # place's QR code (no account: the place, an optional contact and a follow link).
    source: Mapped[str] = mapped_column(sa.String(12), default=FeedbackSource.SUPERVISOR)
    supervisor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="RESTRICT"))
    # The term under which it was submitted (only active terms may submit).
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supervisor_appointment.id", ondelete="RESTRICT"), index=True)
    # A public item: the venue or canteen hall of its QR code (rooms use room_id), the
    # place's name when reported (kept if the place goes), the reporter's optional phone or
    # email, the SHA-256 of the follow link's token and of the reporter's address (spam).
    venue_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("venue.id", ondelete="SET NULL"), index=True)
    place_label: Mapped[str] = mapped_column(sa.String(200), default="")
    reporter_contact: Mapped[str] = mapped_column(sa.String(200), default="")
    follow_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    reporter_address_hash: Mapped[str | None] = mapped_column(sa.String(64))
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("service_category.id", ondelete="RESTRICT"))
    building_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("building.id", ondelete="SET NULL"))
    room_id: Mapped[int | None] = mapped_column(sa.ForeignKey("room.id", ondelete="SET NULL"))
    location_detail: Mapped[str] = mapped_column(sa.String(200), default="")
    description: Mapped[str] = mapped_column(sa.Text)
    service_rating: Mapped[int]  # 1–5: the service the feedback is about
    urgency: Mapped[str] = mapped_column(sa.String(10), default="normal")
    status: Mapped[str] = mapped_column(sa.String(20), default=FeedbackStatus.SUBMITTED)

    # Handling: who handles it and, for outsourced services, the supplier it was transferred
    # to under which contract (a snapshot taken at acceptance, so later renewals keep history).
    assignee_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    supplier_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supplier.id", ondelete="SET NULL"))
    contract_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("service_contract.id", ondelete="SET NULL"), index=True)
    response: Mapped[str] = mapped_column(sa.Text, default="")  # staff's answer when resolved
    reason: Mapped[str] = mapped_column(sa.Text, default="")  # why rejected / duplicate
    duplicate_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("feedback.id", ondelete="SET NULL"))
    handling_rating: Mapped[int | None]  # 1–5, given by the supervisor when closing
    closing_comment: Mapped[str] = mapped_column(sa.Text, default="")
    reopen_count: Mapped[int] = mapped_column(default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Not stored: what the user who just took a step should be told beyond its new status
    # (an accepted item routed to the bureau's own team), set by the feedback services.
    notice = ""

    # Times and SLA deadlines (deadlines are dates: working days in the Chinese calendar).
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_due_on: Mapped[date] = mapped_column(sa.Date)
    resolution_due_on: Mapped[date] = mapped_column(sa.Date)
    # Whether the first response / the (latest) resolution came after its deadline: set when
    # the step happens, so SLA figures need no date arithmetic in SQL. Reopening clears
    # resolved_late until the item is resolved again.
    responded_late: Mapped[bool | None]
    resolved_late: Mapped[bool | None]

    supervisor = relationship("User", foreign_keys=[supervisor_id])
    appointment: Mapped[SupervisorAppointment] = relationship()
    category: Mapped[ServiceCategory] = relationship()
    building = relationship("Building")
    room = relationship("Room")
    venue: Mapped[Venue | None] = relationship()
    assignee = relationship("User", foreign_keys=[assignee_id])
    supplier: Mapped[Supplier | None] = relationship()
    contract: Mapped[ServiceContract | None] = relationship()
    duplicate_of: Mapped[Feedback | None] = relationship(remote_side=[id])
    photos: Mapped[list[FeedbackPhoto]] = relationship(cascade="all, delete-orphan",
                                                       order_by="FeedbackPhoto.id")
    events: Mapped[list[FeedbackEvent]] = relationship(cascade="all, delete-orphan",
                                                       order_by="FeedbackEvent.id")

    # --- SLA: the one definition of "overdue" and of SLA compliance -------------------------
    # Two deadlines: the first response (acceptance, rejection or duplicate) for an item still
    # submitted, and the resolution for an open item.  "Overdue" means either is missed.  The
    # SQL conditions (lists, escalation, dashboards, scorecards) and the Python checks (one
    # item's page) sit side by side here and must say the same thing.
    OVERDUE_RESPONSE, OVERDUE_RESOLUTION = "response", "resolution"
    OVERDUE_LABELS = {OVERDUE_RESPONSE: _l("First response overdue"),
                      OVERDUE_RESOLUTION: _l("Resolution overdue")}

    @classmethod
    def response_overdue(cls, today: date):
        """Still waiting for a first response after its deadline."""
        return sa.and_(cls.status == FeedbackStatus.SUBMITTED, cls.response_due_on < today)

    @classmethod
    def resolution_overdue(cls, today: date):
        """Still open (not resolved) after its resolution deadline."""
        return sa.and_(cls.status.in_(FeedbackStatus.OPEN), cls.resolution_due_on < today)

    @classmethod
    def overdue(cls, today: date):
        """Either deadline missed: the queue's "overdue" filter and the dashboard's count."""
        return sa.or_(cls.response_overdue(today), cls.resolution_overdue(today))

    @classmethod
    def sla_decided(cls, today: date):
        """Items whose resolution SLA is met or missed already: resolved, or open past due."""
        return sa.or_(cls.resolved_late.is_not(None), cls.resolution_overdue(today))

    @classmethod
    def sla_missed(cls, today: date):
        """Resolved late, or still open past the deadline (open overdue items count too)."""
        return sa.or_(cls.resolved_late.is_(True), cls.resolution_overdue(today))

    @classmethod
    def response_decided(cls, today: date):
        """Items whose first-response SLA is met or missed already: answered (accepted,
        rejected or marked duplicate), or still submitted past the response deadline."""
        return sa.or_(cls.responded_late.is_not(None), cls.response_overdue(today))

    @classmethod
    def response_missed(cls, today: date):
        """Answered late, or still submitted past the response deadline."""
        return sa.or_(cls.responded_late.is_(True), cls.response_overdue(today))

    def is_response_overdue(self, today: date) -> bool:
        """:meth:`response_overdue` for one loaded item."""
        return self.status == FeedbackStatus.SUBMITTED and self.response_due_on < today

    def is_resolution_overdue(self, today: date) -> bool:
        """:meth:`resolution_overdue` for one loaded item."""
        return self.status in FeedbackStatus.OPEN and self.resolution_due_on < today

    def overdue_kinds(self, today: date) -> list[str]:
        """Which deadlines are missed (``"response"``, ``"resolution"``), for the badges."""
        kinds = []
        if self.is_response_overdue(today):
            kinds.append(self.OVERDUE_RESPONSE)
        if self.is_resolution_overdue(today):
            kinds.append(self.OVERDUE_RESOLUTION)
        return kinds

    def is_overdue(self, today: date) -> bool:
        """:meth:`overdue` for one loaded item: either deadline missed."""
        return bool(self.overdue_kinds(today))

    @property
    def is_public(self) -> bool:
        return self.source == FeedbackSource.PUBLIC

    @property
    def reporter_email(self) -> str:
        """The public reporter's contact when it is an email address (told the outcome)."""
        contact = self.reporter_contact or ""
        return contact if "@" in contact else ""

    @classmethod
    def visible_to(cls, user):
        """Staff and admins see every item; a supervisor only their own; a supplier's account
        the items transferred to its supplier; clients none."""
        if user.role in Role.BUREAU:
            return sa.true()
        if user.role == Role.SUPERVISOR:
            return cls.supervisor_id == user.id
        if user.role == Role.SUPPLIER:
            return cls.supplier_id == user.supplier_id
        return sa.false()


class FeedbackPhoto(Audited, PhotoColumns, db.Model):
    __tablename__ = "feedback_photo"

    feedback_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback.id", ondelete="CASCADE"),
                                             index=True)


class FeedbackEvent(db.Model):
    """One step on an item's timeline: a transition with its note, shown to both sides."""

    __tablename__ = "feedback_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(sa.ForeignKey("feedback.id", ondelete="CASCADE"),
                                             index=True)
    action: Mapped[str] = mapped_column(sa.String(30))  # the transition's name, or "submit"
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User")


# --- the page cache's keys (portal/page_cache.py) ---------------------------------------------
# An item changes its own page (and its original's, which lists its duplicates), the queue
# filtered to its category (before and after a change of category) and the unfiltered queue:
# the queue's other filters (status, deadlines, assignee, place) are ones any item's change may
# move it into or out of.  Categories and supervisors' appointments are shared by every page.
QUEUE_KEY = key("feedback", "queue")


def item_key(feedback_id: int) -> str:
    return key("feedback", "item", feedback_id)


def category_key(category_id: int) -> str:
    return key("feedback", "category", category_id)


def _item_keys(item, session) -> set[str]:
    keys = {QUEUE_KEY, item_key(item.id), category_key(item.category_id)}
    return keys | ({item_key(item.duplicate_of_id)} if item.duplicate_of_id else set())


# Cached pages drawn from these models are rendered afresh after any change to them.
cache_scope("feedback", SupervisorAppointment, Feedback, FeedbackPhoto, FeedbackEvent,
            keys={Feedback: _item_keys,  # its photos and history: on its own page only
                  FeedbackPhoto: lambda photo, session: {item_key(photo.feedback_id)},
                  FeedbackEvent: lambda event, session: {item_key(event.feedback_id)}})
