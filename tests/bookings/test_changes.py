"""Changing and moving bookings, weekly series with exceptions, the service team's day."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.bookings import services
from portal.bookings.models import Booking, BookingStatus, VenueSlot
from portal.extensions import db
from tests.bookings.factories import future_day, make_booking, make_catering, make_venue
from tests.bookings.test_views import _form
from tests.conftest import make_user
from tests.helpers import form_data


def test_staff_move_a_booking_under_the_same_rules(app, login_as):
    hall = make_venue(app, name="大礼堂")
    room = make_venue(app, name="多功能厅", theatre=150)
    customer = make_user(app, "client")
    booking_id = make_booking(app, customer.id, hall)
    blocker = make_booking(app, customer.id, room, day=future_day(11))
    staff = login_as("staff")
    path = f"/venues/bookings/{booking_id}/edit"
    page = staff.get(path).get_data(as_text=True)
    assert 'value="测试会议"' in page  # the form starts from the booking
    taken = staff.post(path, data=form_data(staff, path, **_form(room, day=future_day(11))))
    assert taken.status_code == 422 and "所选时段会场已被占用" in taken.get_data(as_text=True)
    moved = staff.post(path, data=form_data(staff, path, **_form(room, day=future_day(12))))
    assert moved.status_code == 303
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        [slot] = booking.slots
        assert slot.venue_id == room and booking.status == BookingStatus.REQUESTED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VenueSlot)) == 2
    # The hall is free again at the old time.
    make_booking(app, customer.id, hall)
    assert blocker


def test_a_booking_may_grow_over_its_own_old_time(app, ctx):
    hall = make_venue(app)
    staff = make_user(app, "staff")
    customer = make_user(app, "client")
    booking_id = make_booking(app, customer.id, hall)
    with ctx():
        booking = db.session.get(Booking, booking_id)
        data = services.booking_input(booking)
        data.slots = [services.SlotInput(hall, data.slots[0].day, "full_day", time(8, 30),
                                         time(17, 30))]
        services.change_booking(db.session.get(User, staff.id), booking, data)
        assert booking.quote_total_fen == 500_000


def test_client_change_of_an_approved_booking_goes_back_for_approval(app, ctx):
    hall = make_venue(app)
    banquet = make_catering(app)
    customer = make_user(app, "client")
    staff = make_user(app, "staff")
    booking_id = make_booking(app, customer.id, hall)
    with ctx():
        booking = db.session.get(Booking, booking_id)
        services.transition(booking, "approve", db.session.get(User, staff.id))
        data = services.booking_input(booking)
        data.catering = [services.CateringInput(banquet, 5)]
        data.rate_kind = "free"  # ignored for clients: the booking's own rate stays
        services.change_booking(db.session.get(User, customer.id), booking, data)
        assert booking.status == BookingStatus.REQUESTED and booking.approved_quote is None
        assert booking.rate_kind == "external"
        assert booking.quote_total_fen == 300_000 + 5 * 188_800


def test_client_cannot_change_after_the_cutoff_or_others_bookings(app, login_as):
    hall = make_venue(app)
    me = login_as("client")
    soon = make_booking(app, me.account.id, hall, day=future_day(1), session="evening")
    page = me.get(f"/venues/bookings/{soon}/edit", follow_redirects=True)
    assert "不能在线修改" in page.get_data(as_text=True)
    other = make_booking(app, make_user(app, "client").id, hall, day=future_day(20))
    assert me.get(f"/venues/bookings/{other}/edit").status_code == 404


def _series(app, venue_id, **extra):
    return services.SeriesInput(
        title="区政府常务会议", department="区政府办公室", venue_id=venue_id, weekday=2,
        # 35 days: every weekday occurs exactly five times, whatever today is
        start=time(9), end=time(11), first_day=future_day(1), last_day=future_day(35),
        headcount=20, layout="theatre", **extra)


def test_weekly_series_books_every_date_and_reports_taken_ones(app, ctx):
    hall = make_venue(app)
    staff = make_user(app, "staff")
    customer = make_user(app, "client")
    with ctx():
        data = _series(app, hall)
        days = services.series_dates(data)
        assert len(days) == 5 and all(day.weekday() == 2 for day in days)
    make_booking(app, customer.id, hall, day=days[2])  # one Wednesday morning is taken
    with ctx():
        user = db.session.get(User, staff.id)
        with pytest.raises(services.SeriesConflict) as refused:
            services.create_series(user, _series(app, hall))
        assert refused.value.days == [days[2]]
        series = services.create_series(user, _series(app, hall, skip_conflicts=True))
        assert [b.status for b in series.bookings] == [BookingStatus.APPROVED] * 4
        assert all(b.department == "区政府办公室" and b.rate_kind == "internal"
                   for b in series.bookings)
        series_id = series.id
        # Exceptions: skip one date, move another; the rest are untouched.
        first, second = series.bookings[0], series.bookings[1]
        services.transition(first, "cancel", user, reason="节假日")
        data = services.booking_input(second)
        data.slots = [services.SlotInput(hall, days[1] + timedelta(days=1), "custom", time(14),
                                         time(16))]
        services.change_booking(user, second, data)
    with app.app_context():
        bookings = db.session.scalars(sa.select(Booking).where(
            Booking.series_id == series_id).order_by(Booking.id)).all()
        assert [b.status for b in bookings] == ["cancelled"] + ["approved"] * 3
        assert bookings[1].slots[0].starts_at.astimezone(ZoneInfo(
            "Asia/Shanghai")).date() == days[1] + timedelta(days=1)


def test_series_pages_and_bad_input(app, login_as):
    hall = make_venue(app)
    staff = login_as("staff")
    fields = {"title": "周例会", "department": "区财政局", "venue_id": str(hall), "weekday": "0",
              "start": "09:00", "end": "10:00", "first_day": future_day(1).isoformat(),
              "last_day": future_day(30).isoformat(), "headcount": "12", "layout": "theatre",
              "rate_kind": "free"}
    backwards = staff.post("/venues/series/new", data=form_data(
        staff, "/venues/series/new", **{**fields, "last_day": future_day(0).isoformat()}))
    assert backwards.status_code == 422
    assert 'id="last_day-error"' in backwards.get_data(as_text=True)
    created = staff.post("/venues/series/new", data=form_data(staff, "/venues/series/new",
                                                              **fields))
    assert created.status_code == 303
    page = staff.get(created.headers["Location"]).get_data(as_text=True)
    assert "周例会" in page and page.count("已确认") >= 4
    assert login_as("client").get("/venues/series/new").status_code == 403


def test_run_sheet_and_catering_summary(app, login_as):
    hall = make_venue(app, name="大礼堂")
    banquet = make_catering(app)
    meal = make_catering(app, kind="meal", name="工作餐 50元/人", price=5000)
    customer = make_user(app, "client", organisation="金山精细化工研究会")
    day = future_day(6)
    with app.test_request_context():
        services.request_booking(db.session.get(User, customer.id), services.BookingInput(
            title="理事会", headcount=60, layout="theatre", equipment=["projector"],
            slots=[services.SlotInput(hall, day, "morning", time(8, 30), time(12))],
            catering=[services.CateringInput(banquet, 6), services.CateringInput(meal, 60, 2)]))
    staff = login_as("staff")
    sheet = staff.get("/venues/runsheet", query_string={"date": day.isoformat()})
    html = sheet.get_data(as_text=True)
    assert "理事会" in html and "金山精细化工研究会" in html and "投影仪" in html
    assert "08:00" in html  # the setup starts with the buffer
    summary = staff.get("/venues/catering", query_string={"date": day.isoformat()})
    html = summary.get_data(as_text=True)
    assert ">120<" in html and ">6<" in html  # 60 people x 2 meals, 6 tables
    empty = staff.get("/venues/catering", query_string={"date": future_day(7).isoformat()})
    assert "当天没有餐饮" in empty.get_data(as_text=True)
