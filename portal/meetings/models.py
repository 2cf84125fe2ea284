"""Joint service-quality meetings (服务质量联席会议) with suppliers: agenda, minutes, actions.

* :class:`Meeting` — planned → held → minutes_published (locked: later amendments need a
  reason and are kept as :class:`MinutesRevision` rows), or cancelled; one transition table
  (:data:`MEETING_FLOW`). Its room may be a conference-center booking.
* :class:`MeetingAttendee` — a staff account, or a supplier's representative recorded by name
  (no account); attendance is marked after the meeting.
* :class:`AgendaItem` — ordered items, pre-filled per invited supplier (open feedback, carried
  action items, satisfaction figures); each holds its discussion (Markdown) and decisions.
* :class:`ActionItem` — what, who (supplier and person), by when; open → done → verified, and
  "overdue" derived (open past its due date). It may answer feedback items
  (:data:`action_feedback`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.services import Audited
from ..database import UTCDateTime, utcnow
from ..errors import NotAllowed, ServiceError
from ..extensions import db
from ..lists import join_names
from ..page_cache import cache_scope, key
from ..roles import Role
from ..suppliers.models import Supplier
from ..workflow import Transition, Workflow

STAFF = Role.BUREAU


class MeetingStatus:
    PLANNED = "planned"
    HELD = "held"
    PUBLISHED = "minutes_published"
    CANCELLED = "cancelled"
    ALL = (PLANNED, HELD, PUBLISHED, CANCELLED)
    LABELS = {
        PLANNED: lazy_pgettext("meeting status", "Planned"),
        HELD: lazy_pgettext("meeting status", "Held"),
        PUBLISHED: lazy_pgettext("meeting status", "Minutes published"),
        CANCELLED: lazy_pgettext("meeting status", "Cancelled"),
    }


M = MeetingStatus


def missing_owners(meeting) -> list:
    """Action items that lack a responsible party (supplier or person) or a due date."""
    return [action for action in meeting.actions
            if not action.has_owner or action.due_on is None]


def _minutes_complete(meeting, actor, details) -> None:
    """Minutes are published only when every action item says who does it and by when."""
    missing = missing_owners(meeting)
    if missing:
        raise ServiceError(_l(
            "The minutes cannot be published: these action items lack a responsible "
            "party or a due date: %(items)s",
            items=join_names(short_text(action.description, 40) for action in missing)))


MEETING_FLOW = Workflow(M.ALL, [
    Transition("hold", (M.PLANNED,), M.HELD, STAFF, _l("Mark as held")),
    Transition("publish", (M.HELD,), M.PUBLISHED, STAFF, _l("Publish the minutes"),
               rule=_minutes_complete),
    # Published minutes stay published; an amendment is a transition onto itself that needs
    # a reason, so the one table says who may amend and that a reason is required.
    Transition("amend", (M.PUBLISHED,), M.PUBLISHED, STAFF, _l("Amend the minutes"),
               needs_reason=True),
    Transition("cancel", (M.PLANNED,), M.CANCELLED, STAFF, _l("Cancel the meeting"),
               needs_reason=True),
], labels=M.LABELS, noun=_l("This meeting"))


class ActionStatus:
    OPEN = "open"
    DONE = "done"
    VERIFIED = "verified"
    ALL = (OPEN, DONE, VERIFIED)
    LABELS = {
        OPEN: lazy_pgettext("action item status", "Not done yet"),
        DONE: lazy_pgettext("action item status", "Done"),
        VERIFIED: lazy_pgettext("action item status", "Verified"),
    }
    OVERDUE_LABEL = lazy_pgettext("action item status", "Overdue")


A = ActionStatus


def _meeting_under_way(action, actor, details) -> None:
    """An action item is followed up once its meeting is held (never a cancelled one's)."""
    if action.meeting.status not in (M.HELD, M.PUBLISHED):
        raise NotAllowed(_l("This action is not possible in the record's current state."))


ACTION_FLOW = Workflow(A.ALL, [
    # A supplier's account marks its own supplier's items done (portal.partners).
    Transition("complete", (A.OPEN,), A.DONE, (*STAFF, Role.SUPPLIER), _l("Mark as done"),
               rule=_meeting_under_way, owner_only=(Role.SUPPLIER,)),
    Transition("verify", (A.DONE,), A.VERIFIED, STAFF, _l("Verify"), rule=_meeting_under_way),
    Transition("reopen", (A.DONE, A.VERIFIED), A.OPEN, STAFF, _l("Reopen"), needs_reason=True,
               rule=_meeting_under_way),
], labels=A.LABELS, noun=_l("This action item"),
    owner=lambda action, actor: action.supplier_id is not None
    and action.supplier_id == actor.supplier_id)


class AgendaKind:
    FEEDBACK = "feedback"
    ACTION = "action"
    SATISFACTION = "satisfaction"
    OTHER = "other"
    ALL = (FEEDBACK, ACTION, SATISFACTION, OTHER)
    LABELS = {FEEDBACK: _l("Open feedback"), ACTION: _l("Carried-over action"),
              SATISFACTION: _l("Satisfaction"), OTHER: _l("Other topic")}


def short_text(text: str, limit: int = 80) -> str:
    """Text on one line, cut to ``limit`` characters with an ellipsis."""
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def agenda_label(kind: str, title: str, feedback=None, action=None) -> str:
    """An agenda item's heading, built in the reader's language when it is shown.

    Pre-filled items keep what they point at (the feedback, the carried action, the kind), so
    their heading is never frozen in the language of whoever planned the meeting; a topic
    staff typed is shown as typed.
    """
    if kind == AgendaKind.FEEDBACK and feedback is not None:
        return _("%(category)s: %(text)s", category=feedback.category.label,
                 text=short_text(feedback.description))
    if kind == AgendaKind.ACTION and action is not None:
        return short_text(action.description)
    if kind == AgendaKind.SATISFACTION:
        return _("Satisfaction figures")
    return title


meeting_supplier = sa.Table(
    "meeting_supplier", db.metadata,
    sa.Column("meeting_id", sa.ForeignKey("meeting.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("supplier_id", sa.ForeignKey("supplier.id", ondelete="RESTRICT"),
              primary_key=True, index=True),
)

# The feedback items an action item answers.
action_feedback = sa.Table(
    "action_feedback", db.metadata,
    sa.Column("action_id", sa.ForeignKey("action_item.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("feedback_id", sa.ForeignKey("feedback.id", ondelete="CASCADE"),
              primary_key=True, index=True),
)


class Meeting(Audited, db.Model):
    __tablename__ = "meeting"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="times_ordered"),
        sa.CheckConstraint(
            "status IN ('planned', 'held', 'minutes_published', 'cancelled')",
            name="status_known"),
        sa.CheckConstraint("status != 'cancelled' OR cancel_reason != ''",
                           name="cancel_has_reason"),
        sa.Index("ix_meeting_starts_at", "starts_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    location: Mapped[str] = mapped_column(sa.String(200), default="")
    # Optionally held in the conference center: the booking staff picked.
    booking_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("booking.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=MeetingStatus.PLANNED)
    chair: Mapped[str] = mapped_column(sa.String(100), default="")
    recorder: Mapped[str] = mapped_column(sa.String(100), default="")
    summary: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown: general remarks
    cancel_reason: Mapped[str] = mapped_column(sa.Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    booking = relationship("Booking")
    suppliers: Mapped[list[Supplier]] = relationship(secondary=meeting_supplier,
                                                     order_by=Supplier.name)
    attendees: Mapped[list[MeetingAttendee]] = relationship(
        cascade="all, delete-orphan", order_by="MeetingAttendee.id", back_populates="meeting")
    agenda: Mapped[list[AgendaItem]] = relationship(
        cascade="all, delete-orphan", order_by="(AgendaItem.position, AgendaItem.id)",
        back_populates="meeting")
    actions: Mapped[list[ActionItem]] = relationship(
        cascade="all, delete-orphan", order_by="ActionItem.id", back_populates="meeting",
        foreign_keys="ActionItem.meeting_id")
    revisions: Mapped[list[MinutesRevision]] = relationship(
        cascade="all, delete-orphan", order_by="MinutesRevision.id.desc()")

    @property
    def locked(self) -> bool:
        return self.status == MeetingStatus.PUBLISHED

    @classmethod
    def visible_to(cls, user):
        """Staff see every meeting; a supplier's account the published minutes of the
        meetings its supplier took part in."""
        if user.role in STAFF:
            return sa.true()
        if user.role == Role.SUPPLIER:
            return sa.and_(cls.status == MeetingStatus.PUBLISHED, sa.exists().where(
                meeting_supplier.c.meeting_id == cls.id,
                meeting_supplier.c.supplier_id == user.supplier_id))
        return sa.false()


class MeetingAttendee(Audited, db.Model):
    __tablename__ = "meeting_attendee"
    __table_args__ = (
        sa.CheckConstraint("user_id IS NOT NULL OR name != ''", name="named"),
        sa.UniqueConstraint("meeting_id", "user_id", name="uq_meeting_attendee_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"),
                                            index=True)
    # A member of staff has an account; a supplier's representative is recorded by name.
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    supplier_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supplier.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(sa.String(100), default="")
    title: Mapped[str] = mapped_column(sa.String(100), default="")
    attended: Mapped[bool | None]  # None until attendance is marked

    meeting: Mapped[Meeting] = relationship(back_populates="attendees")
    user = relationship("User")
    supplier: Mapped[Supplier | None] = relationship()

    @property
    def display_name(self) -> str:
        return self.user.name if self.user is not None else self.name


class AgendaItem(Audited, db.Model):
    __tablename__ = "agenda_item"
    __table_args__ = (
        sa.CheckConstraint("kind IN ('feedback', 'action', 'satisfaction', 'other')",
                           name="kind_known"),
        sa.UniqueConstraint("meeting_id", "feedback_id", name="uq_agenda_feedback"),
        sa.UniqueConstraint("meeting_id", "carried_action_id", name="uq_agenda_action"),
        sa.Index("ix_agenda_item_meeting_position", "meeting_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(default=0)
    kind: Mapped[str] = mapped_column(sa.String(20), default=AgendaKind.OTHER)
    supplier_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supplier.id", ondelete="SET NULL"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    feedback_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("feedback.id", ondelete="SET NULL"), index=True)
    carried_action_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("action_item.id", ondelete="SET NULL", use_alter=True), index=True)
    # Satisfaction figures as they stood when the agenda was made (a snapshot).
    figures: Mapped[list | None] = mapped_column(sa.JSON)
    discussion: Mapped[str] = mapped_column(sa.Text, default="")  # Markdown
    decisions: Mapped[str] = mapped_column(sa.Text, default="")

    meeting: Mapped[Meeting] = relationship(back_populates="agenda")
    supplier: Mapped[Supplier | None] = relationship()
    feedback = relationship("Feedback")
    carried_action: Mapped[ActionItem | None] = relationship(
        foreign_keys=[carried_action_id])
    actions: Mapped[list[ActionItem]] = relationship(
        order_by="ActionItem.id", foreign_keys="ActionItem.agenda_item_id",
        back_populates="agenda_item")

    @property
    def label(self) -> str:
        return agenda_label(self.kind, self.title, self.feedback, self.carried_action)

    @property
    def has_minutes(self) -> bool:
        return bool(self.discussion.strip() or self.decisions.strip() or self.actions)


class ActionItem(Audited, db.Model):
    __tablename__ = "action_item"
    __table_args__ = (
        sa.CheckConstraint("status IN ('open', 'done', 'verified')", name="status_known"),
        sa.CheckConstraint("length(description) > 0", name="description_given"),
        sa.Index("ix_action_item_supplier_status", "supplier_id", "status", "due_on"),
        sa.Index("ix_action_item_status_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"),
                                            index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("agenda_item.id", ondelete="SET NULL"), index=True)
    description: Mapped[str] = mapped_column(sa.Text)
    supplier_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supplier.id", ondelete="SET NULL"))
    responsible_person: Mapped[str] = mapped_column(sa.String(100), default="")
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(sa.String(10), default=ActionStatus.OPEN)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    meeting: Mapped[Meeting] = relationship(back_populates="actions", foreign_keys=[meeting_id])
    agenda_item: Mapped[AgendaItem | None] = relationship(
        back_populates="actions", foreign_keys=[agenda_item_id])
    supplier: Mapped[Supplier | None] = relationship()
    feedback = relationship("Feedback", secondary=action_feedback, order_by="Feedback.id")

    @classmethod
    def overdue(cls, today: date):
        """SQL: open past its due date (derived, never stored)."""
        return sa.and_(cls.status == ActionStatus.OPEN, cls.due_on < today)

    def is_overdue(self, today: date) -> bool:
        return self.status == ActionStatus.OPEN and self.due_on is not None and \
            self.due_on < today

    DUE_WITHIN = 7  # days: an open item due this soon is "due" (the work list, ?state=due)

    @classmethod
    def due(cls, today: date):
        """SQL: open and due within :data:`DUE_WITHIN` days, or overdue already."""
        return sa.and_(cls.status == ActionStatus.OPEN,
                       cls.due_on <= today + timedelta(days=cls.DUE_WITHIN))

    @classmethod
    def owned_by(cls, user):
        """SQL: items whose responsible person is this user (by name, as minutes record it)."""
        return sa.func.trim(cls.responsible_person) == user.name.strip()

    @property
    def has_owner(self) -> bool:
        return self.supplier_id is not None or bool(self.responsible_person.strip())

    @classmethod
    def visible_to(cls, user):
        """Staff see every action item; a supplier's account its own supplier's, once their
        meeting is held (never a planned or cancelled meeting's)."""
        if user.role in STAFF:
            return sa.true()
        if user.role == Role.SUPPLIER:
            return sa.and_(cls.supplier_id == user.supplier_id, sa.exists().where(
                Meeting.id == cls.meeting_id,
                Meeting.status.in_((MeetingStatus.HELD, MeetingStatus.PUBLISHED))))
        return sa.false()


class MinutesRevision(db.Model):
    """An amendment of published minutes: why, who, when, and the item before and after."""

    __tablename__ = "minutes_revision"
    __table_args__ = (sa.CheckConstraint("reason != ''", name="reason_given"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(sa.ForeignKey("meeting.id", ondelete="CASCADE"),
                                            index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    what: Mapped[str] = mapped_column(sa.String(300), default="")
    before: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    after: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor = relationship("User")


# --- the page cache's keys (portal/page_cache.py) ---------------------------------------------
# A change of a meeting's record changes its own page and the pages of the feedback items its
# agenda and action items deal with (``feedback_key``, read by the feedback item page).


def meeting_key(meeting_id: int) -> str:
    return key("meetings", "meeting", meeting_id)


def feedback_key(feedback_id: int) -> str:
    """The meetings' part of one feedback item's page."""
    return key("meetings", "feedback", feedback_id)


def _meeting_keys(meeting, session) -> set[str]:
    keys = {meeting_key(meeting.id)}
    keys |= {feedback_key(item.feedback_id) for item in meeting.agenda if item.feedback_id}
    return keys | {feedback_key(f.id) for action in meeting.actions for f in action.feedback}


def _agenda_keys(item, session) -> set[str]:
    return {meeting_key(item.meeting_id)} | (
        {feedback_key(item.feedback_id)} if item.feedback_id else set())


def _action_keys(action, session) -> set[str]:
    return {meeting_key(action.meeting_id)} | {feedback_key(f.id) for f in action.feedback}


# Cached pages drawn from these models are rendered afresh after any change to them.
cache_scope("meetings", Meeting, MeetingAttendee, AgendaItem, ActionItem, MinutesRevision,
            keys={Meeting: _meeting_keys, AgendaItem: _agenda_keys, ActionItem: _action_keys,
                  MeetingAttendee: lambda row, session: {meeting_key(row.meeting_id)},
                  MinutesRevision: lambda row, session: {meeting_key(row.meeting_id)}})
