"""bench/compare.py: each page's cost in two bench runs, and the growth between them."""

from __future__ import annotations

import json

import pytest

from bench import compare


def _run(bookings: int, rows: list[tuple[str, float, float]]) -> dict:
    return {"bookings": bookings, "rows": [
        {"label": label, "rps": rps, "healthz_rps": healthz} for label, rps, healthz in rows]}


SMALL = _run(20_000, [("week calendar", 400.0, 2000.0), ("month overview", 200.0, 2000.0),
                      ("queue", 100.0, 1000.0), ("only small", 50.0, 1000.0)])
# The second run's machine is half as fast (/healthz halves): costs are relative to it.
LARGE = _run(200_000, [("week calendar", 200.0, 1000.0), ("month overview", 50.0, 1000.0),
                       ("queue", 0.0, 1000.0), ("only large", 50.0, 1000.0)])


def test_costs_are_relative_to_healthz_and_growth_is_their_ratio():
    lines = {line["label"]: line for line in compare.compare(SMALL, LARGE)}
    assert set(lines) == {"week calendar", "month overview", "queue"}
    week = lines["week calendar"]
    assert (week["first_cost"], week["second_cost"], week["growth"]) == (5.0, 5.0, 1.0)
    assert week["verdict"] == "PASS"  # the machine's speed cancels out
    month = lines["month overview"]
    assert month["growth"] == pytest.approx(2.0) and month["verdict"] == "FAIL"
    assert lines["queue"]["growth"] is None and lines["queue"]["verdict"] == "FAIL"
    assert compare.only_in_one(SMALL, LARGE) == ["only large", "only small"]


def test_the_limit_holds_both_ways():
    faster = _run(200_000, [("week calendar", 700.0, 2000.0)])  # cost 5.0 -> 2.86
    assert compare.compare(SMALL, faster)[0]["verdict"] == "FAIL"
    assert compare.compare(SMALL, faster, limit=2.0)[0]["verdict"] == "PASS"


def test_the_script_prints_the_table_and_exits_1_only_when_strict(tmp_path, capsys):
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    small.write_text(json.dumps(SMALL))
    large.write_text(json.dumps(LARGE))
    assert compare.main([str(small), str(large)]) == 0
    out = capsys.readouterr().out
    assert "| page | req/s (20000 bookings) | req/s (200000 bookings) |" in out
    assert "| week calendar | 400 | 200 | 5.0 | 5.0 | 1.00× | PASS |" in out
    assert "| month overview | 200 | 50 | 10.0 | 20.0 | 2.00× | FAIL |" in out
    assert "beyond 1.2×: month overview, queue" in out
    assert compare.main([str(small), str(large), "--strict"]) == 1
    assert compare.main([str(small), str(small), "--strict"]) == 0
