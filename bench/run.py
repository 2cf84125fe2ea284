"""``make bench``: throughput of the bookings and rentals pages next to /healthz (gunicorn).

Steps: make (or reuse) the benchmark database, migrate it, seed it with ``flask bench-seed``
unless it already holds a dataset of the same size, then with ``flask bench-seed-rentals``
(rooms, leases, rent schedules; skipped likewise when ``--check`` finds it there), start
gunicorn (production settings, a generated secret key, rate limits off) on a free port of
127.0.0.1, log in as the heavy client and as staff (POST /auth/login with the form's CSRF
token), then run ``wrk`` against each page and print a table: requests per second, the ratio
to /healthz and PASS when the page reaches at least a quarter of it (the issue's goal).
gunicorn is stopped at the end, on failure and on Ctrl-C too. Everything talks to 127.0.0.1 only.

Each page is measured right after a /healthz sample of its own and its ratio uses that pair:
on a machine shared with other work (test suites, browsers) the throughput drifts over a run,
and a single /healthz figure at the start would misjudge the later pages. The table shows the
median /healthz sample; the header gives their range, and a wide range is reported. The
logged-in home page is measured too, as a reference for what the framework alone costs.

Settings (environment variables; ``make bench`` passes them through):

=====================  =========================================================================
``BENCH_DB``           ``postgres`` (default) or ``sqlite``
``BENCH_PG_URL``       ``postgresql+psycopg://postgres@127.0.0.1:5432/bench`` (host must be
                       127.0.0.1 or localhost; the databases test, portal_dev and reports_dev
                       are refused)
``BENCH_SQLITE_PATH``  ``instance/bench.db``
``BENCH_VENUES``       200
``BENCH_BOOKINGS``     200000
``BENCH_ROOMS``        10000 (rentals: ``flask bench-seed-rentals``, after the bookings)
``BENCH_LEASES``       20000
``BENCH_PERIODS``      500000 (rent schedule lines)
``BENCH_FEEDBACK``     50000 (feedback items: ``flask bench-seed-feedback``, after the rentals)
``BENCH_SUPPLIERS``    500 (meetings: ``flask bench-seed-meetings``, after the rentals)
``BENCH_CONTRACTS``    2000
``BENCH_MEETINGS``     1000
``BENCH_ACTIONS``      20000 (action items)
``BENCH_FRESH``        1: drop and re-seed even when the sizes match
``BENCH_WORKERS``      gunicorn sync workers, 2
``BENCH_DURATION``     seconds per endpoint, 10 (after a 2-second warm-up)
``BENCH_THREADS``      wrk threads, 2
``BENCH_CONNECTIONS``  wrk connections, 16
``BENCH_GOAL``         0.25 (the share of /healthz a page must reach)
``BENCH_STRICT``       1: exit 1 when a page misses the goal (default: report only)
``BENCH_ONLY``         measure only the pages whose label or path holds one of these
                       comma-separated words (e.g. ``search``); default: every page
``PORTAL_PAGE_CACHE``  0: measure every page rendered afresh (the page cache off; default on,
                       so pages whose data does not change during the run are cache hits)
``BENCH_MIXED``        the mixed-load phase after the pages (bench/mixed.py): 1 (default),
                       0 to skip it, ``only`` to run it alone (no page-by-page table)
``BENCH_MIXED_DURATION`` seconds of each of its two phases (quiet, writing), 20
``BENCH_MIXED_ROUNDS``   rounds the phases alternate in (quiet-writing, writing-quiet...), 4
``BENCH_WRITE_INTERVAL`` seconds between two writes of the mixed phase, 0.2
``BENCH_WORKREPORT``   0: leave out the work report's in-process table (issue 14: its figures
                       and DOCX for the last closed half-year and the current one, live, cold,
                       after a change to one month and warm, by
                       ``bench/workreport_inprocess.py``; printed after the pages)
=====================  =========================================================================

The mixed-load phase: wrk reads the key pages (``bench/mixed.py``'s ``READ_PAGES``, in turn)
with the page cache as configured, first quiet, then while one staff session writes every
200 ms through the real forms (approve a booking, record a payment, answer a feedback item, in
turn); its table gives both phases' read throughput and p99, the write latency and the page
cache's hit rate (the server runs with ``PORTAL_PAGE_CACHE_HEADER=1``, whose ``X-Page-Cache``
header the wrk script counts). Goal: reads while writing ≥ 0.85 of quiet, read p99 < 100 ms.
Its writes stay in the database (a few dozen of each kind per run).

Growth (issue 17 item 5): the JSON results are also kept as
``results-<db>-<bookings>b-cache-<on|off>.json``; ``bench/compare.py A.json B.json`` prints each
page's cost ratio between two runs (see the README, "Growth").

Surveys (``flask bench-seed-surveys``, after the rentals): ``BENCH_SURVEY_ROUNDS`` closed
rounds (20), each of ``BENCH_SURVEY_INVITEES`` invitees (300, about 85 % answer).

The seeders write with bulk Core inserts, which the search index's session hook does not see:
after them ``flask search reindex --stale-only`` indexes the modules whose entries do not
number their records (a few minutes the first time, nothing afterwards).

The table is also written to ``instance/bench/results-<db>.md`` (and ``.json``); gunicorn's
log is ``instance/bench/gunicorn.log``.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess  # noqa: S404  (runs our own tools: flask, gunicorn, wrk)
import sys
import time
from datetime import UTC, date, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script (python bench/run.py): bench.mixed importable
    sys.path.insert(0, str(ROOT))

from bench import mixed  # noqa: E402

BIN = Path(sys.executable).parent  # the venv's bin: flask, gunicorn
HOST = "127.0.0.1"
OUT = ROOT / "instance" / "bench"
PROTECTED_DATABASES = {"test", "portal_dev", "reports_dev", "postgres", "template0", "template1"}
FLASK_APP = "portal"  # create_app registers the bench-seed command (portal/cli.py)
USER_AGENT = "portal-bench/1"  # the same for login and wrk (session protection hashes it)
ZONE = ZoneInfo("Asia/Shanghai")


class BenchError(RuntimeError):
    pass


def log(message: str) -> None:
    print(f"[bench] {message}", flush=True)


def setting(name: str, default: str) -> str:
    return os.environ.get(f"BENCH_{name}") or default


# --- the database --------------------------------------------------------------------------


def database_url() -> tuple[str, str]:
    kind = setting("DB", "postgres").lower()
    if kind in ("sqlite", "sqlite3"):
        path = Path(setting("SQLITE_PATH", str(ROOT / "instance" / "bench.db"))).resolve()
        return "sqlite", f"sqlite:///{path}"
    if kind not in ("postgres", "postgresql", "pg"):
        raise BenchError(f"BENCH_DB must be postgres or sqlite, not {kind!r}")
    url = setting("PG_URL", f"postgresql+psycopg://postgres@{HOST}:5432/bench")
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.host not in (HOST, "localhost"):
        raise BenchError(f"the benchmark only targets {HOST}; BENCH_PG_URL points at "
                         f"{parsed.host!r}")
    if not parsed.database or parsed.database in PROTECTED_DATABASES:
        raise BenchError(f"refusing to use the database {parsed.database!r} for the benchmark")
    return "postgresql", url


def flask(url: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PORTAL_ENV": "development", "PORTAL_DATABASE_URL": url,
           "PORTAL_SECRET_KEY": secrets.token_hex(32), "FLASK_APP": FLASK_APP}
    env.pop("PORTAL_TEST_DATABASE_URL", None)
    command = [str(BIN / "flask"), "--app", FLASK_APP, *args]
    result = subprocess.run(command, cwd=ROOT, env=env, text=True,  # noqa: S603
                            capture_output=True)
    if check and result.returncode != 0:
        raise BenchError(f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result


def _pg_admin(url: str):
    """An autocommit connection to the server's maintenance database (to create/drop)."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    try:
        connection = psycopg.connect(host=parsed.host, port=parsed.port or 5432,
                                     user=parsed.username or "postgres",
                                     password=parsed.password, dbname="postgres",
                                     autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as error:
        raise BenchError(f"PostgreSQL does not answer at {parsed.host}:{parsed.port or 5432} "
                         f"({error}); start it, or run: make bench BENCH_DB=sqlite") from None
    return connection, parsed.database


def recreate_database(kind: str, url: str) -> None:
    if kind == "sqlite":
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        return
    from psycopg import sql

    connection, name = _pg_admin(url)
    with connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    log(f"created a fresh PostgreSQL database {name!r}")


def database_exists(kind: str, url: str) -> bool:
    if kind == "sqlite":
        return Path(url.removeprefix("sqlite:///")).exists()
    connection, name = _pg_admin(url)
    with connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                  (name,)).fetchone() is not None


