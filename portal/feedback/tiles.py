"""Feedback tiles on the home page: waiting and overdue items for staff, a supervisor's own
open items (one query each)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from ..core.dashboard import Tile, tile_provider
from ..extensions import db
from ..roles import Role
from . import services
from .models import Feedback, FeedbackStatus


@tile_provider
def feedback_tiles(user) -> list[Tile]:
    today = services.today()

    def count_if(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

    if user.role in (Role.STAFF, Role.ADMIN):
        waiting, overdue = db.session.execute(sa.select(
            count_if(Feedback.status == FeedbackStatus.SUBMITTED),
            count_if(Feedback.resolution_overdue(today)))).one()
        return [
            Tile(_l("Feedback waiting to be accepted"), str(waiting),
                 url_for("feedback.queue", status=FeedbackStatus.SUBMITTED),
                 tone="warning" if waiting else "good"),
            Tile(_l("Feedback overdue"), str(overdue),
                 url_for("feedback.queue", status="open", overdue=1),
                 tone="danger" if overdue else "good"),
        ]
    if user.role == Role.SUPERVISOR:
        open_items, to_confirm = db.session.execute(sa.select(
            count_if(Feedback.status.in_(FeedbackStatus.OPEN)),
            count_if(Feedback.status == FeedbackStatus.RESOLVED))
            .where(Feedback.supervisor_id == user.id)).one()
        return [
            Tile(_l("My feedback being handled"), str(open_items), url_for("feedback.mine")),
            Tile(_l("Resolved, waiting for your confirmation"), str(to_confirm),
                 url_for("feedback.mine"), tone="warning" if to_confirm else "good"),
        ]
    return []
