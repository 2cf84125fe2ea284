"""Stored figures of closed periods (issue 17): a report source's result for a period that has
ended, kept with the data versions it was computed under and used while they still hold.

A *source* (:class:`Source`: a module's report function, e.g. the venue figures) names the
page-cache scope its data belongs to and the finer keys of that scope that a period's data
replaces on every change (``portal/page_cache.py``: the bookings' month keys).  For each
period asked for, :func:`results` uses the stored result when the period has ended before
today (local date) and the tokens of its keys and of the scope's shared key (replaced by
changes of models without keys and by bulk statements) are those it was computed under;
every other period is computed live, in the source's one pass for several periods, and a
closed one is then stored (upserted) with those tokens.  A period that has not ended is never
stored.  The tokens are replaced in the same transaction as the data (``_replace_tokens``,
before commit), so a stored result is used only while no change of its data has committed
since it was computed; a rolled-back change leaves the tokens, and random tokens never come
back.

Storing is a cache, not a second source of truth: the result is what the live computation
gives (tests compare it with a live recount after each kind of write), and a source's
``version`` is part of the digest, so a change of its computation leaves older rows unused.
``PORTAL_STORED_FIGURES=0`` computes everything live (the benchmark's "before").
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol, TypeVar

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from .database import UTCDateTime, utcnow
from .extensions import db
from .i18n import local_today
from .page_cache import shared_key, tokens

log = logging.getLogger(__name__)


class StoredFigure(db.Model):
    """One source's result for one closed period ``[first_day, end_day)``."""

    __tablename__ = "stored_figure"
    __table_args__ = (sa.CheckConstraint("first_day < end_day", name="period_not_empty"),)

    source: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    first_day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    end_day: Mapped[date] = mapped_column(sa.Date, primary_key=True)  # the day after the last
    # A digest of the source's version and the tokens of its data's keys when computed.
    versions: Mapped[str] = mapped_column(sa.String(64))
    result: Mapped[object] = mapped_column(sa.JSON)  # the source's result, as JSON
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class _Span(Protocol):
    first: date
    end: date


P = TypeVar("P", bound=_Span)


@dataclass(frozen=True)
class Source:
    """A report function whose results of closed periods are stored.

    ``scope``: the page-cache scope of the data it reads; ``keys``: the finer keys of that
    scope which every change to the data of the days ``[first, end)`` replaces (the scope's
    shared key is always read too); ``settings``: what else the result depends on (settings
    read by the computation, as text); ``version``: raise it when the computation changes."""

    name: str
    scope: str
    keys: Callable[[date, date], Iterable[str]]
    settings: Callable[[], Sequence[str]] = lambda: ()
    version: int = 1

    def digest(self, versions: Sequence[str]) -> str:
        text = json.dumps([self.name, self.version, *self.settings(), *versions])
        return hashlib.sha256(text.encode()).hexdigest()


def storable(period: _Span) -> bool:
    """Would a result of ``period`` be stored (it has ended before today, and storing is on)?
    A source computing a closed period live computes all of what a stored result holds."""
    return bool(current_app.config.get("STORED_FIGURES", True)) and period.end <= local_today()


def results(source: Source, periods: Sequence[P],
            compute: Callable[[list[P]], list]) -> list:
    """The source's result for each period (JSON-like: what ``json.loads`` gives back): the
    stored one of a closed period whose data has not changed since, else ``compute`` of the
    periods missing (one call, in the order asked; each period once; no call for none) and the
    closed ones among them stored."""
    spans = [(period.first, period.end) for period in periods]
    closed = sorted({span for span, period in zip(spans, periods, strict=True)
                     if storable(period)})
    session = db.session()
    digests: dict[tuple[date, date], str] = {}
    if closed:
        keys = {span: [shared_key(source.scope), *source.keys(*span)] for span in closed}
        every = tuple(sorted({key for names in keys.values() for key in names}))
        # The tokens are read BEFORE the data is: under READ COMMITTED each statement sees
        # what had committed when it began, so a change committing between the two reads
        # is seen by the data and not by the tokens read here; the result is then stored
        # under the older tokens, which no longer match, and is never used. Read after the
        # data, the newer tokens could go with data read before that change: a stale result
        # that would look valid for good.
        current = dict(zip(every, tokens(every), strict=True))
        # A write transaction that has changed this scope (flushed: the read above flushed
        # it) sees data its tokens do not describe yet (they are replaced at commit): no
        # stored result is used or written for it.
        changed = session.info.get("changed_scopes") or set()
        if source.scope not in changed:
            digests = {span: source.digest([current[key] for key in keys[span]])
                       for span in closed}
    stored = {}
    if digests:
        rows = session.execute(
            sa.select(StoredFigure.first_day, StoredFigure.end_day, StoredFigure.versions,
                      StoredFigure.result)
            .where(StoredFigure.source == source.name,
                   StoredFigure.first_day.in_({first for first, _end in digests})))
        stored = {(first, end): result for first, end, versions, result in rows
                  if digests.get((first, end)) == versions}
    missing: dict[tuple[date, date], P] = {}
    for span, period in zip(spans, periods, strict=True):
        if span not in stored:
            missing.setdefault(span, period)
    fresh = dict(zip(missing, compute(list(missing.values())) if missing else [], strict=True))
    kept = [span for span in fresh if span in digests]
    if kept:
        _store(source, [{"source": source.name, "first_day": first, "end_day": end,
                         "versions": digests[first, end],
                         "result": fresh[first, end], "computed_at": utcnow()}
                        for first, end in kept])
    return [stored[span] if span in stored else fresh[span] for span in spans]


def _upsert(connection, rows: list[dict]) -> None:
    """Insert the rows, or replace the stored ones of the same source and period. Rows in a
    fixed order (sorted by period), so two readers storing several never deadlock."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    table = StoredFigure.__table__
    statement = insert(table).values(rows)
    connection.execute(statement.on_conflict_do_update(
        index_elements=[table.c.source, table.c.first_day, table.c.end_day],
        set_={name: statement.excluded[name] for name in ("versions", "result",
                                                          "computed_at")}))


def _store(source: Source, rows: list[dict]) -> None:
    """Store the results, committed at once whatever the request does next.

    A read (most pages) stores through a session of its own (another connection, or in the
    tests a savepoint of theirs): the request's read snapshot and the objects it loaded stay
    as they are. Within a write transaction they are stored with it, undone if it rolls
    back (its data may not be committed yet). Two readers storing the same period at once
    both upsert results valid for the tokens they read; the later write wins, and one whose
    tokens are no longer current is simply not used. A failure to store (a lock timeout)
    costs only the saving: the figures are computed anyway."""
    rows = sorted(rows, key=lambda row: (row["first_day"], row["end_day"]))
    session = db.session()
    if session.info.get("portal_write"):
        _upsert(session.connection(), rows)
        return
    side = db.session.session_factory()
    try:
        with side.begin():
            _upsert(side.connection(), rows)
    except sa.exc.OperationalError as error:
        log.warning("stored figures of %s not saved: %s", source.name, error)
    finally:
        side.close()
