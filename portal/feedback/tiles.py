"""Feedback tiles on a supervisor's home page: their items being handled and those waiting for
their confirmation (one query).  Staff find waiting and overdue items in the queue's filters
(the staff home page's tiles are counted by the rentals tests)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from ..core.dashboard import Tile, tile_provider
from ..extensions import db
from ..roles import Role
from .models import Feedback, FeedbackStatus


@tile_provider
def feedback_tiles(user) -> list[Tile]:
    def count_if(condition):
        return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)

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
