"""Offers of freed time made at once, on SQLite and PostgreSQL: exactly one hold and one offer
mail (the entry's row lock, the slot guard, the unique offer)."""

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.bookings import services, waitlist
from portal.bookings.models import Booking, BookingStatus, VenueSlot, WaitlistEntry
from portal.database import write_transaction
from portal.extensions import db
from portal.outbox.models import OutboxMessage
from tests.bookings.factories import future_day, make_booking, make_venue
from tests.conftest import make_user
from tests.helpers import all_at_once
from tests.races import signed_in

TICKS = 4


def _waiting(app, clients: int = 2):
    """A venue whose morning is requested by one client, with ``clients`` others waiting
    for it; (venue, booking, holder, waiting accounts)."""
    venue_id = make_venue(app, name="第二会议室", theatre=60)
    holder = make_user(app, "client", email="holder@example.com")
    booking_id = make_booking(app, holder.id, venue_id)
    waiting = []
    for n in range(clients):
        account = make_user(app, "client", email=f"waiting{n}@example.com")
        start, end = services.pricing.SESSIONS["morning"]
        with app.test_request_context():
            waitlist.join(db.session.get(User, account.id), waitlist.WaitlistInput(
                venue_id, future_day(), "morning", start, end, 20))
            db.session.remove()
        waiting.append(account)
    return venue_id, booking_id, holder, waiting


def _outcome(app, venue_id):
    """(offered holds, active slots of the venue, offer mails, entries offered)."""
    with app.app_context():
        holds = db.session.scalar(sa.select(sa.func.count()).select_from(Booking).where(
            Booking.status == BookingStatus.OFFERED))
        slots = db.session.scalar(sa.select(sa.func.count()).select_from(VenueSlot).where(
            VenueSlot.venue_id == venue_id, VenueSlot.active))
        mails = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage).where(
            OutboxMessage.template == "waitlist_offer"))
        offered = db.session.scalars(sa.select(WaitlistEntry.client_id).where(
            WaitlistEntry.status == "offered")).all()
        db.session.remove()
    return holds, slots, mails, offered


def _tick(app):
    def run(_n):
        with app.test_request_context():
            try:
                return waitlist.offer_freed_time()
            finally:
                db.session.remove()
    return run


@pytest.mark.live
def test_ticks_at_once_make_one_offer(live_server):
    app = live_server.app
    venue_id, booking_id, holder, waiting = _waiting(app)
    # Freed inside a caller's transaction: nothing is offered until a tick runs.
    with app.test_request_context():
        with write_transaction():
            services.transition(db.session.get(Booking, booking_id), "cancel",
                                db.session.get(User, holder.id))
        db.session.remove()
    assert _outcome(app, venue_id)[0] == 0
    results = all_at_once(TICKS, _tick(app))
    assert not any(isinstance(result, Exception) for result in results), results
    assert sorted(results) == [0] * (TICKS - 1) + [1]
    holds, slots, mails, offered = _outcome(app, venue_id)
    assert (holds, slots, mails) == (1, 1, 1)
    assert offered == [waiting[0].id]  # the first in the queue


@pytest.mark.live
def test_the_slot_freed_while_offers_are_made_gives_one_hold(live_server):
    app = live_server.app
    venue_id, booking_id, holder, waiting = _waiting(app)
    staff = make_user(app, "staff", email="desk@example.com")
    page = f"/venues/bookings/{booking_id}"
    desk = signed_in(live_server, staff, page)
    tick = _tick(app)

    def work(n):
        if n == 0:  # staff cancel the holder's request (its offer follows the commit)
            return desk.post(f"{page}/cancel", {"csrf_token": desk.csrf, "reason": "改期",
                                                "expected_status": "requested"})
        return tick(n)

    results = all_at_once(TICKS, work)
    assert not any(isinstance(result, Exception) for result in results), results
    assert results[0][0] == 200  # the redirect to the booking, followed
    holds, slots, mails, offered = _outcome(app, venue_id)
    assert (holds, slots, mails) == (1, 1, 1)
    assert offered == [waiting[0].id]
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == BookingStatus.CANCELLED
        db.session.remove()
    # A tick afterwards finds nothing more to offer.
    assert tick(0) == 0
    assert _outcome(app, venue_id)[2] == 1
