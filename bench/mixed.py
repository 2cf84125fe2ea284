"""The mixed-load phase of ``make bench`` (issue 17 item 4): reads while a staff member writes.

wrk reads a mix of key pages (cache on) for ``BENCH_MIXED_DURATION`` seconds twice: quiet, then
while one staff session writes every ``BENCH_WRITE_INTERVAL`` seconds (0.2), in turn: approve a
requested booking, record a payment on an active lease, answer (resolve) a feedback item being
handled.  The writes go through the real forms: a POST of the fields the page's form sends,
with the session's CSRF token, answered by the redirect a browser would follow (the writer does
not follow it: the page it leads to would carry the flash message for the writer alone).

The server runs with ``PORTAL_PAGE_CACHE_HEADER=1``: each cached page says ``X-Page-Cache:
hit|miss|bypass`` and the wrk script (generated, ``instance/bench/mixed.lua``) counts them, so
the table gives the page cache's hit rate in each phase.  The goal: read throughput while
writing >= 0.85 of the quiet figure and read p99 < 100 ms.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

# The kinds of write, in the order the writer takes them in turn.
KINDS = ("approve booking", "record payment", "answer feedback")
FEEDBACK_HANDLING = ("accepted", "in_progress")  # the states a feedback item can be resolved from
WRITE_NOTE = "已处理（压力测试）"

# The pages read in both phases (labels of bench/run.py's endpoints): the booking pages the
# approvals change, the rental lists the payments change, the feedback pages the answers change.
READ_PAGES = (
    "week calendar of one venue",
    "month overview, all venues",
    "free-venue search",
    "staff queue, requested (default)",
    "my bookings (heaviest client)",
    "room list (rentals)",
    "lease list (rentals)",
    "feedback queue, open (default)",
    "one feedback item",
)

GOAL_RATIO = 0.85
GOAL_P99_MS = 100.0


# --- what to write -------------------------------------------------------------------------


def write_targets(connection: sa.Connection, count: int) -> dict[str, list[tuple[int, str]]]:
    """Up to ``count`` records of each kind that the write can be applied to, as (id, status):
    requested bookings (the latest first: far from starting, so nothing about them has begun),
    active leases, feedback items accepted or in progress."""
    def rows(statement: str, **params) -> list[tuple[int, str]]:
        return [(int(row[0]), str(row[1])) for row in
                connection.execute(sa.text(statement), {"n": count, **params})]

    return {
        "approve booking": rows(
            "SELECT id, status FROM booking WHERE status = 'requested' "
            "ORDER BY starts_at DESC, id DESC LIMIT :n"),
        "record payment": rows(
            "SELECT id, status FROM lease WHERE status = 'active' ORDER BY id LIMIT :n"),
        "answer feedback": rows(
            "SELECT id, status FROM feedback WHERE status IN ('accepted', 'in_progress') "
            "ORDER BY id LIMIT :n"),
    }


@dataclass
class Write:
    kind: str
    target: int
    path: str
    fields: dict[str, str]


def write_form(kind: str, target: tuple[int, str], csrf: str, today: date) -> Write:
    """The POST the page's form sends for this kind of write on ``target`` (id, status)."""
    ident, status = target
    if kind == "approve booking":  # the decision form on the booking's page
        return Write(kind, ident, f"/venues/bookings/{ident}/approve", {
            "csrf_token": csrf, "expected_status": status, "deposit_yuan": "0",
            "extras_yuan": "0", "reason": ""})
    if kind == "record payment":  # the payment form under the lease's schedule
        return Write(kind, ident, f"/rentals/leases/{ident}/payments", {
            "csrf_token": csrf, "paid_on": today.isoformat(), "amount": "100.00",
            "method": "bank_transfer", "receipt_no": "",
            "idempotency_key": uuid.uuid4().hex})
    if kind == "answer feedback":  # the resolve action on the item's page (prefixed fields)
        return Write(kind, ident, f"/feedback/{ident}/resolve", {
            "csrf_token": csrf, "resolve-expected_status": status,
            "resolve-response": WRITE_NOTE})
    raise ValueError(f"unknown kind of write: {kind!r}")


def rotation(targets: dict[str, list[tuple[int, str]]]) -> Iterator[tuple[str, tuple[int, str]]]:
    """(kind, target) in turn over :data:`KINDS`, each target used once; a kind whose targets
    have run out is skipped, and the rotation ends when every kind has."""
    queues = {kind: list(reversed(targets.get(kind, []))) for kind in KINDS}
    while any(queues.values()):
        for kind in KINDS:
            if queues[kind]:
                yield kind, queues[kind].pop()


# --- reading wrk's output --------------------------------------------------------------------

