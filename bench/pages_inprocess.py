"""In-process time of every page of ``make bench`` (issue 17: heavy pages < 100 ms at p50).

``.venv/bin/python bench/pages_inprocess.py`` (after ``make bench`` has seeded the database;
it seeds what is missing the same way, with the same ``BENCH_*`` settings): each page of
``bench/run.py``'s table is requested through the whole WSGI stack in this process (the
test client, production settings, the page cache off, signed in as the bench's staff member
or heavy client like wrk), 5 warm-ups then ``BENCH_RUNS`` (30) timed requests; the table gives
the median and best time and the SQL statements one request runs.
Unlike wrk's throughput this measure leaves out gunicorn and the HTTP client, and, being one
request at a time, it is not disturbed by the other worker: it is the figure to compare
before and after a change to one page.  ``BENCH_ONLY`` selects pages as in ``make bench``.
``BENCH_STORED=cold`` deletes the stored figures of closed periods (``portal/stored_figures.py``)
before each timed request, so each computes and stores them afresh (the first visit after a
change); by default they are warm (stored by the warm-ups), ``BENCH_STORED=off`` computes
everything live.
"""

from __future__ import annotations

import logging
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  (bench/run.py: the datasets and the page list)


def main() -> int:
    kind, url = bench.database_url()
    state = bench.prepare_datasets(kind, url)
    os.environ.update({"PORTAL_ENV": "production", "PORTAL_DATABASE_URL": url,
                       "PORTAL_SECRET_KEY": secrets.token_hex(32), "PORTAL_DEBUG": "0",
                       "PORTAL_RATELIMIT_ENABLED": "0", "PORTAL_PAGE_CACHE": "0",
                       "PORTAL_STORED_FIGURES": "0" if bench.setting("STORED", "") == "off"
                       else "1"})
    os.environ.pop("PORTAL_REDIS_URL", None)
    import sqlalchemy as sa

    from portal import create_app
    from portal.extensions import db
    from portal.stored_figures import StoredFigure

    app = create_app()
    logging.getLogger("portal.access").disabled = True  # its line still is formatted
    statements = [0]  # sent during the last request
    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _count(*_args) -> None:
        statements[0] += 1

    clients = {"": app.test_client(), "client": app.test_client(), "staff": app.test_client()}
    for who, email in (("client", state["client_email"]), ("staff", state["staff_email"])):
        page = clients[who].get("/auth/login", headers={"User-Agent": bench.USER_AGENT})
        token = bench.csrf_in(page.get_data(as_text=True))
        answer = clients[who].post("/auth/login", headers={"User-Agent": bench.USER_AGENT},
                                   data={"csrf_token": token, "email": email,
                                         "password": state["password"]})
        if answer.status_code not in (302, 303):
            raise bench.BenchError(f"login as {email} failed (HTTP {answer.status_code})")
    runs = int(bench.setting("RUNS", "30"))
    print("| page | path | p50 ms | best ms | SQL statements | status |")
    print("|---|---|---:|---:|---:|---|")
    for label, path, who, _goal in [("GET /healthz (trivial)", "/healthz", "", False),
                                    *bench.endpoints(state)]:
        if path != "/healthz" and not bench.selected(label, path):
            continue
        client, headers = clients[who], {"User-Agent": bench.USER_AGENT}
        for _ in range(5):
            client.get(path, headers=headers)
        samples = []
        for _ in range(runs):
            if bench.setting("STORED", "") == "cold":
                with app.app_context(), engine.begin() as connection:
                    connection.execute(sa.delete(StoredFigure.__table__))
            statements[0] = 0
            started = time.perf_counter()
            answer = client.get(path, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
        print(f"| {label} | `{path}` | {statistics.median(samples):.1f} | {min(samples):.1f} | "
              f"{statements[0]} | {answer.status_code} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
