"""20 clients ask for overlapping slots of one venue at the same instant, through HTTP."""

import pytest
import sqlalchemy as sa

from portal.bookings.models import Booking, VenueSlot
from portal.extensions import db
from tests.bookings.factories import future_day, make_venue
from tests.conftest import make_user
from tests.helpers import all_at_once
from tests.test_concurrency import _TOKEN, THREADS, Browserless


@pytest.mark.live
def test_exactly_one_of_twenty_overlapping_requests_wins(live_server):
    app = live_server.app
    venue_id = make_venue(app, name="大礼堂")
    day = future_day(5).isoformat()
    clients = []
    for n in range(THREADS):
        account = make_user(app, "client", email=f"rush{n}@example.com")
        browser = Browserless(live_server.url)
        token = _TOKEN.search(browser.get("/auth/login")).group(1)
        status, _ = browser.post("/auth/login", {"email": account.email, "csrf_token": token,
                                                 "password": account.password})
        assert status == 200  # followed the redirect home
        clients.append(browser)
    tokens = [_TOKEN.search(c.get("/venues/book")).group(1) for c in clients]

    def book(n):
        # Every request overlaps every other: the same morning, or custom hours across it.
        return clients[n].post("/venues/book", {
            "csrf_token": tokens[n], "title": f"会议{n}", "headcount": "50",
            "layout": "theatre", "slots-0-venue_id": str(venue_id), "slots-0-day": day,
            "slots-0-session": "morning" if n % 2 else "custom", "slots-0-start": "10:00",
            "slots-0-end": "11:30", "meal_option": "0", "meals": "0", "tea_option": "0",
            "tea_breaks": "0", "banquet_option": "0", "banquet_tables": "0",
        })

    results = all_at_once(THREADS, book)

    statuses = sorted(status for status, _ in results)
    assert len(results) == THREADS
    assert statuses.count(200) == 1, statuses  # the winner followed the redirect
    refused = [body for status, body in results if status == 422]
    assert len(refused) == THREADS - 1, statuses
    assert all("所选时段会场已被占用" in body for body in refused)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Booking)) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VenueSlot).where(
            VenueSlot.active)) == 1
        db.session.remove()
