"""``flask bench-profile PATH``: where one page's time goes, found in a minute (issue 17).

The page is rendered in-process, the page cache off, as an anonymous visitor or as a logged-in
account (``--as ROLE``: the first active account of that role; ``--user EMAIL``), through the
whole request (``before_request`` hooks, the view, the template, ``after_request``): one
warm-up, then ``--runs`` timed renders (the median is the figure), then one more under
cProfile.  It prints

* the status, size and render time (median, best and worst of the runs, and the share of it
  spent waiting for SQL);
* the SQL statements of one run grouped by their text (numbers and IN-lists folded), slowest
  first: how many times each ran, its total and its slowest time;
* the top Python frames of the profiled run, by cumulative and by own (``tottime``) time,
  and how many Python calls it made: unlike the times, a count the machine's load does not
  move, so a change's effect shows on a shared machine.

Only the standard library (``cProfile``, ``pstats``) and SQLAlchemy's cursor events are used;
each render's request ends as a served one does (a read-only transaction commits, keeping the
connection's prepared statements; a GET that did commit would keep its write, as it does for
any reader).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import Flask
from flask_login import login_user

from .auth.models import User
from .extensions import db

_NUMBERS = re.compile(r"\b\d+\b")
# A parenthesised list of bound parameters, each maybe cast (PostgreSQL: %(id_1_1)s::INTEGER).
_LISTS = re.compile(r"\((?:\s*(?:%\(\w+\)s|\?|:\w+|__\[POSTCOMPILE_\w+\])"
                    r"(?:::[A-Z][A-Z ]*)?\s*,?)+\)")
_SPACES = re.compile(r"\s+")


def statement_shape(statement: str) -> str:
    """A statement's text with runs of whitespace, numbers and IN-lists of parameters folded,
    so that the same query with other arguments groups together."""
    text = _SPACES.sub(" ", statement).strip()
    text = _LISTS.sub("(…)", text)
    return _NUMBERS.sub("N", text)


@dataclass
class StatementGroup:
    shape: str
    count: int = 0
    total_ms: float = 0.0
    slowest_ms: float = 0.0


@dataclass
class Profile:
    path: str
    who: str
    status: int = 0
    size: int = 0
    times_ms: list[float] = field(default_factory=list)
    statements: list[StatementGroup] = field(default_factory=list)
    statement_count: int = 0
    sql_ms: float = 0.0
    frames_cumulative: str = ""
    frames_own: str = ""
    calls: int = 0  # Python function calls of the profiled run

    @property
    def median_ms(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else 0.0


@contextmanager
def recording_sql(engine: sa.Engine) -> Iterator[list[tuple[str, float]]]:
    """Every statement ``engine`` sends meanwhile, with its duration in ms."""
    recorded: list[tuple[str, float]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("_profile_started", []).append(time.perf_counter())

    def after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["_profile_started"].pop()
        recorded.append((statement, (time.perf_counter() - started) * 1000))

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield recorded
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def group_statements(recorded: list[tuple[str, float]]) -> list[StatementGroup]:
    """The statements grouped by shape, the slowest group (total time) first."""
    groups: dict[str, StatementGroup] = {}
    for statement, elapsed in recorded:
        shape = statement_shape(statement)
        group = groups.setdefault(shape, StatementGroup(shape))
        group.count += 1
        group.total_ms += elapsed
        group.slowest_ms = max(group.slowest_ms, elapsed)
    return sorted(groups.values(), key=lambda g: (-g.total_ms, g.shape))


def find_user(role: str | None = None, email: str | None = None) -> User | None:
    """The account to render as: by email, else the first active one of ``role``."""
    if email:
        return db.session.scalar(sa.select(User).where(sa.func.lower(User.email)
                                                       == email.strip().lower()))
    if role:
        return db.session.scalar(sa.select(User).where(User.role == role, User.active)
                                 .order_by(User.id).limit(1))
    return None


def _render(app: Flask, path: str, user_id: int | None) -> tuple[int, int]:
    """One whole request for ``path`` as ``user_id`` (None: anonymous): (status, bytes).

    In an application context of its own, as a served request has: inside the command's, the
    renders would share one session (the user read once for all of them) and none would end
    its transaction, about a seventh of a signed-in page's Python calls left out."""
    with app.app_context(), app.test_request_context(
            path, headers={"User-Agent": "portal-bench-profile/1"}):
        if user_id is not None:
            login_user(db.session.get(User, user_id))
        response = app.make_response(app.full_dispatch_request())
        body = response.get_data()
        # The request ends as under gunicorn (init_read_transactions): a read-only render
        # commits, so the connection keeps its prepared statements and plans; one holding
        # unsaved changes rolls back.
        return response.status_code, len(body)


