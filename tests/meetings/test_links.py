"""Links both ways between meetings and the other modules: a meeting's room booked from its
form (one transaction with the meeting, the booking module's rules and conflict answer)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask_login import current_user

from portal.bookings.models import Booking, BookingStatus
from portal.bookings.pricing import RateKind
from portal.bookings.services import BookingConflict
from portal.errors import ServiceError
from portal.extensions import db
from portal.meetings import services
from portal.meetings.models import Meeting
from tests.bookings.factories import make_venue
from tests.helpers import form_data
from tests.meetings.factories import World
from tests.races import Attempt, race, signed_in

ZONE = ZoneInfo("Asia/Shanghai")


def _day() -> date:
    return datetime.now(ZONE).date() + timedelta(days=5)


def _input(w: World, venue_id: int, **changes) -> services.MeetingInput:
    data = services.MeetingInput(
        title="第四季度服务质量联席会议", day=_day(), start=time(9), end=time(11),
        supplier_ids=[w.supplier_id], staff_ids=[w.staff_id], venue_id=venue_id,
        book_room=True)
    for key, value in changes.items():
        setattr(data, key, value)
    return data


def _counts() -> tuple[int, int]:
    return (db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)),
            db.session.scalar(sa.select(sa.func.count()).select_from(Booking)))


# --- booking the room from the meeting form ---------------------------------------------------


def test_booking_the_room_creates_an_approved_internal_booking_linked_in_one_step(
        app, ctx, world):
    venue = make_venue(app, name="第一会议室")
    with ctx(world.staff_id):
        meeting = services.create_meeting(current_user._get_current_object(),
                                          _input(world, venue))
        booking = meeting.booking
        assert booking is not None
        assert booking.status == BookingStatus.APPROVED and booking.expires_at is None
        assert booking.rate_kind == RateKind.INTERNAL and booking.client_id is None
        assert booking.quote_total_fen == 150_000  # the venue's internal half-day rate
        assert [slot.venue_id for slot in booking.slots] == [venue]
        assert booking.starts_at == meeting.starts_at
        assert meeting.location  # the venue's place, as for a booking picked from the list
        assert _counts() == (1, 1)


def test_a_taken_room_saves_nothing_and_is_explained_beside_the_venue(app, ctx, world):
    venue = make_venue(app, name="第一会议室")
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        services.create_meeting(actor, _input(world, venue))
        with pytest.raises(BookingConflict) as caught:
            services.create_meeting(actor, _input(world, venue, title="另一个会议",
                                                  start=time(10), end=time(12)))
        assert caught.value.field == "venue_id"
        assert caught.value.details and caught.value.details[0].venue.id == venue
        assert _counts() == (1, 1)  # neither the second meeting nor a booking


def test_booking_refusals_name_the_meeting_form_fields(app, ctx, world):
    venue = make_venue(app, name="第一会议室")
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        with pytest.raises(ServiceError) as caught:
            services.create_meeting(actor, _input(world, venue, day=_day() - timedelta(days=30)))
        assert caught.value.fields.keys() == {"day"}
        with pytest.raises(ServiceError) as caught:
            services.create_meeting(actor, _input(world, None))
        assert caught.value.field == "venue_id"
        assert _counts() == (0, 0)


def test_a_planned_meeting_books_its_room_when_edited(app, ctx, world):
    venue = make_venue(app, name="第一会议室")
    with ctx(world.staff_id):
        actor = current_user._get_current_object()
        meeting = services.create_meeting(actor, _input(world, venue, book_room=False))
        assert meeting.booking_id is None
        meeting = services.update_meeting(meeting, _input(world, venue), actor)
        assert meeting.booking is not None and meeting.booking.status == BookingStatus.APPROVED
        assert _counts() == (1, 1)


def test_the_form_shows_the_booking_forms_conflict_beside_the_venue(app, login_as, world):
    venue = make_venue(app, name="第一会议室")
    staff = login_as("staff")
    fields = {"title": "联席会议", "day": _day().isoformat(), "start": "09:00", "end": "11:00",
              "supplier_ids": [str(world.supplier_id)], "venue_id": str(venue),
              "book_room": "y", "booking_id": "0"}
    response = staff.post("/meetings/new", data=form_data(staff, "/meetings/new", **fields))
    assert response.status_code in (302, 303)
    response = staff.post("/meetings/new", data=form_data(
        staff, "/meetings/new", **{**fields, "title": "另一个会议"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    venue_field = html[html.index('id="book-room"'):]
    assert 'id="venue_id-error"' in venue_field  # the message beside the venue
    assert "conflict" in venue_field[:venue_field.index("</fieldset>")]
    with app.app_context():
        assert _counts() == (1, 1)


@pytest.mark.live
def test_two_meetings_booking_one_room_at_once_get_one_booking(live_server):
    from tests.conftest import make_user
    from tests.meetings.factories import make_world

    app = live_server.app
    world = make_world(app)
    venue = make_venue(app, name="第一会议室")
    clerks = [make_user(app, "staff", email=f"booker{n}@example.com") for n in range(3)]
    browsers = [signed_in(live_server, clerk, "/meetings/new") for clerk in clerks]
    fields = {"day": _day().isoformat(), "start": "09:00", "end": "11:00",
              "supplier_ids": str(world.supplier_id), "venue_id": str(venue),
              "book_room": "y", "booking_id": "0"}
    results = race([Attempt(browser, "/meetings/new", {**fields, "title": f"会议{n}"})
                    for n, browser in enumerate(browsers)])
    statuses = sorted(status for status, _body in results)
    assert statuses[0] in (200, 302, 303) and statuses[1:] == [422, 422], statuses
    with app.app_context():
        assert _counts() == (1, 1)
        db.session.remove()
