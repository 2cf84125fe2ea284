"""Alerts that must go out once: expiry warnings, overdue rent, deposits to return...

One mechanism for every module: :func:`expiry_marks` says which warning thresholds an end
date has reached, and :func:`send_once` records each alert (kind, record, mark) under a unique
constraint before queueing its email, so a tick that runs twice, or two ticks at once, send
it exactly once.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .database import UTCDateTime, is_unique_violation, utcnow, write_transaction
from .extensions import db
from .outbox.services import queue_email

EXPIRY_THRESHOLDS = (90, 60, 30)  # days before the end: the warnings sent


class AlertSent(db.Model):
    __tablename__ = "alert_sent"
    __table_args__ = (
        sa.UniqueConstraint("kind", "object_type", "object_id", "mark",
                            name="uq_alert_sent_once"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int]
    mark: Mapped[str] = mapped_column(sa.String(40))  # e.g. "90d" or a due date
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def days_left(end: date, today: date) -> int:
    return (end - today).days


def expiry_marks(end: date, today: date, thresholds=EXPIRY_THRESHOLDS) -> list[int]:
    """The thresholds (in days) already reached by something that ends on ``end``."""
    left = days_left(end, today)
    return [days for days in thresholds if 0 <= left <= days]


def is_expiring(end: date, today: date, within: int = max(EXPIRY_THRESHOLDS)) -> bool:
    """Derived, never stored: ends within ``within`` days from today."""
    return 0 <= days_left(end, today) <= within


def send_once(kind: str, object_type: str, object_id: int, mark: str,
              emails: list[tuple[str, str | None]], template: str, **context) -> bool:
    """Queue ``template`` to each (address, locale) unless this alert was sent; True if sent."""
    try:
        with write_transaction():
            db.session.add(AlertSent(kind=kind, object_type=object_type, object_id=object_id,
                                     mark=mark))
            db.session.flush()
            for address, locale in emails:
                if address:
                    queue_email(address, template, locale=locale, **context)
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):
            return False  # already sent, maybe by a tick running at the same time
        raise
    return True
