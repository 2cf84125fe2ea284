"""The joint meetings' part of the supplier scorecard (:mod:`portal.suppliers.scorecard`):
the supplier's open and overdue action items, and its satisfaction by category over its latest
survey rounds (through the one adapter, :mod:`portal.meetings.satisfaction`)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..pages import page_section
from ..reporting import count_when
from ..suppliers.models import Supplier
from ..suppliers.scorecard import SCORECARD
from . import satisfaction
from .models import ActionItem, ActionStatus, Meeting, MeetingStatus


@page_section(SCORECARD)
def meetings_section(supplier: Supplier, period, on: date) -> dict:
    live = sa.and_(ActionItem.supplier_id == supplier.id,
                   Meeting.status != MeetingStatus.CANCELLED)
    open_actions, overdue_actions, awaiting = db.session.execute(
        sa.select(count_when(ActionItem.status == ActionStatus.OPEN),
                  count_when(ActionItem.overdue(on)),
                  count_when(ActionItem.status == ActionStatus.DONE))
        .join(Meeting, Meeting.id == ActionItem.meeting_id).where(live)).one()
    overdue_list = list(db.session.scalars(
        sa.select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(live, ActionItem.overdue(on)).options(selectinload(ActionItem.meeting))
        .order_by(ActionItem.due_on, ActionItem.id).limit(20)))
    figures = satisfaction.supplier_satisfaction([supplier.id],
                                                 rounds=satisfaction.SCORECARD_ROUNDS)
    return {"open_actions": open_actions, "overdue_actions": overdue_actions,
            "awaiting_actions": awaiting, "overdue_list": overdue_list,
            "satisfaction": figures.get(supplier.id) or []}