def _top_frames(profiler: cProfile.Profile, sort: str, limit: int) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats(sort).print_stats(limit)
    text = out.getvalue()
    # From the table's header on: the preamble repeats the totals printed above.
    start = text.find("   ncalls")
    return text[start:].rstrip() if start >= 0 else text.rstrip()


def profile_page(app: Flask, path: str, user_id: int | None = None, who: str = "anonymous",
                 runs: int = 5, frames: int = 25) -> Profile:
    """Render ``path`` uncached ``runs`` times after one warm-up, then once under cProfile."""
    result = Profile(path=path, who=who)
    saved = app.config.get("PAGE_CACHE", True)
    app.config["PAGE_CACHE"] = False
    try:
        with app.app_context():
            engine = db.engine
        _render(app, path, user_id)  # warm-up: templates compiled, connections open
        for run in range(max(1, runs)):
            with recording_sql(engine) as recorded:
                started = time.perf_counter()
                result.status, result.size = _render(app, path, user_id)
                result.times_ms.append((time.perf_counter() - started) * 1000)
            if run == 0:
                result.statements = group_statements(recorded)
                result.statement_count = len(recorded)
                result.sql_ms = sum(elapsed for _statement, elapsed in recorded)
        profiler = cProfile.Profile()
        profiler.enable()
        try:
            _render(app, path, user_id)
        finally:
            profiler.disable()
    finally:
        app.config["PAGE_CACHE"] = saved
    result.calls = pstats.Stats(profiler).total_calls
    result.frames_cumulative = _top_frames(profiler, "cumulative", frames)
    result.frames_own = _top_frames(profiler, "tottime", frames)
    return result


def report(profile: Profile, statements: int = 20, width: int = 160) -> str:
    """The profile as text: the figures, the statements table, the two frame tables."""
    times = profile.times_ms
    lines = [
        f"GET {profile.path} as {profile.who}: HTTP {profile.status}, {profile.size} bytes",
        f"render (page cache off, {len(times)} runs): median {profile.median_ms:.1f} ms, "
        f"best {min(times):.1f} ms, worst {max(times):.1f} ms",
        f"SQL (first run): {profile.statement_count} statements, {profile.sql_ms:.1f} ms "
        f"({profile.sql_ms / max(times[0], 1e-9):.0%} of that run's {times[0]:.1f} ms)",
        "",
        f"SQL statements, grouped, slowest first (top {statements}):",
        f"{'total ms':>9} {'runs':>5} {'max ms':>8}  statement",
    ]
    for group in profile.statements[:statements]:
        shape = group.shape
        if width and len(shape) > width:
            shape = shape[:width - 1] + "…"
        lines.append(f"{group.total_ms:9.2f} {group.count:5d} {group.slowest_ms:8.2f}  {shape}")
    if len(profile.statements) > statements:
        rest = profile.statements[statements:]
        lines.append(f"{sum(g.total_ms for g in rest):9.2f} {sum(g.count for g in rest):5d} "
                     f"{'':>8}  ({len(rest)} more shapes)")
    lines += ["", f"Python: {profile.calls} function calls in the profiled run",
              "", "Python, by cumulative time (one profiled run; cProfile slows it down):",
              profile.frames_cumulative, "", "Python, by own time (tottime):",
              profile.frames_own]
    return "\n".join(lines)
