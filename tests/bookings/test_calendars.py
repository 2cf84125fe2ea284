"""Calendar files and private feeds: .ics per booking, a client's feed, staff venue feeds."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import render_template_string
from flask_login import login_user
from icalendar import Calendar

from portal.auth.models import User
from portal.bookings import calendars, services
from portal.bookings.models import Booking, CalendarFeed
from portal.database import utcnow, write_transaction
from portal.errors import NotAllowed
from portal.extensions import db
from tests.bookings.factories import future_day, make_booking, make_venue
from tests.conftest import csrf_token, make_user

SHANGHAI = ZoneInfo("Asia/Shanghai")
REFERENCE = re.compile(r"HY\d{6}")
FEED_URL = re.compile(r'id="feed-url" name="feed_url" value="([^"]+)"')
# The same check as tests/test_routes.py: pages are served under a CSP without 'unsafe-inline'.
INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=\"|\son[a-z]+=\"", re.I)


def _events(data: bytes) -> list:
    return list(Calendar.from_ical(data).walk("VEVENT"))


def _post(test_client, path: str, **fields):
    return test_client.post(path, data={"csrf_token": csrf_token(test_client, "/auth/reset"),
                                        **fields})


def _transition(app, booking_id: int, name: str, user_id: int, **details) -> None:
    with app.test_request_context():
        user = db.session.get(User, user_id)
        services.transition(db.session.get(Booking, booking_id), name, user, **details)


def _two_room_booking(app, client_id: int) -> tuple[int, int, int]:
    hall = make_venue(app, name="大礼堂")
    room = make_venue(app, name="第一会议室", theatre=40)
    day = future_day(9)
    with app.test_request_context():
        booking = services.request_booking(db.session.get(User, client_id), services.BookingInput(
            title="行业协会年会", headcount=30, layout="theatre", slots=[
                services.SlotInput(hall, day, "morning", time(8, 30), time(12)),
                services.SlotInput(room, day, "afternoon", time(13, 30), time(17, 30))]))
        return booking.id, hall, room


def _create_feed(test_client, path="/venues/feeds") -> str:
    response = _post(test_client, path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert INLINE.findall(html) == []
    match = FEED_URL.search(html)
    assert match, html
    url = match.group(1)
    assert f'href="{url.replace("http://", "webcal://")}"' in html
    return url.removeprefix("http://localhost")


def _set_user(app, user_id: int, **values) -> None:
    with app.test_request_context(), write_transaction():
        user = db.session.get(User, user_id)
        for name, value in values.items():
            setattr(user, name, value)


# --- one booking as .ics ------------------------------------------------------------------------


def test_booking_ics_has_one_event_per_slot_in_utc(app, login_as):
    me = login_as("client")
    booking_id, hall, room = _two_room_booking(app, me.account.id)
    response = me.get(f"/venues/bookings/{booking_id}.ics")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="HY{booking_id:06d}.ics"')
    calendar = Calendar.from_ical(response.data)
    assert calendar["version"] == "2.0" and calendar["method"] == "PUBLISH"
    events = _events(response.data)
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        slot_ids = [slot.id for slot in booking.slots]
    assert [str(e["uid"]) for e in events] == [f"slot-{i}@localhost" for i in slot_ids]
    first, second = events
    day = future_day(9)
    assert first["dtstart"].dt == datetime.combine(day, time(8, 30), SHANGHAI)
    assert first["dtstart"].dt.utcoffset() == timedelta(0)  # written in UTC
    assert f"DTSTART:{day:%Y%m%d}T003000Z".encode() in response.data
    assert second["dtend"].dt == datetime.combine(day, time(17, 30), SHANGHAI)
    assert str(first["summary"]) == "行业协会年会"
    assert str(first["location"]) == "大礼堂（会议中心 1F）"
    assert str(second["location"]).startswith("第一会议室")
    assert f"HY{booking_id:06d}" in str(first["description"])
    assert "待审批" in str(first["description"])  # the status, in the user's language
    assert str(first["status"]) == "TENTATIVE"
    assert str(first["url"]) == f"http://localhost/venues/bookings/{booking_id}"


def test_booking_ics_status_follows_the_booking(app, login_as):
    venue_id = make_venue(app)
    me = login_as("client")
    staff = make_user(app, "staff")
    booking_id = make_booking(app, me.account.id, venue_id)
    path = f"/venues/bookings/{booking_id}.ics"
    _transition(app, booking_id, "approve", staff.id)
    assert [str(e["status"]) for e in _events(me.get(path).data)] == ["CONFIRMED"]
    _transition(app, booking_id, "cancel", staff.id)
    event = _events(me.get(path).data)[0]
    assert str(event["status"]) == "CANCELLED" and str(event["transp"]) == "TRANSPARENT"


def test_booking_ics_access_rules(app, client, login_as, caplog):
    venue_id = make_venue(app)
    owner = make_user(app, "client")
    booking_id = make_booking(app, owner.id, venue_id)
    path = f"/venues/bookings/{booking_id}.ics"
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    caplog.set_level(logging.WARNING, logger="portal.security")
    assert login_as("client").get(path).status_code == 404
    assert any("not visible" in record.message for record in caplog.records)
    assert login_as("supervisor").get(path).status_code == 404
    for role in ("staff", "admin"):
        assert login_as(role).get(path).status_code == 200
    assert login_as("client").get("/venues/bookings/999999.ics").status_code == 404


# --- a client's private feed ------------------------------------------------------------------


def test_feed_lifecycle_create_use_without_login_revoke(app, client, login_as):
    me = login_as("client")
    booking_id, _hall, _room = _two_room_booking(app, me.account.id)
    path = _create_feed(me)
    token = path.removeprefix("/venues/feeds/").removesuffix(".ics")
    assert len(token) >= 43
    with app.app_context():
        feed = db.session.scalar(sa.select(CalendarFeed).where(
            CalendarFeed.user_id == me.account.id))
        assert feed.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in feed.token_hash and feed.revoked_at is None
        feed_id = feed.id

    response = client.get(path)  # a calendar app: no session, no cookie
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert "private" in response.headers["Cache-Control"]
    assert "Content-Disposition" not in response.headers
    events = _events(response.data)
    assert len(events) == 2 and all(f"HY{booking_id:06d}" in str(e["description"])
                                    for e in events)
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H" in response.data

    revoked = _post(me, f"/venues/feeds/{feed_id}/revoke", next="/venues/bookings/mine")
    assert revoked.status_code == 303
    assert revoked.headers["Location"].endswith("/venues/bookings/mine")
    assert client.get(path).status_code == 404
    again = _post(me, f"/venues/feeds/{feed_id}/revoke")  # revoking twice is harmless
    assert again.status_code == 303


def test_a_new_feed_revokes_the_previous_one(app, client, login_as):
    me = login_as("client")
    make_booking(app, me.account.id, make_venue(app))
    first = _create_feed(me)
    second = _create_feed(me)
    assert first != second
    assert client.get(first).status_code == 404
    assert client.get(second).status_code == 200
    with app.app_context():
        feeds = list(db.session.scalars(sa.select(CalendarFeed).where(
            CalendarFeed.user_id == me.account.id)))
        assert len(feeds) == 2 and sum(f.revoked_at is None for f in feeds) == 1


def test_unknown_and_malformed_tokens_are_404(client):
    assert client.get("/venues/feeds/not-a-token.ics").status_code == 404
    assert client.get("/venues/feeds/" + "a" * 500 + ".ics").status_code == 404
    assert client.get("/venues/feeds/.ics").status_code == 404


def test_only_the_owner_revokes_a_feed(app, client, login_as, caplog):
    me = login_as("client")
    make_booking(app, me.account.id, make_venue(app))
    path = _create_feed(me)
    with app.app_context():
        feed_id = db.session.scalar(sa.select(CalendarFeed.id))
    caplog.set_level(logging.WARNING, logger="portal.security")
    for role in ("client", "staff", "admin"):
        assert _post(login_as(role), f"/venues/feeds/{feed_id}/revoke").status_code == 404
    assert any("not this user's" in record.message for record in caplog.records)
    assert _post(client, f"/venues/feeds/{feed_id}/revoke").status_code == 302  # log in first
    assert client.get(path).status_code == 200


def test_only_clients_create_a_personal_feed(app, login_as):
    assert _post(login_as("staff"), "/venues/feeds").status_code == 403
    assert _post(login_as("supervisor"), "/venues/feeds").status_code == 403
    staff = make_user(app, "staff")
    with app.test_request_context(), pytest.raises(NotAllowed):
        calendars.create_personal_feed(db.session.get(User, staff.id))


def test_personal_feed_lists_the_clients_bookings_only(app, client, login_as):
    venue_id = make_venue(app)
    me = login_as("client")
    staff = make_user(app, "staff")
    other = make_user(app, "client")
    mine = {name: make_booking(app, me.account.id, venue_id, day=future_day(offset))
            for offset, name in enumerate(("requested", "approved", "cancelled", "rejected"),
                                          start=3)}
    _transition(app, mine["approved"], "approve", staff.id)
    _transition(app, mine["cancelled"], "cancel", staff.id)
    _transition(app, mine["rejected"], "reject", staff.id, reason="场地维修")
    not_mine = make_booking(app, other.id, venue_id, day=future_day(20))
    events = _events(client.get(_create_feed(me)).data)
    statuses = {REFERENCE.search(str(e["description"])).group(0): str(e["status"])
                for e in events}
    assert statuses == {f"HY{mine['requested']:06d}": "TENTATIVE",
                        f"HY{mine['approved']:06d}": "CONFIRMED",
                        f"HY{mine['cancelled']:06d}": "CANCELLED"}
    assert f"HY{not_mine:06d}" not in client.get(_create_feed(me)).get_data(as_text=True)


def test_feed_is_written_in_the_owners_language(app, client, login_as):
    me = login_as("client")
    make_booking(app, me.account.id, make_venue(app))
    _set_user(app, me.account.id, locale="en")
    body = client.get(_create_feed(me), headers={"Accept-Language": "zh-CN"}).data
    assert "Status: Requested" in str(_events(body)[0]["description"])


def test_feed_stops_when_its_owner_is_deactivated(app, client, login_as):
    me = login_as("client")
    make_booking(app, me.account.id, make_venue(app))
    path = _create_feed(me)
    _set_user(app, me.account.id, active=False)
    assert client.get(path).status_code == 404


# --- staff feeds of a venue -------------------------------------------------------------------


def test_venue_feed_is_staff_only_and_lists_bookings_and_blackouts(app, client, login_as):
    hall = make_venue(app, name="大礼堂")
    other_venue = make_venue(app, name="第二会议室")
    customer = make_user(app, "client", name="赵磊", organisation="金山精细化工研究会")
    booked = make_booking(app, customer.id, hall, day=future_day(4))
    cancelled = make_booking(app, customer.id, hall, day=future_day(5))
    elsewhere = make_booking(app, customer.id, other_venue, day=future_day(4))
    staff_user = make_user(app, "staff")
    _transition(app, cancelled, "cancel", staff_user.id)
    start = datetime.combine(future_day(30), time.min, SHANGHAI)
    with app.test_request_context():
        services.create_blackout(None, start, start + timedelta(days=2), "区人代会")

    assert _post(login_as("client"), f"/venues/{hall}/feeds").status_code == 403
    assert _post(login_as("supervisor"), f"/venues/{hall}/feeds").status_code == 403
    assert _post(client, f"/venues/{hall}/feeds").status_code == 302
    staff = login_as("staff")
    assert _post(staff, "/venues/999999/feeds").status_code == 404
    path = _create_feed(staff, f"/venues/{hall}/feeds")
    body = client.get(path).data
    events = _events(body)
    text = body.decode()
    assert f"HY{booked:06d}" in text
    assert f"HY{cancelled:06d}" not in text and f"HY{elsewhere:06d}" not in text
    summaries = sorted(str(e["summary"]) for e in events)
    assert summaries[0].endswith("区人代会") and len(summaries) == 2
    booking_event = next(e for e in events if f"HY{booked:06d}" in str(e["description"]))
    assert "金山精细化工研究会" in str(booking_event["summary"])
    blackout = next(e for e in events if e is not booking_event)
    assert blackout["dtstart"].dt == start.astimezone(UTC)
    assert str(blackout["status"]) == "CONFIRMED"


def test_venue_feed_per_staff_member_and_it_dies_with_their_role(app, client, login_as):
    hall = make_venue(app)
    first_staff = login_as("staff")
    second_staff = login_as("staff")
    mine = _create_feed(first_staff, f"/venues/{hall}/feeds")
    theirs = _create_feed(second_staff, f"/venues/{hall}/feeds")
    replaced = _create_feed(first_staff, f"/venues/{hall}/feeds")
    assert client.get(mine).status_code == 404  # replaced by the same member of staff
    assert client.get(theirs).status_code == 200  # a colleague's address is untouched
    assert client.get(replaced).status_code == 200
    _set_user(app, first_staff.account.id, role="supervisor")
    assert client.get(replaced).status_code == 404


def test_staff_revoke_their_venue_feed(app, client, login_as):
    hall = make_venue(app)
    staff = login_as("staff")
    path = _create_feed(staff, f"/venues/{hall}/feeds")
    with app.app_context():
        feed_id = db.session.scalar(sa.select(CalendarFeed.id).where(
            CalendarFeed.venue_id == hall))
    revoked = _post(staff, f"/venues/feeds/{feed_id}/revoke")
    assert revoked.status_code == 303 and revoked.headers["Location"].endswith(f"/venues/{hall}")
    assert client.get(path).status_code == 404


# --- queries ----------------------------------------------------------------------------------


def test_feeds_run_a_fixed_number_of_queries(app, client, login_as, count_queries):
    hall = make_venue(app, name="大礼堂")
    me = login_as("client")
    personal = _create_feed(me)
    venue_feed = _create_feed(login_as("staff"), f"/venues/{hall}/feeds")
    start = datetime.combine(future_day(40), time.min, SHANGHAI)
    with app.test_request_context():
        services.create_blackout(hall, start, start + timedelta(days=1), "设备检修")
    make_booking(app, me.account.id, hall)

    def counts():
        result = []
        for path in (personal, venue_feed):
            with count_queries() as queries:
                assert client.get(path).status_code == 200
            # (the test's savepoint statements are not the page's)
            result.append(len([q for q in queries if q.startswith("SELECT")]))
        return result

    few = counts()
    for offset in range(1, 6):
        room = make_venue(app, name=f"会议室{offset}")
        other = make_user(app, "client")
        for session in ("morning", "evening"):
            make_booking(app, me.account.id, room, day=future_day(offset), session=session)
        make_booking(app, other.id, hall, day=future_day(offset + 10), session="evening")
    with app.test_request_context():
        services.create_blackout(hall, start + timedelta(days=3), start + timedelta(days=4),
                                 "布展")
    many = counts()
    assert many == few
    assert few[0] <= 3 and few[1] <= 6
    assert len(_events(client.get(personal).data)) == 11


# --- the links partial --------------------------------------------------------------------------


def _render_links(app, user_id, booking_id=None, venue_id=None) -> str:
    """The partial as a page including it renders it (each call in its own app context)."""
    with app.test_request_context("/venues/bookings/mine"):
        if user_id is not None:
            login_user(db.session.get(User, user_id))
        context = {}
        if booking_id is not None:
            context["booking"] = db.session.get(Booking, booking_id)
        if venue_id is not None:
            context["venue"] = db.session.get(calendars.Venue, venue_id)
        return render_template_string('{% include "bookings/_calendar_links.html" %}',
                                      **context)


def test_links_partial_for_clients_and_staff(app, login_as):
    hall = make_venue(app, name="大礼堂")
    me = login_as("client")
    staff = make_user(app, "staff")
    booking_id = make_booking(app, me.account.id, hall)
    html = _render_links(app, me.account.id, booking_id=booking_id)
    assert f'href="/venues/bookings/{booking_id}.ics"' in html
    assert "confirmation.pdf" not in html  # not approved yet
    assert 'action="/venues/feeds"' in html and "/revoke" not in html
    assert 'name="next" value="/venues/bookings/mine"' in html
    assert INLINE.findall(html) == []

    _create_feed(me)
    _transition(app, booking_id, "approve", staff.id)
    with app.app_context():
        feed_id = db.session.scalar(sa.select(CalendarFeed.id).where(
            CalendarFeed.revoked_at.is_(None)))
    html = _render_links(app, me.account.id, booking_id=booking_id)
    without_booking = _render_links(app, me.account.id)
    staff_html = _render_links(app, staff.id, booking_id=booking_id)
    assert f'href="/venues/bookings/{booking_id}/confirmation.pdf"' in html
    assert f'action="/venues/feeds/{feed_id}/revoke"' in html
    assert ".ics" not in without_booking and f"/venues/feeds/{feed_id}/revoke" in without_booking
    assert f'action="/venues/{hall}/feeds"' in staff_html
    assert 'action="/venues/feeds"' not in staff_html
    assert INLINE.findall(html + staff_html) == []
    on_venue_page = _render_links(app, staff.id, venue_id=hall)
    assert f'action="/venues/{hall}/feeds"' in on_venue_page and ".ics" not in on_venue_page
    assert _render_links(app, None, venue_id=hall).strip() == ""  # visitors: nothing
    supervisor = make_user(app, "supervisor")
    assert _render_links(app, supervisor.id, venue_id=hall).strip() == ""


def test_service_rules(app):
    client_account = make_user(app, "client")
    staff_account = make_user(app, "staff")
    venue_id = make_venue(app)
    with app.test_request_context():
        staff_user = db.session.get(User, staff_account.id)
        client_user = db.session.get(User, client_account.id)
        venue = db.session.get(calendars.Venue, venue_id)
        with pytest.raises(NotAllowed):
            calendars.create_feed_for_venue(client_user, venue)
        feed, raw = calendars.create_feed_for_venue(staff_user, venue)
        assert calendars.find_feed(raw)[0].id == feed.id
        assert calendars.active_feeds(staff_user).venues == {venue_id: feed}
        assert calendars.active_feeds(client_user).personal is None
        calendars.revoke(feed)
        assert calendars.find_feed(raw) is None
        assert calendars.webcal_url("https://x.example/venues/feeds/a.ics") == (
            "webcal://x.example/venues/feeds/a.ics")
        assert feed.revoked_at <= utcnow()
