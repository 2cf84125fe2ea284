"""Alerts that must go out once: expiry warnings, overdue rent, deposits to return...

One mechanism for every module: :func:`expiry_marks` says which warning thresholds an end
date has reached, and :func:`send_once` records each alert (kind, record, mark) under a unique
constraint before queueing its email, so a tick that runs twice, or two ticks at once, send
it exactly once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
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


# --- expiry warnings (leases, service contracts...) ------------------------------------------


def expiry_mark(end: date, today: date, thresholds=EXPIRY_THRESHOLDS) -> str | None:
    """The warning due now, as a mark (``"30d"``), or None.

    When several thresholds are reached at once (a record made 20 days before its end, or
    ticks that did not run for weeks) only the most urgent one is sent: the earlier warnings
    would be stale.
    """
    reached = expiry_marks(end, today, thresholds)
    return f"{min(reached)}d" if reached else None


@dataclass
class ExpiryCandidate:
    """Something that ends on ``ends_on``, who to warn, and its template's context."""

    object_id: int
    ends_on: date
    emails: list[tuple[str, str | None]]
    context: dict = field(default_factory=dict)


def sent_marks(kind: str, object_type: str, object_ids: Iterable[int]) -> set[tuple[int, str]]:
    """(object id, mark) of the alerts of ``kind`` already sent about these records (1 query)."""
    ids = list(object_ids)
    if not ids:
        return set()
    return set(db.session.execute(
        sa.select(AlertSent.object_id, AlertSent.mark).where(
            AlertSent.kind == kind, AlertSent.object_type == object_type,
            AlertSent.object_id.in_(ids))).all())


def send_expiry_warnings(kind: str, object_type: str, template: str,
                         candidates: list[ExpiryCandidate], today: date) -> int:
    """Send each candidate's current expiry warning once; the number sent.

    The template gets ``days`` (days left) and the candidate's context.
    """
    if not candidates:
        return 0
    sent = sent_marks(kind, object_type, [candidate.object_id for candidate in candidates])
    count = 0
    for candidate in candidates:
        mark = expiry_mark(candidate.ends_on, today)
        if mark is None or (candidate.object_id, mark) in sent:
            continue
        count += send_once(kind, object_type, candidate.object_id, mark, candidate.emails,
                           template, days=days_left(candidate.ends_on, today),
                           **candidate.context)
    return count
