"""In-process timing of the work report on the bench database (issue 14: all figures of a
half-year < 300 ms on PostgreSQL, the DOCX export < 2 s).

``PORTAL_DATABASE_URL=... .venv/bin/python bench/workreport_inprocess.py [2026-H1 ...]`` after
``make bench`` has seeded the database: the median and worst of 10 runs of
``workreport.figures.compute`` (every figure for the period, the previous period and the same
period a year before, through the modules' report functions), with the number of SQL
statements, four ways: live (the stored figures of closed months off), cold (every stored
figure deleted before each run, so each run sums every month of the three half-years and
stores those that have ended: the first visit after installing, or after a change to a
venue), after a change to one month (the stored figures of the period's first month deleted
before each run: the first visit after a booking of that month changed) and warm (stored:
the visits after it), see ``portal/stored_figures.py`` and ``bookings/reports.py``; and of
the DOCX of a draft of that period (built in memory, nothing written, warm); then, per part
(the module report function that sent the statements), the median time its statements took
and how many there are (warm).

A database seeded before migration c4e1a9 (``booking.slot_seconds``) needs ``flask db upgrade``
first (it fills the column from the slots); ``VACUUM ANALYZE booking`` after it, as autovacuum
would, or the first runs read the rows the fill left behind.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import traceback
from collections import defaultdict

import sqlalchemy as sa
from flask import current_app

from portal import create_app
from portal.documents import render_docx
from portal.extensions import db
from portal.i18n import local_today
from portal.stored_figures import StoredFigure
from portal.workreport import periods
from portal.workreport.exports import report_document
from portal.workreport.figures import compute
from portal.workreport.models import WorkReport

RUNS = 10


def timed(call, before=None) -> tuple[float, float]:
    """Median and worst of the runs (``before`` each, untimed)."""
    call()  # warm-up
    samples = []
    for _ in range(RUNS):
        if before is not None:
            before()
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def forget_stored() -> None:
    """Delete every stored figure (committed at once): the next computation is cold."""
    with db.engine.begin() as connection:
        connection.execute(sa.delete(StoredFigure.__table__))


def forget_month(first_day) -> None:
    """Delete the stored figures of the month beginning ``first_day`` (committed at once), as
    a change to one of its bookings leaves them unused: the next computation sums that
    month again and stores it."""
    with db.engine.begin() as connection:
        connection.execute(sa.delete(StoredFigure.__table__).where(
            StoredFigure.__table__.c.first_day == first_day))


def statements_of(call) -> int:
    """The SQL statements one call sends."""
    statements = []

    def count(*_args):
        statements.append(1)
    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def _part() -> str:
    """The module report function sending the statement (its innermost frame in a module's
    reports or services)."""
    for frame in reversed(traceback.extract_stack()):
        if "/portal/" in frame.filename and frame.filename.endswith(("reports.py",
                                                                     "services.py")):
            return f"{os.path.basename(os.path.dirname(frame.filename))}.{frame.name}"
    return "other"


def parts_of(call) -> dict[str, tuple[float, int]]:
    """Per part: the median over the runs of its statements' time (ms), and their number."""
    times: dict[str, list[float]] = defaultdict(list)
    sent: dict[str, int] = defaultdict(int)
    started = {}

    def before(*_args):
        started["part"], started["at"] = _part(), time.perf_counter()

    def after(*_args):
        times[started["part"]].append((time.perf_counter() - started["at"]) * 1000)
        sent[started["part"]] += 1

    call()  # warm-up
    per_run: dict[str, list[float]] = defaultdict(list)
    for _ in range(RUNS):
        times.clear()
        sa.event.listen(db.engine, "before_cursor_execute", before)
        sa.event.listen(db.engine, "after_cursor_execute", after)
        try:
            call()
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)
            sa.event.remove(db.engine, "after_cursor_execute", after)
        for part, spent in times.items():
            per_run[part].append(sum(spent))
    return {part: (statistics.median(spent), sent[part] // RUNS)
            for part, spent in sorted(per_run.items(), key=lambda item: -sum(item[1]))}


def measure(key: str) -> None:
    period = periods.parse(key)
    config = current_app.config
    for label, stored, before in (
            ("live", False, None), ("cold", True, forget_stored),
            ("after a change to one month", True, lambda: forget_month(period.period.first)),
            ("warm", True, None)):
        config["STORED_FIGURES"] = stored
        if before is not None:
            before()
        queries = statements_of(lambda: compute(period))
        median, worst = timed(lambda: compute(period), before)
        print(f"| all figures (this, previous, a year before), {label} | {key} | "
              f"{median:.0f} | {worst:.0f} | {queries} | < 300 ms |")
    config["STORED_FIGURES"] = True
    draft = WorkReport(period_key=period.key, version=1, status="draft", narratives={})
    median, worst = timed(lambda: render_docx(report_document(draft)))
    print(f"| DOCX export (figures computed and rendered) | {key} | {median:.0f} | "
          f"{worst:.0f} | | < 2000 ms |")
    print(f"\n| part of all figures, {key} | median ms | SQL statements |\n|---|---:|---:|")
    for part, (spent, statements) in parts_of(lambda: compute(period)).items():
        print(f"| {part} | {spent:.1f} | {statements} |")
    print()


def main() -> None:
    app = create_app({"SECRET_KEY": "bench", "RATELIMIT_ENABLED": False})
    assert "bench" in os.environ.get("PORTAL_DATABASE_URL", ""), "point it at a bench database"
    with app.test_request_context():
        today = local_today()
        keys = sys.argv[1:] or [f"{today.year}-H{1 if today.month <= 6 else 2}"]
        for key in keys:
            print("| what | period | median ms | worst ms | SQL statements | goal |")
            print("|---|---|---:|---:|---:|---|")
            measure(key)


if __name__ == "__main__":
    main()
