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


# --- the lifecycle: conflicting steps on one booking at once -----------------------------------


def _booking_race(live_server, moves):
    """A requested booking; staff (and its client) post ``moves`` [(who, action, fields)]."""
    from portal.auth.models import User
    from tests.bookings.factories import make_booking
    from tests.races import Attempt, race, signed_in

    app = live_server.app
    venue_id = make_venue(app, name="第二会议室")
    customer = make_user(app, "client", email="race-client@example.com")
    booking_id = make_booking(app, customer.id, venue_id, day=future_day(9))
    page = f"/venues/bookings/{booking_id}"
    attempts = []
    for n, (who, action, fields) in enumerate(moves):
        account = customer if who == "client" else make_user(
            app, "staff", email=f"desk{n}@example.com", name=f"值班员{n}")
        browser = signed_in(live_server, account, page)
        attempts.append(Attempt(browser, f"{page}/{action}",
                                {"expected_status": "requested", **fields}))
    with app.app_context():
        assert db.session.get(User, customer.id) is not None
        db.session.remove()
    return app, booking_id, customer, race(attempts)


@pytest.mark.live
@pytest.mark.parametrize("moves", [
    [("staff", "approve", {})] * 4,
    [("staff", "approve", {}), ("staff", "reject", {"reason": "场地维修"})] * 2,
    [("client", "cancel", {"reason": "改期"})] + [("staff", "approve", {})] * 3,
], ids=["four-approvals", "approve-and-reject", "cancel-and-approvals"])
def test_conflicting_steps_on_one_booking_take_effect_once(live_server, moves):
    from tests.races import assert_one_step, outbox_count

    app, booking_id, customer, results = _booking_race(live_server, moves)
    [(old, new)] = assert_one_step(results, app, "booking", booking_id)
    assert old == "requested" and new in ("approved", "rejected", "cancelled")
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert booking.status == new
        if new == "approved":
            assert booking.approved_quote["total_fen"] == booking.quote_total_fen
        active = db.session.scalar(sa.select(sa.func.count()).select_from(VenueSlot).where(
            VenueSlot.booking_id == booking_id, VenueSlot.active))
        assert active == (1 if new == "approved" else 0)
        db.session.remove()
    # The request's own confirmation, then one mail for the one decision.
    assert outbox_count(app, customer.email) == 2


@pytest.mark.live
@pytest.mark.parametrize("moves", [
    ["check-in", "check-in", "check-in"],
    ["check-in", "no_show", "check-in", "no_show"],
], ids=["three-check-ins", "check-ins-and-no-shows"])
def test_a_booking_is_checked_in_once_and_never_also_a_no_show(live_server, moves):
    """Staff at the door and at the desk act on one begun booking at once: one of them wins
    (the arrival recorded once, or the no-show), the others are told, never a 500."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from portal.auth.models import User
    from portal.bookings import services
    from tests.bookings.factories import has_begun, make_booking
    from tests.conftest import request_context
    from tests.races import Attempt, race, signed_in

    app = live_server.app
    venue_id = make_venue(app, name="第二会议室")
    booking_id = make_booking(app, make_user(app, "client").id, venue_id, day=future_day(2))
    desk = make_user(app, "staff", email="desk-approver@example.com")
    with request_context(app, desk.id):
        services.transition(db.session.get(Booking, booking_id), "approve",
                            db.session.get(User, desk.id), notify=False)
        has_begun(db.session.get(Booking, booking_id))
        db.session.remove()
    page = f"/venues/bookings/{booking_id}"
    now = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%H:%M")
    attempts = []
    for n, move in enumerate(moves):
        browser = signed_in(live_server, make_user(app, "staff", email=f"door{n}@example.com"),
                            page)
        if move == "check-in":
            attempts.append(Attempt(browser, f"{page}/check-in", {
                "expected_status": "approved", "arrived_time": now,
                "arrived_headcount": str(40 + n), "arrival_extras": "", "next": ""}))
        else:
            attempts.append(Attempt(browser, f"{page}/no_show",
                                    {"expected_status": "approved"}))
    results = race(attempts)
    statuses = [status for status, _ in results]
    won = [n for n, status in enumerate(statuses) if status in (200, 303)]  # (redirect followed)
    assert 500 not in statuses and len(won) == 1, statuses
    assert all(status in (409, 422) for n, status in enumerate(statuses) if n not in won)
    winner = moves[won[0]]
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        if winner == "check-in":
            assert booking.status == "approved" and booking.arrived_at is not None
            assert booking.arrived_headcount == 40 + won[0]
        else:
            assert booking.status == "no_show" and booking.arrived_at is None
        db.session.remove()
