"""Links from the other modules to joint meetings: the meetings a feedback item was dealt at,
a supplier's meetings, the meeting a booking holds.

A feedback item's page (staff and its supervisor) shows the meetings whose agenda held it or
whose action items answer it (linked directly, or through its agenda item). Who sees what:

* staff see every such meeting but a cancelled one, with links to the meeting, the agenda
  item and the action item;
* the supervisor sees only meetings whose **minutes are published** — planned or held
  meetings' notes are internal drafts — as plain sentences (date, meeting, decisions, measures
  and whether each was verified), never a link into the staff pages.

Two queries whatever the number of meetings (the agenda items, the action items, each with
its meeting).

A supplier's page lists its newest meetings (:func:`supplier_meetings`: invited, or named by
an agenda item or an action item), the meetings list filters by the same condition; a
booking's page shows the meetings held in it (:func:`booking_meetings`, staff only).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..i18n import local_date, to_local
from ..pages import page_section
from ..roles import Role
from .models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    Meeting,
    MeetingStatus,
    action_feedback,
    meeting_supplier,
)


@dataclass
class MeetingLink:
    """One meeting that dealt with a feedback item: its agenda items and action items on it."""

    meeting: Meeting
    agenda: list[AgendaItem] = field(default_factory=list)
    actions: list[ActionItem] = field(default_factory=list)

    @property
    def decisions(self) -> list[str]:
        return [item.decisions.strip() for item in self.agenda if item.decisions.strip()]

    @property
    def sentence(self) -> str:
        """What the supervisor reads: "已在 2026年11月1日 第三季度联席会议上研究。……"."""
        day = local_date(to_local(self.meeting.starts_at).date(), "long")
        parts = [_("Discussed at %(meeting)s on %(date)s.", meeting=self.meeting.title,
                   date=day)]
        if self.decisions:
            parts.append(_("Decided: %(decisions)s", decisions="; ".join(self.decisions)))
        measures = [_("%(measure)s (%(status)s)", measure=action.description,
                      status=action_state(action)) for action in self.actions]
        if measures:
            parts.append(_("Remedial measures: %(measures)s", measures="; ".join(measures)))
        return " ".join(parts)


def action_state(action: ActionItem) -> str:
    """"verified on 2026-11-20", or the action item's status."""
    if action.status == ActionStatus.VERIFIED and action.verified_at is not None:
        return _("verified on %(date)s",
                 date=local_date(to_local(action.verified_at).date(), "long"))
    return str(ActionStatus.LABELS[action.status])


def _meetings_seen_by(user):
    """SQL: the meetings whose dealings with a feedback item this user is shown."""
    if user.role in Role.BUREAU:
        return Meeting.status != MeetingStatus.CANCELLED
    return Meeting.status == MeetingStatus.PUBLISHED


def feedback_meetings(feedback_id: int, user) -> list[MeetingLink]:
    """The meetings that dealt with this feedback item, newest first (two queries)."""
    seen = _meetings_seen_by(user)
    agenda = db.session.scalars(
        sa.select(AgendaItem).join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(AgendaItem.feedback_id == feedback_id, seen)
        .options(contains_eager(AgendaItem.meeting))
        .order_by(AgendaItem.position, AgendaItem.id)).all()
    # The actions answering the item and those of its agenda items, as one list of ids (a
    # union, each part through its index): an OR of the two made PostgreSQL test every
    # action item of every meeting.
    related = sa.union(
        sa.select(action_feedback.c.action_id).where(
            action_feedback.c.feedback_id == feedback_id),
        sa.select(ActionItem.id).join(AgendaItem, AgendaItem.id == ActionItem.agenda_item_id)
        .where(AgendaItem.feedback_id == feedback_id))
    actions = db.session.scalars(
        sa.select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(ActionItem.id.in_(related), seen)
        .options(contains_eager(ActionItem.meeting))
        .order_by(ActionItem.id)).all()
    links: dict[int, MeetingLink] = {}
    for item in agenda:
        links.setdefault(item.meeting_id, MeetingLink(item.meeting)).agenda.append(item)
    for action in actions:
        links.setdefault(action.meeting_id, MeetingLink(action.meeting)).actions.append(action)
    return sorted(links.values(), key=lambda link: (link.meeting.starts_at, link.meeting.id),
                  reverse=True)


@page_section("feedback.item")
def feedback_page_context(item, user) -> dict:
    """What the feedback item's page needs for its "joint meetings" section."""
    return {"meeting_links": feedback_meetings(item.id, user),
            "meeting_status_labels": MeetingStatus.LABELS,
            "action_status_labels": ActionStatus.LABELS, "action_state": action_state}


# --- a supplier's meetings, a booking's meetings ----------------------------------------------

SUPPLIER_PAGE_MEETINGS = 5


def supplier_condition(supplier_id: int):
    """SQL: the meetings a supplier took part in — invited, or named by an agenda item or an
    action item."""
    return sa.or_(
        Meeting.id.in_(sa.select(meeting_supplier.c.meeting_id)
                       .where(meeting_supplier.c.supplier_id == supplier_id)),
        Meeting.id.in_(sa.select(AgendaItem.meeting_id)
                       .where(AgendaItem.supplier_id == supplier_id)),
        Meeting.id.in_(sa.select(ActionItem.meeting_id)
                       .where(ActionItem.supplier_id == supplier_id)))


def supplier_meetings(supplier_id: int, limit: int = SUPPLIER_PAGE_MEETINGS
                      ) -> tuple[list[Meeting], bool]:
    """Its newest meetings (one query) and whether there are more (the meetings list,
    filtered by the supplier, shows them all)."""
    found = db.session.scalars(
        sa.select(Meeting).where(supplier_condition(supplier_id))
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(limit + 1)).all()
    return list(found[:limit]), len(found) > limit


@page_section("suppliers.supplier")
def supplier_page_context(supplier, user) -> dict:
    """What the supplier's page needs for its "joint meetings" section."""
    meetings, more = supplier_meetings(supplier.id)
    return {"meetings": meetings, "more_meetings": more,
            "meeting_status_labels": MeetingStatus.LABELS}


def booking_meetings(booking_id: int, user) -> list[Meeting]:
    """The meetings held in this booking's rooms: internal, so shown to staff only."""
    if user.role not in Role.BUREAU:
        return []
    return list(db.session.scalars(
        sa.select(Meeting).where(Meeting.booking_id == booking_id)
        .order_by(Meeting.starts_at, Meeting.id)))


@page_section("bookings.booking")
def booking_page_context(booking, user) -> dict:
    """What the booking's page needs for its "meetings held here" section."""
    return {"meetings": booking_meetings(booking.id, user)}