_CACHE_LINE = re.compile(r"page-cache hit=(\d+) miss=(\d+) bypass=(\d+) none=(\d+)")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def cache_counts(output: str) -> dict[str, int]:
    """The X-Page-Cache counts the wrk script prints at the end (zeros when absent)."""
    match = _CACHE_LINE.search(output)
    values = [int(value) for value in match.groups()] if match else [0, 0, 0, 0]
    return dict(zip(("hit", "miss", "bypass", "none"), values, strict=True))


def hit_rate(counts: dict[str, int]) -> float | None:
    """Hits among the responses of cached pages (hit + miss + bypass); None when none were."""
    cached = counts.get("hit", 0) + counts.get("miss", 0) + counts.get("bypass", 0)
    return counts.get("hit", 0) / cached if cached else None


def latency_ms(text: str) -> float | None:
    """wrk's latency figure ('812.00us', '45.12ms', '1.02s', '1.50m') in milliseconds."""
    match = re.fullmatch(r"\s*([\d.]+)(us|ms|s|m)\s*", text or "")
    return float(match.group(1)) * _UNITS[match.group(2)] if match else None


def percentile(values: Iterable[float], share: float) -> float | None:
    """The nearest-rank percentile (share 0.5: the median, 0.99: p99)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, -(-int(share * 1000) * len(ordered) // 1000))  # ceil(share * n)
    return ordered[min(rank, len(ordered)) - 1]


def lua_script(pages: list[tuple[str, str]], user_agent: str) -> str:
    """A wrk script reading ``pages`` (path, cookie header) in turn and counting X-Page-Cache."""
    def text(value: str) -> str:  # a Lua string literal (raw UTF-8: Lua has no \u escapes)
        return json.dumps(value, ensure_ascii=False)

    entries = ",\n".join(f"  {{path = {text(path)}, cookie = {text(cookie)}}}"
                          for path, cookie in pages)
    return _LUA.replace("__PAGES__", entries).replace("__USER_AGENT__", text(user_agent))


_LUA = """-- generated by bench/mixed.py: the mixed-load read mix, counting X-Page-Cache
local pages = {
__PAGES__
}
local threads = {}

