"""Staff mark a booking as a government session (人代会, 政协会); a client cannot."""

from __future__ import annotations

from portal.auth.models import User
from portal.bookings import services
from portal.extensions import db
from tests.bookings.factories import future_day, make_venue
from tests.conftest import make_user


def _request(app, user_id, venue_id, category, **extra):
    start, end = services.pricing.SESSIONS["morning"]
    with app.test_request_context():
        user = db.session.get(User, user_id)
        booking = services.request_booking(user, services.BookingInput(
            title="区人大常委会会议", headcount=50, layout="theatre", category=category,
            slots=[services.SlotInput(venue_id, future_day(), "morning", start, end)],
            **extra))
        return booking.category


def test_staff_set_the_category_and_clients_cannot(app):
    venue = make_venue(app)
    staff = make_user(app, "staff")
    client = make_user(app, "client")
    assert _request(app, staff.id, venue, "government_session", department="区人大办",
                    rate_kind="free") == "government_session"
    venue2 = make_venue(app, code="V-GS2")
    assert _request(app, client.id, venue2, "government_session") == ""
