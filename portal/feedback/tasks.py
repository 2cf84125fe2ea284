"""Feedback's periodic work, run by ``flask --app portal tick``: escalate overdue items.

An item past either SLA deadline — no first response by its response deadline
(:meth:`Feedback.response_overdue`), or still open after its resolution deadline
(:meth:`Feedback.resolution_overdue`), the one definition the lists and the dashboard use
too — is escalated to the admins once per deadline, through the one send-once mechanism
(:func:`portal.alerts.send_each`, kind ``feedback_escalated``, marks ``response_overdue`` and
``overdue``); ``escalated_at`` is set and the timeline says which deadline was missed.  An
item reopened twice is escalated at once by :func:`portal.feedback.services.apply_transition`
(mark ``reopened``).  Two ticks at once send each alert once (the unique row of ``send_each``).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..alerts import AlertSent, send_each
from ..extensions import db
from ..tasks import tick_task
from . import services
from .models import Feedback

KIND = "feedback_escalated"


def _not_sent(mark: str):
    return ~sa.select(AlertSent.id).where(
        AlertSent.kind == KIND, AlertSent.object_type == "feedback",
        AlertSent.object_id == Feedback.id, AlertSent.mark == mark).exists()


def overdue_to_escalate(on: date):
    """Items past a deadline whose escalation for that deadline was not sent yet."""
    return (sa.select(Feedback)
            .where(sa.or_(
                sa.and_(Feedback.response_overdue(on), _not_sent(services.ESCALATE_RESPONSE)),
                sa.and_(Feedback.resolution_overdue(on),
                        _not_sent(services.ESCALATE_RESOLUTION))))
            .options(selectinload(Feedback.category))
            .order_by(Feedback.response_due_on, Feedback.id))


@tick_task("overdue feedback escalated")
def escalate_overdue(on: date | None = None) -> int:
    """Escalate each missed deadline of each item once; the number of escalations sent
    (in batches: a backlog of thousands costs its size, :func:`portal.alerts.send_each`)."""
    on = on or services.today()
    admins = services.admin_recipients()
    return send_each([
        services.escalation(item, why, admins=admins)
        for item in db.session.scalars(overdue_to_escalate(on)).all()
        for why, missed in ((services.ESCALATE_RESPONSE, item.is_response_overdue(on)),
                            (services.ESCALATE_RESOLUTION, item.is_resolution_overdue(on)))
        if missed])
