"""Joint-meeting figures for a span of days (the work report reads them; one query, also for
several spans).

For local days ``[first, end)``: the service-quality joint meetings held (held or minutes
published, starting in the span), the action items opened (created in the span) and verified
(verified in the span), and the action items overdue at the span's end (open, due before it;
for a span still running, today).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

import sqlalchemy as sa

from ..extensions import db
from ..i18n import local_today, local_zone
from ..reporting import count_when
from .models import ActionItem, ActionStatus, Meeting, MeetingStatus


@dataclass
class MeetingFigures:
    held: int = 0
    actions_opened: int = 0
    actions_verified: int = 0
    actions_overdue: int = 0


def _moment(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=local_zone())


def meeting_figures(first: date, end: date) -> MeetingFigures:
    """Meetings held and action items opened, verified and overdue (one query)."""
    return meeting_figures_of([(first, end)])[0]


def meeting_figures_of(spans: list[tuple[date, date]]) -> list[MeetingFigures]:
    """:func:`meeting_figures` of each span ``(first, end)``, in one query whatever the spans
    (the work report reads three): four columns per span, the action items read once."""
    columns = []
    for first, end in spans:
        start, stop = _moment(first), _moment(end)
        on = min(end, local_today())
        held = (sa.select(sa.func.count()).select_from(Meeting)
                .where(Meeting.status.in_((MeetingStatus.HELD, MeetingStatus.PUBLISHED)),
                       Meeting.starts_at >= start, Meeting.starts_at < stop).scalar_subquery())
        overdue = sa.and_(ActionItem.due_on < on, ActionItem.created_at < stop, sa.or_(
            ActionItem.status == ActionStatus.OPEN, ActionItem.done_at >= _moment(on)))
        columns += [
            held,
            count_when(sa.and_(ActionItem.created_at >= start, ActionItem.created_at < stop)),
            count_when(sa.and_(ActionItem.verified_at >= start, ActionItem.verified_at < stop)),
            count_when(overdue)]
    row = [int(value or 0) for value in
           db.session.execute(sa.select(*columns).select_from(ActionItem)).one()]
    return [MeetingFigures(*row[4 * idx:4 * idx + 4]) for idx in range(len(spans))]