def prepare_dataset(url: str, name: str, command: str, sizes: dict[str, int],
                    present: tuple[str, ...]) -> dict:
    """Seed one module's dataset with ``flask <command> --<size> N ...`` unless its
    ``--check`` finds a dataset of these sizes there (exit 0; 3: other sizes or none).

    ``present``: the keys of the check's JSON that are non-zero when some dataset is there —
    one of another size is refused (BENCH_FRESH=1 starts afresh) rather than added to.
    """
    args = [item for key, value in sizes.items() for item in (f"--{key}", str(value))]
    described = ", ".join(f"{value} {key}" for key, value in sizes.items())
    check = flask(url, command, *args, "--check", check=False)
    if check.returncode not in (0, 3):
        raise BenchError(f"{command} --check failed:\n{check.stdout}{check.stderr}")
    state = json.loads(check.stdout.strip().splitlines()[-1])
    if check.returncode == 0:
        log(f"{name} already seeded ({described}): not seeding again")
        return state
    if any(state.get(key) for key in present):
        raise BenchError(f"the database holds a {name} dataset of another size ({state}); "
                         "rerun with BENCH_FRESH=1 to start afresh")
    log(f"seeding {name}: {described} (flask {command})")
    started = time.monotonic()
    seeded = flask(url, command, *args)
    log(f"{name} seeded in {time.monotonic() - started:.0f} s")
    return json.loads(seeded.stdout.strip().splitlines()[-1])


