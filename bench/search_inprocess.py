"""In-process timing of the global search on the bench database (issue 13: ≤ 50 ms).

``PORTAL_DATABASE_URL=... .venv/bin/python bench/search_inprocess.py [query ...]`` after
``make bench`` has seeded and indexed the database: for the bench's staff member, its heavy
client (the most bookings) and the supervisor with the most feedback items, the median and
worst of 20 runs of ``search.services.search`` (the SQL and the grouping) and of the whole
``GET /search?q=`` request through the test client (login, query, rendering), with the page
cache off (every request renders afresh).
"""

from __future__ import annotations

import os
import statistics
import sys
import time

import sqlalchemy as sa
from flask_login import login_user

from portal import create_app
from portal.auth.models import User
from portal.bookings.bench import BENCH_PASSWORD, STAFF_EMAIL
from portal.bookings.models import Booking
from portal.extensions import db
from portal.feedback.models import Feedback
from portal.search import services

RUNS = 20
QUERIES = sys.argv[1:] or ["会议", "电梯运行", "保洁", "ZL000012", "不存在的词语"]


def busiest(column) -> int:
    return db.session.scalar(sa.select(column).where(column.is_not(None)).group_by(column)
                             .order_by(sa.func.count().desc()).limit(1))


def timed(call) -> tuple[float, float]:
    call()  # warm-up
    samples = []
    for _ in range(RUNS):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


def main() -> None:
    app = create_app({"SECRET_KEY": "bench", "RATELIMIT_ENABLED": False,
                      "WTF_CSRF_ENABLED": False, "PAGE_CACHE": False})
    assert "bench" in os.environ.get("PORTAL_DATABASE_URL", ""), "point it at a bench database"
    with app.app_context():
        staff = db.session.scalar(sa.select(User).where(User.email == STAFF_EMAIL))
        accounts = {"staff": (staff.id, staff.email)}
        for who, column in (("client", Booking.client_id),
                            ("supervisor", Feedback.supervisor_id)):
            user = db.session.get(User, busiest(column))
            accounts[who] = (user.id, user.email)
    print("| who | query | service p50 | service max | GET /search p50 | GET /search max |")
    print("|---|---|---:|---:|---:|---:|")
    for who, (user_id, email) in accounts.items():
        http = app.test_client()
        response = http.post("/auth/login", data={"email": email, "password": BENCH_PASSWORD})
        assert response.status_code == 303, response.status_code
        for query in QUERIES:
            with app.test_request_context():
                user = db.session.get(User, user_id)
                login_user(user)
                service = timed(lambda user=user, query=query: services.search(user, query))
            page = timed(lambda query=query, http=http: http.get("/search",
                                                                 query_string={"q": query}))
            print(f"| {who} | {query} | {service[0]:.1f} ms | {service[1]:.1f} ms | "
                  f"{page[0]:.1f} ms | {page[1]:.1f} ms |")


if __name__ == "__main__":
    main()
