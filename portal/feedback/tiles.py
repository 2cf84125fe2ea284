"""Feedback on the home pages.

A supervisor's home leads with a large "give feedback" button (while their term is active)
and three tiles that open their own list filtered: waiting for their confirmation (resolved),
being handled (open) and overdue.  Staff and admins get the open and overdue items beside the
other modules' tiles, each opening the queue filtered.  One query per home page for the
counts (the button: one more, the supervisor's active appointment)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l

from ..core.dashboard import HomeAction, Tile, home_action_provider, tile_provider
from ..extensions import db
from ..roles import Role
from . import services
from .models import Feedback, FeedbackStatus


def _count_if(condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def figures(user, on=None) -> dict[str, int]:
    """Open, resolved (awaiting confirmation) and overdue items the user may see (one
    query)."""
    on = on or services.today()
    row = db.session.execute(sa.select(
        _count_if(Feedback.status.in_(FeedbackStatus.OPEN)),
        _count_if(Feedback.status == FeedbackStatus.RESOLVED),
        _count_if(Feedback.overdue(on)))
        .where(Feedback.visible_to(user))).one()
    return dict(zip(("open", "resolved", "overdue"), (int(v or 0) for v in row), strict=True))


@home_action_provider
def feedback_actions(user) -> list[HomeAction]:
    if user.role != Role.SUPERVISOR or services.active_appointment(user.id) is None:
        return []
    return [HomeAction(_l("Give feedback"), url_for("feedback.submit"))]


@tile_provider
def feedback_tiles(user) -> list[Tile]:
    if user.role == Role.SUPERVISOR:
        found = figures(user)
        return [
            Tile(_l("Resolved, waiting for your confirmation"), str(found["resolved"]),
                 url_for("feedback.mine", status=FeedbackStatus.RESOLVED),
                 tone="warning" if found["resolved"] else "good"),
            Tile(_l("My feedback being handled"), str(found["open"]),
                 url_for("feedback.mine", status="open")),
            Tile(_l("My feedback overdue"), str(found["overdue"]),
                 url_for("feedback.mine", status="open", overdue=1),
                 tone="danger" if found["overdue"] else "good"),
        ]
    if user.role in Role.BUREAU:
        found = figures(user)
        return [
            Tile(_l("Open feedback"), str(found["open"]),
                 url_for("feedback.queue", status="open")),
            Tile(_l("Overdue feedback"), str(found["overdue"]),
                 url_for("feedback.queue", status="open", overdue=1),
                 tone="danger" if found["overdue"] else "good"),
        ]
    return []