def vacuum(kind: str, url: str) -> None:
    """Statistics (and on PostgreSQL the visibility map, which index-only scans need) for the
    freshly bulk-loaded tables now, rather than whenever autovacuum gets to them."""
    import sqlalchemy as sa

    started = time.monotonic()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE" if kind == "sqlite" else "VACUUM ANALYZE")
    finally:
        engine.dispose()
    log(f"vacuumed and analysed in {time.monotonic() - started:.0f} s")


def prepare_database(kind: str, url: str, venues: int, bookings: int) -> dict:
    sizes = ["--venues", str(venues), "--bookings", str(bookings)]
    fresh = setting("FRESH", "") == "1"
    if fresh or not database_exists(kind, url):
        recreate_database(kind, url)
    log("migrating (flask db upgrade)")
    flask(url, "db", "upgrade")
    check = flask(url, "bench-seed", *sizes, "--check", check=False)
    if check.returncode not in (0, 3):  # 3: seeded with other sizes, or not at all
        raise BenchError(f"bench-seed --check failed:\n{check.stdout}{check.stderr}")
    state = json.loads(check.stdout.strip().splitlines()[-1])
    if check.returncode == 0:
        log(f"already seeded ({venues} venues, {bookings} bookings): not seeding again")
        return state
    if state.get("venues") or state.get("bookings"):
        log("the database holds a dataset of another size: starting afresh")
        recreate_database(kind, url)
        flask(url, "db", "upgrade")
    log(f"seeding {venues} venues and {bookings} bookings (flask bench-seed)")
    started = time.monotonic()
    seeded = flask(url, "bench-seed", *sizes)
    log(f"seeded in {time.monotonic() - started:.0f} s")
    return json.loads(seeded.stdout.strip().splitlines()[-1])


# --- gunicorn ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def stop_group(process: subprocess.Popen | None, sig: int = signal.SIGTERM) -> bool:
    """End a process started with ``start_new_session`` and its children (gunicorn's workers,
    nginx's); True if it was running. tests/topology uses it too."""
    if process is None or process.poll() is not None:
        return False
    try:
        os.killpg(process.pid, sig)  # the master, then its workers
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass
    return True


class Server:
    """gunicorn in its own process group; :meth:`stop` ends the master and its workers."""

    def __init__(self, url: str, workers: int):
        self.url, self.workers = url, workers
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.log_file = None

    def start(self) -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        self.log_file = open(OUT / "gunicorn.log", "w")  # noqa: SIM115  (closed in stop)
        env = {**os.environ, "PORTAL_ENV": "production", "PORTAL_DATABASE_URL": self.url,
               "PORTAL_SECRET_KEY": secrets.token_hex(32), "PORTAL_RATELIMIT_ENABLED": "0",
               "PORTAL_DEBUG": "0", "PORTAL_PAGE_CACHE_HEADER": "1"}
        for name in ("PORTAL_TEST_DATABASE_URL", "PORTAL_REDIS_URL", "FLASK_APP"):
            env.pop(name, None)
        command = [str(BIN / "gunicorn"), "--workers", str(self.workers), "--bind",
                   f"{HOST}:{self.port}", "--worker-class", "sync", "--timeout", "120",
                   "portal:create_app()"]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env,  # noqa: S603
                                        stdout=self.log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log(f"gunicorn started: {self.workers} workers on http://{HOST}:{self.port} "
            f"(pid {self.process.pid})")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited ({self.process.returncode}); see "
                                 f"{OUT / 'gunicorn.log'}")
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise BenchError("gunicorn did not answer /healthz within 60 s")

    def stop(self) -> None:
        if stop_group(self.process):
            log("gunicorn stopped")
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


# --- HTTP ----------------------------------------------------------------------------------


def request(port: int, method: str, path: str, body: dict | None = None,
            cookie: str = "") -> tuple[int, dict, list[str], str]:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"User-Agent": USER_AGENT}
    payload = None
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        payload = urlencode(body)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        return (response.status, dict(response.getheaders()),
                response.headers.get_all("Set-Cookie") or [], text)
    finally:
        connection.close()


def _cookies(set_cookie: list[str], jar: dict[str, str]) -> dict[str, str]:
    # The cookies are Secure in production; a browser would not send them over plain HTTP,
    # so they are kept by hand here (loopback only).
    for header in set_cookie:
        parsed = SimpleCookie()
        parsed.load(header)
        for name, morsel in parsed.items():
            jar[name] = morsel.value
    return jar


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def csrf_in(page: str) -> str | None:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', page)
    return match.group(1) if match else None


