"""``flask bench-profile PATH``: a page rendered uncached, its SQL with times, the render time
and the top Python frames (portal/profiling.py)."""

from __future__ import annotations

import re

from portal.extensions import db
from portal.profiling import _render, group_statements, statement_shape
from tests.bookings.factories import make_booking, make_venue
from tests.conftest import make_user


def test_it_prints_the_statements_the_time_and_the_frames_of_a_staff_page(app):
    venue_id = make_venue(app)
    make_booking(app, make_user(app, "client").id, venue_id)
    staff = make_user(app, "staff")
    cache_before = app.config["PAGE_CACHE"]
    result = app.test_cli_runner().invoke(args=[
        "bench-profile", "/venues/queue", "--user", staff.email, "--runs", "3", "--width", "0"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"GET /venues/queue as {staff.email} (staff): HTTP 200" in out
    median = re.search(r"render \(page cache off, 3 runs\): median ([\d.]+) ms", out)
    assert median and float(median.group(1)) > 0
    statements = re.search(r"SQL \(first run\): (\d+) statements, ([\d.]+) ms", out)
    assert statements and int(statements.group(1)) > 0
    # The table: total ms, runs, max ms, then the statement; the booking query among them,
    # and not a data_version read (the page cache is off, so its key is never made).
    rows = re.findall(r"^\s+([\d.]+)\s+(\d+)\s+([\d.]+)  (SELECT .*)$", out, re.MULTILINE)
    assert rows and any("FROM booking" in row[3] for row in rows)
    assert not any("data_version" in row[3] for row in rows)
    totals = [float(row[0]) for row in rows]
    assert totals == sorted(totals, reverse=True)  # slowest first
    assert "Python, by cumulative time" in out and "Python, by own time (tottime)" in out
    calls = re.search(r"Python: (\d+) function calls in the profiled run", out)
    assert calls and int(calls.group(1)) > 1000  # a whole request's
    assert "bookings/views.py" in out and "(queue)" in out  # the view among the frames
    assert app.config["PAGE_CACHE"] == cache_before  # put back


def test_each_render_ends_as_a_served_request_does(app):
    """Inside the command's application context the renders would share its session (the
    reader read once for all) and never end it: each has a context, and a session, of its own."""
    with app.app_context():
        for _ in range(2):
            assert _render(app, "/healthz", None)[0] == 200
        assert not db.session.registry.has()  # the command's own context: untouched


def test_anonymous_by_role_and_refusals(app):
    runner = app.test_cli_runner()
    venue_id = make_venue(app)
    anonymous = runner.invoke(args=["bench-profile", f"/venues/{venue_id}?view=week",
                                    "--runs", "1"])
    assert anonymous.exit_code == 0, anonymous.output
    assert f"GET /venues/{venue_id}?view=week as anonymous: HTTP 200" in anonymous.output
    make_user(app, "admin")
    by_role = runner.invoke(args=["bench-profile", "/", "--as", "admin", "--runs", "1"])
    assert by_role.exit_code == 0 and "(admin): HTTP 200" in by_role.output
    missing = runner.invoke(args=["bench-profile", "/", "--user", "nobody@example.org"])
    assert missing.exit_code != 0 and "no active account nobody@example.org" in missing.output
    forbidden = runner.invoke(args=["bench-profile", "/venues/queue", "--runs", "1"])
    assert forbidden.exit_code != 0  # anonymous: the login redirect is not a page
    assert runner.invoke(args=["bench-profile", "venues"]).exit_code != 0


def test_statements_group_by_shape():
    assert statement_shape("SELECT a\n  FROM t WHERE id IN (%(id_1_1)s, %(id_1_2)s) LIMIT 20") \
        == "SELECT a FROM t WHERE id IN (…) LIMIT N"
    assert statement_shape("SELECT * FROM t WHERE id IN (?, ?, ?)") \
        == "SELECT * FROM t WHERE id IN (…)"
    assert statement_shape("SELECT 1 FROM t WHERE v IN (%(v_1_1)s::INTEGER, %(v_1_2)s::INTEGER)"
                           " AND d < %(d_1)s::TIMESTAMP WITH TIME ZONE") \
        == "SELECT N FROM t WHERE v IN (…) AND d < %(d_1)s::TIMESTAMP WITH TIME ZONE"
    groups = group_statements([("SELECT 1 FROM t WHERE x IN (?, ?)", 2.0),
                               ("SELECT 1 FROM t WHERE x IN (?)", 3.0),
                               ("SELECT 2 FROM u", 4.0)])
    assert [(g.shape, g.count, g.total_ms, g.slowest_ms) for g in groups] == [
        ("SELECT N FROM t WHERE x IN (…)", 2, 5.0, 3.0), ("SELECT N FROM u", 1, 4.0, 4.0)]
