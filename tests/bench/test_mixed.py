"""The mixed-load phase of ``make bench`` (bench/mixed.py) without wrk: the writes it picks are
valid and its forms are accepted, the rotation takes them in turn, wrk's output is read right,
and the X-Page-Cache header the counts come from is there only when asked for."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from bench import mixed
from portal.bookings.models import Booking
from portal.extensions import db
from portal.feedback.models import Feedback, FeedbackStatus
from portal.rentals.models import Payment
from tests.bookings.factories import make_booking, make_venue
from tests.catalogue.factories import make_category
from tests.conftest import csrf_token, make_user
from tests.feedback.factories import make_appointment, make_feedback
from tests.helpers import bureau_today
from tests.rentals.factories import make_lease, make_room, make_tenant


def _dataset(app) -> dict[str, int]:
    venue_id = make_venue(app)
    booking_id = make_booking(app, make_user(app, "client").id, venue_id)
    lease_id = make_lease(app, make_tenant(app), [make_room(app)])
    ended = make_lease(app, make_tenant(app), [make_room(app)], status="draft")
    supervisor = make_user(app, "supervisor")
    make_appointment(app, supervisor.id)
    category_id = make_category(app)
    feedback_id = make_feedback(app, supervisor.id, category_id, status=FeedbackStatus.ACCEPTED)
    make_feedback(app, supervisor.id, category_id, status=FeedbackStatus.SUBMITTED)
    return {"booking": booking_id, "lease": lease_id, "draft lease": ended,
            "feedback": feedback_id}


def test_the_writes_pick_valid_targets_and_the_forms_are_accepted(app, login_as):
    made = _dataset(app)
    with app.app_context():
        targets = mixed.write_targets(db.session.connection(), 10)
    assert targets == {"approve booking": [(made["booking"], "requested")],
                       "record payment": [(made["lease"], "active")],
                       "answer feedback": [(made["feedback"], "accepted")]}

    staff = login_as("staff")
    csrf = csrf_token(staff, f"/venues/bookings/{made['booking']}")
    today = bureau_today(app)
    sent = []
    for kind, target in mixed.rotation(targets):
        write = mixed.write_form(kind, target, csrf, today)
        response = staff.post(write.path, data=write.fields)
        assert response.status_code in (302, 303), (kind, response.get_data(as_text=True))
        sent.append(kind)
    assert sent == list(mixed.KINDS)
    with app.app_context():
        assert db.session.get(Booking, made["booking"]).status == "approved"
        assert db.session.get(Feedback, made["feedback"]).status == FeedbackStatus.RESOLVED
        assert db.session.get(Feedback, made["feedback"]).response == mixed.WRITE_NOTE
        assert db.session.scalar(sa.select(sa.func.sum(Payment.amount_fen))
                                 .where(Payment.lease_id == made["lease"])) == 10_000
        # Nothing is left to write on: the next run picks none of them again.
        assert mixed.write_targets(db.session.connection(), 10) == {
            "approve booking": [], "record payment": [(made["lease"], "active")],
            "answer feedback": []}


def test_the_rotation_takes_each_kind_in_turn_until_all_run_out():
    targets = {"approve booking": [(1, "requested"), (2, "requested"), (3, "requested")],
               "record payment": [(10, "active")],
               "answer feedback": [(20, "accepted"), (21, "in_progress")]}
    assert list(mixed.rotation(targets)) == [
        ("approve booking", (1, "requested")), ("record payment", (10, "active")),
        ("answer feedback", (20, "accepted")), ("approve booking", (2, "requested")),
        ("answer feedback", (21, "in_progress")), ("approve booking", (3, "requested"))]
    assert list(mixed.rotation({})) == []
    assert targets["approve booking"] == [(1, "requested"), (2, "requested"),
                                          (3, "requested")]  # the caller's lists untouched


def test_each_payment_is_a_new_one_and_the_feedback_answer_names_the_state_shown():
    today = date(2026, 12, 7)
    first = mixed.write_form("record payment", (7, "active"), "t", today)
    second = mixed.write_form("record payment", (7, "active"), "t", today)
    assert first.fields["idempotency_key"] != second.fields["idempotency_key"]
    assert first.fields["paid_on"] == today.isoformat()
    assert first.path == "/rentals/leases/7/payments"
    answer = mixed.write_form("answer feedback", (5, "in_progress"), "t", today)
    assert answer.path == "/feedback/5/resolve"
    assert answer.fields["resolve-expected_status"] == "in_progress"


def test_the_writer_sends_in_turn_and_logs_latency_and_failures():
    posted = []

    def post(path, fields):
        posted.append(path)
        return 303 if "bookings" in path else 409

    targets = {"approve booking": [(1, "requested")], "record payment": [(2, "active")]}
    writer = mixed.Writer(mixed.rotation(targets), post, "t", date(2026, 12, 7), interval=0.01)
    writer.start()
    writer.join(timeout=10)
    log = writer.stop()
    assert posted == ["/venues/bookings/1/approve", "/rentals/leases/2/payments"]
    assert log.done == 2 and log.by_kind == {"approve booking": 1}
    assert log.failures[0] == "record payment 2: HTTP 409"
    assert "ran out of targets" in log.failures[-1]


WRK_OUTPUT = """Running 20s test @ http://127.0.0.1:5000/
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    40.10ms   12.00ms 180.33ms   80.00%
  Latency Distribution
     50%   38.20ms
     75%   45.00ms
     90%   60.00ms
     99%    1.02s
  8000 requests in 20.00s, 400.00MB read