def login(port: int, email: str, password: str) -> str:
    status, _headers, set_cookie, page = request(port, "GET", "/auth/login")
    token = csrf_in(page)
    if status != 200 or token is None:
        raise BenchError(f"no login form with a CSRF token (HTTP {status})")
    jar = _cookies(set_cookie, {})
    status, headers, set_cookie, _page = request(
        port, "POST", "/auth/login", {"csrf_token": token, "email": email,
                                      "password": password}, cookie_header(jar))
    if status not in (302, 303) or "/auth/login" in headers.get("Location", ""):
        raise BenchError(f"login as {email} failed (HTTP {status})")
    return cookie_header(_cookies(set_cookie, jar))


# --- wrk -----------------------------------------------------------------------------------


def wrk(port: int, path: str, cookie: str, seconds: int, script: Path | None = None) -> dict:
    threads = int(setting("THREADS", "2"))
    connections = int(setting("CONNECTIONS", "16"))
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency",
               "--timeout", "30s", "-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    if script is not None:
        command += ["-s", str(script)]
    command.append(f"http://{HOST}:{port}{path}")
    result = subprocess.run(command, text=True, capture_output=True)  # noqa: S603
    if result.returncode != 0:
        raise BenchError(f"wrk failed: {result.stderr or result.stdout}")
    output = result.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*", output)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    return {"rps": float(rps.group(1)) if rps else 0.0, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(0) if errors else "",
            "p50": p50.group(1) if p50 else "", "p99": p99.group(1) if p99 else "",
            "cache": mixed.cache_counts(output), "output": output}


def endpoints(state: dict) -> list[tuple[str, str, str, bool]]:
    """(label, path, who, goal) — who: '' (anonymous), 'client' or 'staff'; goal: False for a
    reference row (shown for comparison, no verdict)."""
    today = datetime.now(UTC).astimezone(ZONE).date()
    venue = state["venue_id"]
    search_day = today + timedelta(days=14)
    month = today.strftime("%Y-%m")
    half = f"{today.year}-H{1 if today.month <= 6 else 2}"  # the current half-year
    return [
        ("home page, logged-in client (reference)", "/", "client", False),
        ("week calendar of one venue",
         f"/venues/{venue}?{urlencode({'view': 'week', 'date': today.isoformat()})}", "", True),
        ("month overview, all venues",
         f"/venues/overview?{urlencode({'month': month})}", "", True),
        # The day grid of every venue (half hours, the first page of venues) as staff see it:
        # references, titles, states and check-in links.
        ("day grid of all venues (grid)",
         f"/venues/grid?{urlencode({'date': today.isoformat()})}", "staff", True),
        ("week grid of all venues (grid)",
         f"/venues/grid?{urlencode({'date': today.isoformat(), 'view': 'week'})}", "staff",
         True),
        ("month calendar of one venue",
         f"/venues/{venue}?{urlencode({'view': 'month', 'date': today.isoformat()})}", "", True),
        ("free-venue search", "/venues/?" + urlencode({
            "day": search_day.isoformat(), "session": "morning", "headcount": 50,
            "layout": "theatre"}), "", True),
        ("staff queue, all states", "/venues/queue?status=all", "staff", True),
        ("staff queue, requested (default)", "/venues/queue", "staff", True),
        ("my bookings (heaviest client)", "/venues/bookings/mine", "client", True),
        ("room list (rentals)", "/rentals/rooms", "staff", True),
        ("lease list (rentals)", "/rentals/leases", "staff", True),
        ("rental reports page (income, by tenant/room, occupancy, arrears)",
         f"/rentals/reports?{urlencode({'period': half})}", "staff", True),
        ("arrears report (CSV export)",
         f"/rentals/reports/export?{urlencode({'report': 'arrears', 'period': half})}",
         "staff", True),
        ("income report (CSV export)",
         f"/rentals/reports/export?{urlencode({'report': 'income', 'period': half})}",
         "staff", True),
        ("survey rounds list (surveys)", "/surveys/", "staff", True),
        ("satisfaction trend, every round (surveys)", "/surveys/trend", "staff", True),
        ("results of one survey round (surveys)",
         f"/surveys/rounds/{state['survey_round_id']}/results", "staff", True),
        ("feedback queue, open (default)", "/feedback/", "staff", True),
        ("feedback queue, all states", "/feedback/?status=all", "staff", True),
        ("one feedback item", f"/feedback/{state['feedback_item_id']}", "staff", True),
        ("feedback dashboard (half-year)",
         f"/feedback/dashboard?{urlencode({'period': half})}", "staff", True),
        *meeting_endpoints(state.get("meetings") or {}, half),
        # The work report: every figure of the half-year, the previous one and a year before
        # (bench/workreport_inprocess.py times the figures and the DOCX in-process).
        ("work report, all figures of the half-year (workreport)",
         f"/work-report/?{urlencode({'period': half})}", "staff", True),
        # Global search over every dataset: 会议 is in a fifth of the booking titles, the
        # meetings and a tenth of the feedback (two characters: one gram); 电梯运行 in a tenth
        # of the feedback (four: its rarest gram per module, and the text).
        ("global search, two characters (会议), results page", "/search?" + urlencode(
            {"q": "会议"}), "staff", True),
        ("global search, four characters (电梯运行), results page", "/search?" + urlencode(
            {"q": "电梯运行"}), "staff", True),
        ("global search, two characters (会议), as you type", "/search/suggest?" + urlencode(
            {"q": "会议"}), "staff", True),
        ("global search, client, two characters (会议), results page", "/search?" + urlencode(
            {"q": "会议"}), "client", True),
    ]