function setup(thread)
  thread:set("offset", #threads)
  table.insert(threads, thread)
end

function init(args)
  hit, miss, bypass, none = 0, 0, 0, 0
  requests = {}
  for i, page in ipairs(pages) do
    local headers = {["User-Agent"] = __USER_AGENT__}
    if page.cookie ~= "" then headers["Cookie"] = page.cookie end
    requests[i] = wrk.format("GET", page.path, headers)
  end
  counter = offset
end

function request()
  counter = counter + 1
  return requests[(counter % #requests) + 1]
end

function response(status, headers, body)
  local outcome = headers["X-Page-Cache"] or headers["x-page-cache"]
  if outcome == "hit" then hit = hit + 1
  elseif outcome == "miss" then miss = miss + 1
  elseif outcome == "bypass" then bypass = bypass + 1
  else none = none + 1 end
end

function done(summary, latency, requests)
  local h, m, b, n = 0, 0, 0, 0
  for _, thread in ipairs(threads) do
    h = h + thread:get("hit")
    m = m + thread:get("miss")
    b = b + thread:get("bypass")
    n = n + thread:get("none")
  end
  io.write(string.format("page-cache hit=%d miss=%d bypass=%d none=%d\\n", h, m, b, n))
end
"""


# --- the writer ------------------------------------------------------------------------------


@dataclass
class WriteLog:
    latencies_ms: list[float] = field(default_factory=list)
    by_kind: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    @property
    def done(self) -> int:
        return len(self.latencies_ms)

    @classmethod
    def joined(cls, logs: list[WriteLog]) -> WriteLog:
        """The writes of several rounds as one log (a writer that ran out of targets says so
        once)."""
        joined = cls()
        for each in logs:
            joined.latencies_ms += each.latencies_ms
            joined.failures += each.failures
            for kind, count in each.by_kind.items():
                joined.by_kind[kind] = joined.by_kind.get(kind, 0) + count
        return joined


class Writer(threading.Thread):
    """Sends one write every ``interval`` seconds until stopped; ``post(path, fields)`` returns
    the HTTP status.  A write that succeeds answers with a redirect (302/303)."""

    def __init__(self, writes: Iterator[tuple[str, tuple[int, str]]], post, csrf: str,
                 today: date, interval: float = 0.2):
        super().__init__(daemon=True, name="bench-writer")
        self.writes, self.post, self.csrf, self.today = writes, post, csrf, today
        self.interval = interval
        self.log = WriteLog()
        self._stop_event = threading.Event()

    def stop(self) -> WriteLog:
        self._stop_event.set()
        self.join(timeout=120)
        return self.log

    def run(self) -> None:
        next_at = time.monotonic()
        for kind, target in self.writes:
            wait = next_at - time.monotonic()
            if wait > 0 and self._stop_event.wait(wait):
                return
            if self._stop_event.is_set():
                return
            # Behind by more than one interval (a slow write): no burst to catch up.
            next_at = max(next_at + self.interval, time.monotonic())
            write = write_form(kind, target, self.csrf, self.today)
            started = time.perf_counter()
            try:
                status = self.post(write.path, write.fields)
            except OSError as error:
                status, detail = 0, str(error)
            else:
                detail = f"HTTP {status}"
            self.log.latencies_ms.append((time.perf_counter() - started) * 1000)
            if status in (302, 303):
                self.log.by_kind[kind] = self.log.by_kind.get(kind, 0) + 1
            else:
                self.log.failures.append(f"{kind} {write.target}: {detail}")
        self.log.failures.append("the writer ran out of targets before the phase ended")


# --- the verdict -----------------------------------------------------------------------------


def combine(runs: list[dict]) -> dict:
    """Several wrk runs of equal length as one: the mean throughput, the median of their
    p50s and the worst p99 (not an exact percentile of all the requests: wrk gives none, and
    the worst round's p99 errs on the side of the goal), the counts summed."""
    def by_latency(key: str) -> list[str]:
        return sorted((run[key] for run in runs if latency_ms(run.get(key, "")) is not None),
                      key=latency_ms)

    p50s, p99s = by_latency("p50"), by_latency("p99")
    cache: dict[str, int] = {}
    for run in runs:
        for name, count in (run.get("cache") or {}).items():
            cache[name] = cache.get(name, 0) + count
    return {"rps": sum(run["rps"] for run in runs) / len(runs),
            "p50": p50s[len(p50s) // 2] if p50s else "", "p99": p99s[-1] if p99s else "",
            "cache": cache, "non_2xx": sum(run.get("non_2xx", 0) for run in runs),
            "socket_errors": " ".join(run["socket_errors"] for run in runs
                                      if run.get("socket_errors")),
            "rounds": [{key: run.get(key) for key in ("rps", "p50", "p99")} for run in runs]}


def summarise(quiet: dict, mixed: dict, writes: WriteLog, interval: float) -> dict:
    """The figures of both phases and the verdict against the goal."""
    ratio = mixed["rps"] / quiet["rps"] if quiet.get("rps") else 0.0
    p99 = latency_ms(mixed.get("p99", ""))
    passed = (ratio >= GOAL_RATIO and p99 is not None and p99 < GOAL_P99_MS
              and not writes.failures and writes.done > 0)
    return {
        "quiet": {key: quiet.get(key) for key in ("rps", "p50", "p99", "cache", "non_2xx")},
        "mixed": {key: mixed.get(key) for key in ("rps", "p50", "p99", "cache", "non_2xx")},
        "ratio": ratio, "mixed_p99_ms": p99, "write_interval_s": interval,
        "writes": writes.done, "writes_by_kind": writes.by_kind,
        "write_failures": writes.failures[:20], "write_failure_count": len(writes.failures),
        "write_p50_ms": percentile(writes.latencies_ms, 0.5),
        "write_p99_ms": percentile(writes.latencies_ms, 0.99),
        "verdict": "PASS" if passed else "FAIL",
    }


def _rate(counts: dict | None) -> str:
    rate = hit_rate(counts or {})
    return "–" if rate is None else f"{rate:.1%}"


def markdown_table(summary: dict) -> str:
    quiet, mixed = summary["quiet"], summary["mixed"]
    p50 = summary["write_p50_ms"]
    p99 = summary["write_p99_ms"]
    writes = (f"{summary['writes']} ({summary['write_failure_count']} failed); "
              f"p50 {p50:.0f} ms, p99 {p99:.0f} ms" if p50 is not None else "none")
    return "\n".join([
        f"| phase | read req/s | vs quiet | read p50 | read p99 | writes | page-cache hits | "
        f"goal (≥ {GOAL_RATIO:.0%} of quiet, p99 < {GOAL_P99_MS:.0f} ms) |",
        "|---|---:|---:|---:|---:|---|---:|---|",
        f"| quiet (reads only) | {quiet['rps']:.0f} | 100% | {quiet['p50']} | {quiet['p99']} | "
        f"– | {_rate(quiet.get('cache'))} | |",
        f"| mixed (a write every {summary['write_interval_s'] * 1000:.0f} ms) | "
        f"{mixed['rps']:.0f} | {summary['ratio']:.0%} | {mixed['p50']} | {mixed['p99']} | "
        f"{writes} | {_rate(mixed.get('cache'))} | {summary['verdict']} |",
    ])
