"""Feedback's periodic work, run by ``flask --app portal tick``: escalate overdue items.

An open item past its resolution deadline (:meth:`Feedback.resolution_overdue`, the one
definition the lists and the dashboard use too) is escalated to the admins once, through the
one send-once mechanism (:func:`portal.alerts.send_once`, kind ``feedback_escalated``, mark
``overdue``); ``escalated_at`` is set and the timeline says so.  An item reopened twice is
escalated at once by :func:`portal.feedback.services.apply_transition` (mark ``reopened``).
Two ticks at once send each alert once (the unique row of ``send_once``).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..alerts import AlertSent
from ..extensions import db
from ..tasks import tick_task
from . import services
from .models import Feedback

KIND = "feedback_escalated"


def overdue_to_escalate(on: date):
    sent = sa.select(AlertSent.id).where(
        AlertSent.kind == KIND, AlertSent.object_type == "feedback",
        AlertSent.object_id == Feedback.id, AlertSent.mark == "overdue")
    return (sa.select(Feedback).where(Feedback.resolution_overdue(on), ~sent.exists())
            .options(selectinload(Feedback.category))
            .order_by(Feedback.resolution_due_on, Feedback.id))


@tick_task("overdue feedback escalated")
def escalate_overdue(on: date | None = None) -> int:
    """Escalate each open item past its resolution deadline once; the number escalated."""
    on = on or services.today()
    count = 0
    for item in db.session.scalars(overdue_to_escalate(on)).all():
        count += services.escalate(item, "overdue")
    return count