def selected(label: str, path: str) -> bool:
    """BENCH_ONLY: comma-separated words, one of which the label or path must hold."""
    words = [word.strip() for word in setting("ONLY", "").split(",") if word.strip()]
    return not words or any(word in label or word in path for word in words)


def meeting_endpoints(meetings: dict, half: str) -> list[tuple[str, str, str, bool]]:
    """The meeting page, the agenda pre-fill and the supplier scorecard (meetings bench)."""
    supplier, meeting = meetings.get("supplier_id"), meetings.get("meeting_id")
    if not supplier or not meeting:
        return []
    return [
        ("joint meeting page (agenda, minutes, actions)", f"/meetings/{meeting}", "staff",
         True),
        ("agenda pre-fill (busiest supplier)",
         f"/meetings/prefill?{urlencode({'supplier_ids': supplier})}", "staff", True),
        ("supplier scorecard (busiest supplier)",
         f"/suppliers/{supplier}/scorecard?{urlencode({'period': half})}", "staff", True),
    ]


def markdown_table(baseline: dict, rows: list[dict], goal: float) -> str:
    lines = [f"| endpoint | path | req/s | vs /healthz | p50 | p99 | goal ≥ {goal:.0%} |",
             "|---|---|---:|---:|---:|---:|---|",
             f"| GET /healthz (trivial) | `/healthz` | {baseline['rps']:.0f} | 100% | "
             f"{baseline['p50']} | {baseline['p99']} | baseline |"]
    for row in rows:
        lines.append(f"| {row['label']} | `{row['path']}` | {row['rps']:.0f} | "
                     f"{row['ratio']:.0%} | {row['p50']} | {row['p99']} | {row['verdict']} |")
    return "\n".join(lines)