Requests/sec:    400.00
page-cache hit=7520 miss=400 bypass=30 none=50
"""


def test_the_hit_rate_is_read_from_the_scripts_last_line():
    counts = mixed.cache_counts(WRK_OUTPUT)
    assert counts == {"hit": 7520, "miss": 400, "bypass": 30, "none": 50}
    assert mixed.hit_rate(counts) == 7520 / 7950  # pages the cache does not serve left out
    assert mixed.cache_counts("Requests/sec: 1") == {"hit": 0, "miss": 0, "bypass": 0, "none": 0}
    assert mixed.hit_rate(mixed.cache_counts("")) is None


def test_latencies_and_percentiles():
    assert mixed.latency_ms("812.00us") == 0.812
    assert mixed.latency_ms("38.20ms") == 38.2
    assert mixed.latency_ms("1.02s") == 1020.0
    assert mixed.latency_ms("1.50m") == 90_000.0
    assert mixed.latency_ms("") is None and mixed.latency_ms("n/a") is None
    values = list(range(1, 101))
    assert mixed.percentile(values, 0.5) == 50 and mixed.percentile(values, 0.99) == 99
    assert mixed.percentile([5.0], 0.99) == 5.0 and mixed.percentile([], 0.5) is None


def test_the_verdict_needs_both_goals_and_every_write():
    quiet = {"rps": 400.0, "p50": "20ms", "p99": "60.00ms"}
    good = mixed.WriteLog(latencies_ms=[30.0, 50.0], by_kind={"approve booking": 2})
    assert mixed.summarise(quiet, {"rps": 360.0, "p99": "90.00ms"}, good, 0.2)["verdict"] == "PASS"
    assert mixed.summarise(quiet, {"rps": 300.0, "p99": "90.00ms"}, good, 0.2)["verdict"] == "FAIL"
    assert mixed.summarise(quiet, {"rps": 380.0, "p99": "1.02s"}, good, 0.2)["verdict"] == "FAIL"
    failed = mixed.WriteLog(latencies_ms=[30.0], failures=["approve booking 1: HTTP 400"])
    summary = mixed.summarise(quiet, {"rps": 380.0, "p99": "50ms"}, failed, 0.2)
    assert summary["verdict"] == "FAIL" and summary["write_failure_count"] == 1
    table = mixed.markdown_table({**summary, "quiet": {**quiet, "cache": {"hit": 9, "miss": 1}},
                                  "mixed": {"rps": 380.0, "p50": "9ms", "p99": "50ms"}})
    assert "| quiet (reads only) | 400 | 100% |" in table and "90.0%" in table
    assert "a write every 200 ms" in table and "1 failed" in table


def test_the_wrk_script_reads_every_page_with_its_cookie():
    script = mixed.lua_script([("/venues/overview?month=2026-12", ""),
                               ("/search?q=会议", "session=abc")], "portal-bench/1")
    assert '{path = "/venues/overview?month=2026-12", cookie = ""}' in script
    assert '{path = "/search?q=会议", cookie = "session=abc"}' in script  # no \\u escapes
    assert '["User-Agent"] = "portal-bench/1"' in script
    assert "page-cache hit=%d miss=%d bypass=%d none=%d" in script


def test_the_cache_header_is_sent_only_when_asked_for(app, client, monkeypatch):
    venue_id = make_venue(app)
    path = f"/venues/{venue_id}?view=week"
    assert "X-Page-Cache" not in client.get(path).headers  # off by default
    monkeypatch.setitem(app.config, "PAGE_CACHE_HEADER", True)
    other = f"/venues/{venue_id}?view=month"
    assert client.get(other).headers["X-Page-Cache"] == "miss"
    assert client.get(other).headers["X-Page-Cache"] == "hit"
    assert client.get(path).headers["X-Page-Cache"] == "hit"  # cached above, header or not
    assert "X-Page-Cache" not in client.get("/healthz").headers  # not a cached page
    monkeypatch.setitem(app.config, "PAGE_CACHE", False)
    assert "X-Page-Cache" not in client.get(other).headers  # no cache, nothing to say


def test_rounds_combine_into_one_phase_and_write_logs_join():
    """The alternating rounds of a phase: mean throughput, median p50, worst p99, counts
    summed; the writers' logs of every round as one."""
    runs = [{"rps": 100.0, "p50": "10.00ms", "p99": "40.00ms", "non_2xx": 0,
             "cache": {"hit": 90, "miss": 10, "bypass": 0, "none": 0}, "socket_errors": ""},
            {"rps": 80.0, "p50": "12.00ms", "p99": "95.00ms", "non_2xx": 2,
             "cache": {"hit": 70, "miss": 5, "bypass": 1, "none": 0}, "socket_errors": ""},
            {"rps": 90.0, "p50": "900.00us", "p99": "1.20s", "non_2xx": 0,
             "cache": {"hit": 1, "miss": 0, "bypass": 0, "none": 0}, "socket_errors": "x"}]
    combined = mixed.combine(runs)
    assert combined["rps"] == 90.0
    assert (combined["p50"], combined["p99"]) == ("10.00ms", "1.20s")
    assert combined["cache"] == {"hit": 161, "miss": 15, "bypass": 1, "none": 0}
    assert combined["non_2xx"] == 2 and combined["socket_errors"] == "x"
    first = mixed.WriteLog([10.0, 20.0], {"approve booking": 2}, [])
    second = mixed.WriteLog([30.0], {"approve booking": 1, "record payment": 0}, ["late"])
    joined = mixed.WriteLog.joined([first, second])
    assert joined.done == 3 and joined.failures == ["late"]
    assert joined.by_kind == {"approve booking": 3, "record payment": 0}
