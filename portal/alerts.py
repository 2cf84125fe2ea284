"""Alerts that must go out once: expiry warnings, overdue rent, deposits to return...

One mechanism for every module: :func:`expiry_marks` says which warning thresholds an end
date has reached, and :func:`send_once` records each alert (kind, record, mark) under a unique
constraint before queueing its email, so a tick that runs twice, or two ticks at once, send
it exactly once; :func:`send_each` sends many in batches (a backlog costs its size, not its
square).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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


@dataclass
class Alert:
    """One alert to send once: ``template`` mailed to each (address, locale) of ``emails``
    unless an alert of ``kind`` about the object with this ``mark`` was sent. ``recorded``:
    also done, in the same transaction, when it is sent (an escalation's timeline entry)."""

    kind: str
    object_type: str
    object_id: int
    mark: str
    emails: list[tuple[str, str | None]]
    template: str
    context: dict = field(default_factory=dict)
    recorded: Callable[[], object] | None = None


# Alerts per write transaction when a task sends many: a backlog (the first tick after an
# import, or after ticks did not run for a while) is thousands of alerts, and a transaction
# per alert ends the read snapshot each time, expiring every object the task loaded, so the
# time grew with the square of the backlog (the bench data's first tick: 3,181 escalations
# in over 15 minutes; in batches, the 11,646 left took 2 minutes 18 seconds).
ALERT_BATCH = 50


def send_once(kind: str, object_type: str, object_id: int, mark: str,
              emails: list[tuple[str, str | None]], template: str, **context) -> bool:
    """Queue ``template`` to each (address, locale) unless this alert was sent; True if sent."""
    return bool(send_each([Alert(kind, object_type, object_id, mark, emails, template,
                                 context)]))


def send_each(alerts: Iterable[Alert]) -> int:
    """Send each alert once (:func:`send_once`'s rule), :data:`ALERT_BATCH` to a write
    transaction; the number sent now.  Each alert is claimed in a savepoint: one already sent,
    maybe by a tick running at the same time (it waits for that tick's batch to commit), is
    skipped, and the rest of its batch goes on.  Any other failure rolls back the batch
    (the batches before it stay sent)."""
    sent = 0
    batch: list[Alert] = []
    for alert in alerts:
        batch.append(alert)
        if len(batch) == ALERT_BATCH:
            sent += _send_batch(batch)
            batch = []
    if batch:
        sent += _send_batch(batch)
    return sent


def _send_batch(alerts: list[Alert]) -> int:
    sent = 0
    with write_transaction():
        for alert in alerts:
            try:
                with write_transaction():  # nested: a savepoint
                    db.session.add(AlertSent(kind=alert.kind, object_type=alert.object_type,
                                             object_id=alert.object_id, mark=alert.mark))
                    db.session.flush()
                    for address, locale in alert.emails:
                        if address:
                            queue_email(address, alert.template, locale=locale,
                                        **alert.context)
                    if alert.recorded is not None:
                        alert.recorded()
            except sa.exc.IntegrityError as error:
                if is_unique_violation(error):
                    continue  # already sent
                raise
            sent += 1
    return sent


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
    marks = [(candidate, expiry_mark(candidate.ends_on, today)) for candidate in candidates]
    return send_each(
        Alert(kind, object_type, candidate.object_id, mark, candidate.emails, template,
              {"days": days_left(candidate.ends_on, today), **candidate.context})
        for candidate, mark in marks
        if mark is not None and (candidate.object_id, mark) not in sent)