def measure(server: Server, cookies: dict, state: dict, duration: int) -> tuple[list, list]:
    """Each page right after its own /healthz sample, so that a machine busy with other work
    for a while skews the page and its baseline alike (the ratio uses that pair)."""
    healthz, rows = [], []
    wrk(server.port, "/healthz", "", 2)  # warm-up: workers, database connections
    for label, path, who, has_goal in endpoints(state):
        if not selected(label, path):
            continue
        started = time.monotonic()
        try:
            status, headers, _set_cookie, page = request(server.port, "GET", path,
                                                         cookie=cookies[who])
        except TimeoutError:
            # The workers are still busy with a slower page's queued requests: that page's
            # row says so; this one is left out rather than losing the whole run.
            log(f"{path}: no answer within 60 s (the workers were still busy): left out")
            continue
        single = time.monotonic() - started
        if status != 200:
            raise BenchError(f"{path} answered HTTP {status} ({headers.get('Location', '')})")
        base = wrk(server.port, "/healthz", "", max(3, duration // 2))
        healthz.append(base)
        wrk(server.port, path, cookies[who], 2)  # warm-up
        result = wrk(server.port, path, cookies[who], duration)
        if result["non_2xx"] or result["socket_errors"]:
            log(f"{path}: {result['non_2xx']} non-2xx responses {result['socket_errors']}")
        if not result["rps"]:
            # Slower than duration × workers / connections: the warm-up's requests still queue
            # when the measured run ends, so wrk counts none.
            log(f"{path}: no response completed in {duration} s; one request alone took "
                f"{single:.2f} s ({len(page.encode()) / 1e6:.1f} MB)")
        rows.append({"label": label, "path": path, "who": who or "anonymous",
                     "has_goal": has_goal, "bytes": len(page.encode()),
                     "healthz_rps": base["rps"], **result})
        log(f"{label}: {result['rps']:.0f} req/s (p50 {result['p50']}); "
            f"/healthz just before: {base['rps']:.0f} req/s")
    return healthz, rows


def mixed_phase(server: Server, url: str, cookies: dict, state: dict, writer_cookie: str) -> dict:
    """Reads of the key pages, quiet and then while a staff session writes (bench/mixed.py)."""
    import sqlalchemy as sa

    seconds = int(setting("MIXED_DURATION", "20"))
    interval = float(setting("WRITE_INTERVAL", "0.2"))
    pages = [(path, cookies[who]) for label, path, who, _goal in endpoints(state)
             if label in mixed.READ_PAGES]
    if not pages:
        raise BenchError("none of the mixed phase's pages is in this benchmark")
    OUT.mkdir(parents=True, exist_ok=True)
    script = OUT / "mixed.lua"
    script.write_text(mixed.lua_script(pages, USER_AGENT))
    # Enough targets for the phase at full speed, and some to spare.
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            targets = mixed.write_targets(connection, int(seconds / interval) + 20)
    finally:
        engine.dispose()
    for kind, found in targets.items():
        if not found:
            raise BenchError(f"the dataset has nothing left to {kind} (BENCH_FRESH=1 reseeds)")
    first = targets["approve booking"][0][0]
    status, _headers, set_cookie, page = request(server.port, "GET",
                                                 f"/venues/bookings/{first}",
                                                 cookie=writer_cookie)
    csrf = csrf_in(page)
    if status != 200 or csrf is None:
        raise BenchError(f"no decision form on /venues/bookings/{first} (HTTP {status})")
    # The page put the CSRF token's secret in the session: the writes send that session.
    jar = dict(part.split("=", 1) for part in writer_cookie.split("; ") if "=" in part)
    writer_cookie = cookie_header(_cookies(set_cookie, jar))

    def post(path: str, fields: dict) -> int:
        # The session cookie is not updated: the flash message the answer sets would only be
        # shown on the page the writer does not open.
        return request(server.port, "POST", path, fields, writer_cookie)[0]

    # Quiet and writing alternate in rounds, in the order quiet-writing, writing-quiet, ...
    # (ABBA): a machine whose pace drifts over the phase (other work, CPU boost) then weighs
    # on both alike; one quiet stretch followed by one writing stretch measured the drift
    # as much as the writes (76 % and 93 % in two runs a minute apart).
    rounds = max(1, int(setting("MIXED_ROUNDS", "4")))
    stretch = max(2, round(seconds / rounds))
    log(f"mixed load: {len(pages)} pages read in turn; {rounds} rounds of {stretch} s quiet "
        f"and {stretch} s with a write every {interval * 1000:.0f} ms")
    healthz = wrk(server.port, "/healthz", "", 5)  # the machine's pace, for the record
    wrk(server.port, "/", "", 2, script)  # warm-up: every page of the mix in the cache
    today = datetime.now(UTC).astimezone(ZONE).date()
    writes_to_come = mixed.rotation(targets)
    runs: dict[str, list[dict]] = {"quiet": [], "mixed": []}
    logs = []
    for number in range(rounds):
        for phase in (("quiet", "mixed") if number % 2 == 0 else ("mixed", "quiet")):
            if phase == "quiet":
                runs[phase].append(wrk(server.port, "/", "", stretch, script))
                continue
            writer = mixed.Writer(writes_to_come, post, csrf, today, interval)
            writer.start()
            try:
                runs[phase].append(wrk(server.port, "/", "", stretch, script))
            finally:
                logs.append(writer.stop())
    quiet, busy = mixed.combine(runs["quiet"]), mixed.combine(runs["mixed"])
    writes = mixed.WriteLog.joined(logs)
    log(f"quiet: {quiet['rps']:.0f} req/s, p99 {quiet['p99']}, cache {quiet['cache']}")
    log(f"mixed: {busy['rps']:.0f} req/s, p99 {busy['p99']}, cache {busy['cache']}; "
        f"{writes.done} writes, {len(writes.failures)} failed")
    for failure in writes.failures[:5]:
        log(f"write failed: {failure}")
    for phase, result in (("quiet", quiet), ("mixed", busy)):
        if result["non_2xx"] or result["socket_errors"]:
            log(f"{phase} reads: {result['non_2xx']} non-2xx responses "
                f"{result['socket_errors']}")
    summary = mixed.summarise(quiet, busy, writes, interval)
    summary["pages"] = [path for path, _cookie in pages]
    summary["healthz_rps"] = healthz["rps"]
    return summary


def cpu_busy(seconds: float = 3.0) -> float | None:
    """The share of CPU time other processes used over a few seconds (Linux), or None."""
    def sample():
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        return values[3] + values[4], sum(values)  # idle + iowait, total
    try:
        idle1, total1 = sample()
        time.sleep(seconds)
        idle2, total2 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


def prepare_datasets(kind: str, url: str) -> dict:
    """Every dataset of the benchmark seeded (unless already there at these sizes), the
    search index brought up to date and the statistics fresh; the pages' ids (state)."""
    venues, bookings = int(setting("VENUES", "200")), int(setting("BOOKINGS", "200000"))
    state = prepare_database(kind, url, venues, bookings)
    log(f"dataset: {state.get('venues')} venues, {state.get('bookings')} bookings; the heavy "
        f"client has {state.get('client_bookings')} bookings")
    rentals = prepare_dataset(url, "rentals", "bench-seed-rentals", {
        "rooms": int(setting("ROOMS", "10000")), "leases": int(setting("LEASES", "20000")),
        "periods": int(setting("PERIODS", "500000"))}, present=("rooms", "leases"))
    log(f"rentals: {rentals.get('rooms')} rooms, {rentals.get('leases')} leases, "
        f"{rentals.get('periods')} schedule lines")
    surveys = prepare_dataset(url, "surveys", "bench-seed-surveys", {
        "rounds": int(setting("SURVEY_ROUNDS", "20")),
        "invitees": int(setting("SURVEY_INVITEES", "300"))}, present=("survey_rounds",))
    log(f"surveys: {surveys.get('survey_rounds')} rounds, {surveys.get('survey_responses')} "
        "responses")
    state = {**state, "survey_round_id": surveys.get("survey_round_id"), "rentals": rentals,
             "surveys": surveys}
    feedback = prepare_dataset(url, "feedback", "bench-seed-feedback", {
        "items": int(setting("FEEDBACK", "50000"))}, present=("feedback",))
    log(f"feedback: {feedback.get('feedback')} items")
    state = {**state, **feedback}
    state["meetings"] = prepare_dataset(url, "meetings", "bench-seed-meetings", {
        "suppliers": int(setting("SUPPLIERS", "500")),
        "contracts": int(setting("CONTRACTS", "2000")),
        "meetings": int(setting("MEETINGS", "1000")),
        "actions": int(setting("ACTIONS", "20000"))}, present=("suppliers", "meetings"))
    log(f"meetings: {state['meetings'].get('suppliers')} suppliers, "
        f"{state['meetings'].get('meetings')} meetings, "
        f"{state['meetings'].get('actions')} action items")

    log("search index: flask search reindex --stale-only")
    started = time.monotonic()
    indexed = flask(url, "search", "reindex", "--stale-only")
    log(f"search index ready in {time.monotonic() - started:.0f} s: "
        + " ".join(indexed.stdout.split()))
    vacuum(kind, url)
    return state


def workreport_inprocess(url: str) -> str:
    """Issue 14's goals in the table: the work report's figures and DOCX timed in-process
    (``bench/workreport_inprocess.py``: live, cold, after a change, warm) for the last
    closed half-year and the current one, unless ``BENCH_ONLY`` leaves the work report out or
    ``BENCH_WORKREPORT=0``."""
    if setting("WORKREPORT", "1") == "0" or not selected(
            "work report, all figures of the half-year (workreport)", "/work-report/"):
        return ""
    today = date.today()
    current = (today.year, 1 if today.month <= 6 else 2)
    closed = (current[0], 1) if current[1] == 2 else (current[0] - 1, 2)
    keys = [f"{year}-H{half}" for year, half in (closed, current)]
    log(f"work report in-process: {', '.join(keys)} (bench/workreport_inprocess.py)")
    answer = subprocess.run(  # noqa: S603  (our own script)
        [str(BIN / "python"), str(Path(__file__).with_name("workreport_inprocess.py")), *keys],
        env={**os.environ, "PORTAL_DATABASE_URL": url}, capture_output=True, text=True,
        check=False)
    if answer.returncode:
        raise BenchError(f"bench/workreport_inprocess.py failed: {answer.stderr[-2000:]}")
    return ("Work report in-process (issue 14: all figures < 300 ms, DOCX < 2 s; live: "
            "every month summed, nothing stored; cold: every month summed and stored; after a "
            "change to one month: that month summed; warm: only the current month summed, "
            "the others' stored figures read):\n\n"
            + answer.stdout.strip())


def run() -> int:
    goal = float(setting("GOAL", "0.25"))
    duration = int(setting("DURATION", "10"))
    if shutil.which("wrk") is None:
        raise BenchError("wrk is not installed (Debian: apt-get install wrk)")
    if not (BIN / "gunicorn").exists():
        raise BenchError(f"gunicorn is missing from {BIN} (pip install -e .)")
    kind, url = database_url()
    state = prepare_datasets(kind, url)

    busy = cpu_busy()
    if busy is not None and busy > 0.15:
        log(f"note: the CPUs were {busy:.0%} busy with other work before the benchmark started")

    mixed_mode = setting("MIXED", "1").lower()
    if mixed_mode not in ("0", "1", "only"):
        raise BenchError(f"BENCH_MIXED must be 0, 1 or only, not {mixed_mode!r}")
    mixed_summary: dict | None = None
    server = Server(url, int(setting("WORKERS", "2")))
    previous = {sig: signal.signal(sig, _interrupted) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        server.start()
        cookies = {"": "",
                   "client": login(server.port, state["client_email"], state["password"]),
                   "staff": login(server.port, state["staff_email"], state["password"])}
        healthz, rows = [], []
        if mixed_mode != "only":
            healthz, rows = measure(server, cookies, state, duration)
        if mixed_mode != "0":
            mixed_summary = mixed_phase(server, url, cookies, state, login(
                server.port, state["staff_email"], state["password"]))
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    samples = sorted(sample["rps"] for sample in healthz) or [0.0]
    baseline = dict(healthz[len(healthz) // 2]) if healthz else {"p50": "", "p99": ""}
    baseline["rps"] = samples[len(samples) // 2]  # the median sample
    failed, errors = [], []
    for row in rows:
        row["ratio"] = row["rps"] / (row["healthz_rps"] or 1.0)
        if row["non_2xx"] or row["socket_errors"]:
            row["verdict"] = "ERROR"
            errors.append(row["label"])
        elif not row["has_goal"]:
            row["verdict"] = "reference"
        else:
            row["verdict"] = "PASS" if row["ratio"] >= goal else "FAIL"
            if row["verdict"] == "FAIL":
                failed.append(row["label"])
    table = markdown_table(baseline, rows, goal) if rows else ""
    spread = samples[-1] / (samples[0] or 1.0)
    cache_on = os.environ.get("PORTAL_PAGE_CACHE") != "0"
    rentals, surveys = state["rentals"], state["surveys"]
    header = (f"{kind} · {state.get('venues')} venues, {state.get('bookings')} bookings, "
              f"{rentals.get('rooms')} rooms, {rentals.get('leases')} leases, "
              f"{rentals.get('periods')} schedule lines, {state.get('feedback')} feedback items, "
              f"{surveys.get('survey_rounds')} survey rounds · "
              f"page cache {'on' if cache_on else 'off'} · "
              f"gunicorn {server.workers} sync workers · wrk -t{setting('THREADS', '2')} "
              f"-c{setting('CONNECTIONS', '16')} -d{duration}s · {os.cpu_count()} CPUs · "
              f"{date.today().isoformat()}"
              + (f" · /healthz samples {samples[0]:.0f}–{samples[-1]:.0f} req/s (each ratio "
                 "uses the sample taken just before its page)" if healthz else "")
              + (f" · CPUs {busy:.0%} busy before the start" if busy is not None else ""))
    workreport_table = workreport_inprocess(url) if mixed_mode != "only" else ""
    mixed_table = ""
    if mixed_summary is not None:
        mixed_table = ("Mixed load (" + ", ".join(mixed_summary["pages"]) + " read in turn; "
                       f"/healthz {mixed_summary['healthz_rps']:.0f} req/s just before):\n\n"
                       + mixed.markdown_table(mixed_summary))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"results-{kind}.md").write_text(
        f"{header}\n\n{table}\n\n{workreport_table}\n\n{mixed_table}\n")
    results = json.dumps(
        {"header": header, "bookings": state.get("bookings"), "page_cache": cache_on,
         "healthz": [{k: v for k, v in h.items() if k != "output"} for h in healthz],
         "rows": [{k: v for k, v in row.items() if k != "output"} for row in rows],
         "mixed": mixed_summary}, ensure_ascii=False, indent=2)
    (OUT / f"results-{kind}.json").write_text(results)
    # Kept apart per dataset size and cache setting: bench/compare.py reads two of them.
    (OUT / f"results-{kind}-{state.get('bookings')}b-cache-{'on' if cache_on else 'off'}"
     ".json").write_text(results)
    print()
    print(header)
    print()
    if table:
        print(table)
        print()
    if workreport_table:
        print(workreport_table)
        print()
    if mixed_table:
        print(mixed_table)
        print()
        print(f"mixed load: {mixed_summary['verdict']} (reads while writing "
              f"{mixed_summary['ratio']:.0%} of quiet, goal ≥ {mixed.GOAL_RATIO:.0%}; read p99 "
              f"{mixed_summary['mixed']['p99']}, goal < {mixed.GOAL_P99_MS:.0f} ms"
              + (f"; {mixed_summary['write_failure_count']} writes failed"
                 if mixed_summary["write_failure_count"] else "") + ")")
    if spread > 1.25:
        print(f"note: /healthz varied {spread:.2f}x during the run: the machine was busy with "
              "other work for a while; rerun on a quiet machine for steadier figures")
    if errors:
        print(f"errors (non-2xx responses or socket errors): {', '.join(errors)}")
        return 1
    strict = setting("STRICT", "") == "1"
    if failed:
        print(f"below the goal: {', '.join(failed)}")
    elif rows:
        print("every page reaches the goal")
    mixed_failed = mixed_summary is not None and mixed_summary["verdict"] != "PASS"
    return 1 if strict and (failed or mixed_failed) else 0


def _interrupted(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    try:
        return run()
    except BenchError as error:
        log(f"error: {error}")
        return 2
    except KeyboardInterrupt:
        log("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
