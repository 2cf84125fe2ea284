"""Bookings through HTTP: browsing, the form with its live quote, the queue, access rules."""

import logging

import sqlalchemy as sa

from portal.bookings.models import Booking, BookingStatus
from portal.extensions import db
from tests.bookings.factories import future_day, make_booking, make_catering, make_venue
from tests.conftest import make_user
from tests.helpers import form_data


def _form(venue_id, day=None, **fields):
    data = {
        "title": "行业协会理事会", "headcount": "80", "layout": "theatre",
        "slots-0-venue_id": str(venue_id), "slots-0-day": (day or future_day()).isoformat(),
        "slots-0-session": "morning", "slots-0-start": "", "slots-0-end": "",
        "meal_option": "0", "meals": "0", "tea_option": "0", "tea_breaks": "0",
        "banquet_option": "0", "banquet_tables": "0", "contact_phone": "", "notes": "",
    }
    data.update(fields)
    return data


def _bookings(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Booking))


def test_anyone_browses_venues_and_calendars(app, client):
    venue_id = make_venue(app, name="大礼堂")
    hidden = make_venue(app, name="贵宾接待室", public=False)
    html = client.get("/venues/").get_data(as_text=True)
    assert "大礼堂" in html and "贵宾接待室" not in html
    assert client.get(f"/venues/{hidden}").status_code == 404
    make_booking(app, make_user(app, "client").id, venue_id, day=future_day(3))
    for view in ("day", "week", "month"):
        page = client.get(f"/venues/{venue_id}", query_string={
            "view": view, "date": future_day(3).isoformat()})
        assert page.status_code == 200
        assert "已保留（待审批）" in page.get_data(as_text=True)  # no client details shown
    partial = client.get(f"/venues/{venue_id}?view=week", headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="calendar"') and "<html" not in body


def test_free_venue_search_page(app, client):
    make_venue(app, name="大礼堂", theatre=480)
    make_venue(app, name="第二会议室", theatre=60)
    response = client.get("/venues/", query_string={
        "day": future_day().isoformat(), "session": "morning", "headcount": "50",
        "layout": "theatre"}, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert "共有 2 个会场空闲" in body
    assert body.index("第二会议室") < body.index("大礼堂")  # best fit first
    bad = client.get("/venues/", query_string={"day": future_day().isoformat(),
                                               "session": "custom", "start": "11:00",
                                               "end": "10:00"})
    assert "结束时间必须晚于开始时间" in bad.get_data(as_text=True)


def test_client_requests_two_rooms_with_a_banquet(app, login_as):
    hall = make_venue(app, name="大礼堂")
    room = make_venue(app, name="第一会议室", theatre=40)
    banquet = make_catering(app)
    me = login_as("client")
    fields = _form(hall, **{
        "slots-1-venue_id": str(room), "slots-1-day": future_day().isoformat(),
        "slots-1-session": "afternoon", "slots-1-start": "", "slots-1-end": "",
        "headcount": "30", "banquet_option": str(banquet), "banquet_tables": "3"})
    quote = me.post("/venues/quote", data=form_data(me, "/venues/book", **fields),
                    headers={"HX-Request": "true"})
    assert "¥3,000.00" in quote.get_data(as_text=True)  # the hall's half day
    total = 300_000 + 300_000 + 3 * 188_800
    assert f"¥{total / 100:,.2f}" in quote.get_data(as_text=True)
    response = me.post("/venues/book", data=form_data(me, "/venues/book", **fields))
    assert response.status_code == 303
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking))
        assert booking.client_id == me.account.id and len(booking.slots) == 2
        assert booking.quote_total_fen == total
    detail = me.get(response.headers["Location"]).get_data(as_text=True)
    assert "待审批" in detail and "宴席 1888元/桌 × 3" in detail


def test_form_errors_beside_fields_and_nothing_saved(app, login_as):
    venue_id = make_venue(app, theatre=50)
    me = login_as("client")
    response = me.post("/venues/book", data=form_data(me, "/venues/book", **_form(
        venue_id, headcount="80")))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="headcount-error"' in html and "最多容纳 50 人" in html
    missing = me.post("/venues/book", data=form_data(me, "/venues/book", **_form(
        venue_id, title="", headcount="")))
    assert 'id="title-error"' in missing.get_data(as_text=True)
    assert 'id="headcount-error"' in missing.get_data(as_text=True)
    assert _bookings(app) == 0


def test_fields_a_client_may_not_set_are_refused(app, login_as):
    venue_id = make_venue(app)
    me = login_as("client")
    response = me.post("/venues/book", data=form_data(me, "/venues/book", **_form(
        venue_id, rate_kind="free", quote_total_fen="1")))
    assert response.status_code == 422
    assert "只能由工作人员设置" in response.get_data(as_text=True)
    assert _bookings(app) == 0


def test_conflict_is_explained_with_alternatives(app, login_as):
    venue_id = make_venue(app, name="大礼堂")
    make_venue(app, name="多功能厅", theatre=150)
    make_booking(app, make_user(app, "client").id, venue_id)
    me = login_as("client")
    response = me.post("/venues/book", data=form_data(me, "/venues/book", **_form(venue_id)))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "所选时段会场已被占用" in html and "已被预订" in html
    assert "该时段空闲的会场" in html and "多功能厅" in html
    assert "大礼堂空闲时段" in html


def test_another_clients_booking_is_404_and_logged(app, login_as, caplog):
    venue_id = make_venue(app)
    owner = make_user(app, "client")
    booking_id = make_booking(app, owner.id, venue_id)
    stranger = login_as("client")
    caplog.set_level(logging.WARNING, logger="portal.security")
    assert stranger.get(f"/venues/bookings/{booking_id}").status_code == 404
    cancel = stranger.post(f"/venues/bookings/{booking_id}/cancel",
                           data=form_data(stranger, "/venues/book"))
    assert cancel.status_code == 404
    assert any("not visible" in record.message for record in caplog.records)
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == BookingStatus.REQUESTED


def test_staff_queue_filters_and_bulk_approval(app, login_as):
    hall = make_venue(app, name="大礼堂")
    room = make_venue(app, name="第一会议室")
    customer = make_user(app, "client", name="赵磊", organisation="金山精细化工研究会")
    first = make_booking(app, customer.id, hall)
    second = make_booking(app, customer.id, room, day=future_day(12))
    staff = login_as("staff")
    page = staff.get("/venues/queue").get_data(as_text=True)
    assert f"HY{first:06d}" in page and f"HY{second:06d}" in page
    only_room = staff.get("/venues/queue", query_string={"venue_id": room},
                          headers={"HX-Request": "true"}).get_data(as_text=True)
    assert f"HY{second:06d}" in only_room and f"HY{first:06d}" not in only_room
    by_client = staff.get("/venues/queue", query_string={"client": "精细化工"}).get_data(
        as_text=True)
    assert f"HY{first:06d}" in by_client
    by_day = staff.get("/venues/queue", query_string={"day": future_day(12).isoformat()})
    assert f"HY{first:06d}" not in by_day.get_data(as_text=True)
    response = staff.post("/venues/queue/approve", data={
        **form_data(staff, "/venues/queue"), "booking_id": [str(first), str(second)]})
    assert response.status_code == 303
    with app.app_context():
        statuses = {b.status for b in db.session.scalars(sa.select(Booking))}
    assert statuses == {BookingStatus.APPROVED}


def test_client_sees_the_approval_and_cancels_in_time(app, login_as):
    venue_id = make_venue(app)
    me = login_as("client")
    booking_id = make_booking(app, me.account.id, venue_id, day=future_day(10))
    staff = login_as("staff")
    path = f"/venues/bookings/{booking_id}"
    approved = staff.post(f"{path}/approve", data=form_data(
        staff, path, deposit_yuan="1000", deposit_due_on=future_day(3).isoformat()))
    assert approved.status_code == 303
    page = me.get(path).get_data(as_text=True)
    assert "已确认" in page and "¥1,000.00" in page
    mine = me.get("/venues/bookings/mine").get_data(as_text=True)
    assert f"HY{booking_id:06d}" in mine
    cancelled = me.post(f"{path}/cancel", data=form_data(me, path, reason="会议改期"))
    assert cancelled.status_code == 303
    assert "已取消" in me.get(path).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Booking, booking_id).reason == "会议改期"


def test_staff_create_a_blackout_and_the_calendar_shows_it(app, login_as):
    venue_id = make_venue(app)
    staff = login_as("staff")
    day = future_day(15)
    response = staff.post("/venues/blackouts", data=form_data(
        staff, "/venues/blackouts", venue_id="0", starts_on=day.isoformat(),
        ends_on=day.isoformat(), reason="区人代会"))
    assert response.status_code == 303
    calendar = staff.get(f"/venues/{venue_id}", query_string={"view": "day",
                                                              "date": day.isoformat()})
    assert "区人代会" in calendar.get_data(as_text=True)
    backwards = staff.post("/venues/blackouts", data=form_data(
        staff, "/venues/blackouts", venue_id="0", starts_on=day.isoformat(),
        ends_on=future_day(14).isoformat(), reason="倒序"))
    assert backwards.status_code == 422
    assert 'id="ends_on-error"' in backwards.get_data(as_text=True)


def test_pages_run_a_fixed_number_of_queries(app, login_as, count_queries):
    hall = make_venue(app, name="大礼堂")
    customer = login_as("client")
    staff = login_as("staff")
    pages = [
        (staff, f"/venues/{hall}?view=week&date={future_day().isoformat()}"),
        (staff, "/venues/queue?status=all"),
        (customer, "/venues/bookings/mine"),
        (customer, f"/venues/?day={future_day().isoformat()}&session=evening&headcount=5"),
        (customer, f"/venues/overview?month={future_day(3).strftime('%Y-%m')}"),
    ]

    def counts():
        result = []
        for who, path in pages:
            with count_queries() as queries:
                assert who.get(path).status_code == 200
            result.append(len(queries))
        return result

    make_booking(app, customer.account.id, hall)
    few = counts()
    for offset in range(1, 8):
        room = make_venue(app, name=f"会议室{offset}")
        for session in ("morning", "evening"):  # afternoon + evening overlap by the buffers
            make_booking(app, customer.account.id, room, session=session)
        make_booking(app, customer.account.id, hall, day=future_day(offset + 1),
                     session="evening")
    many = counts()
    assert many == few


def test_month_overview_counts_booked_periods(app, client):
    hall = make_venue(app, name="大礼堂")
    make_venue(app, name="贵宾接待室", public=False)
    customer = make_user(app, "client")
    day = future_day(4)
    make_booking(app, customer.id, hall, day=day)
    make_booking(app, customer.id, hall, day=day, session="evening")
    page = client.get("/venues/overview", query_string={"month": day.strftime("%Y-%m")})
    html = page.get_data(as_text=True)
    assert "大礼堂" in html and "贵宾接待室" not in html
    assert f"date={day.isoformat()}\" title=\"2" in html
    partial = client.get("/venues/overview", query_string={"month": "2026-01"},
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert partial.lstrip().startswith('<section id="grid"')


def test_inline_approval_in_the_queue_swaps_the_row(app, login_as):
    hall = make_venue(app)
    booking_id = make_booking(app, make_user(app, "client").id, hall)
    staff = login_as("staff")
    path = f"/venues/bookings/{booking_id}/approve"
    response = staff.post(path, data=form_data(staff, "/venues/queue", back="queue"),
                          headers={"HX-Request": "true"})
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert row.lstrip().startswith(f'<tr id="booking-{booking_id}"') and "已确认" in row
    assert "bookingChanged" in response.headers["HX-Trigger"]
    again = staff.post(path, data=form_data(staff, "/venues/queue", back="queue"),
                       headers={"HX-Request": "true"})
    assert again.status_code == 409
    assert "该预订刚刚被" in again.get_data(as_text=True)


def _status(app, booking_id):
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        return booking.status, booking.deposit_due_on


def test_no_show_and_held_only_once_the_event_has_begun(app, login_as):
    from tests.bookings.factories import has_begun
    from tests.helpers import outbox_for

    customer = make_user(app, "client")
    booking_id = make_booking(app, customer.id, make_venue(app), day=future_day(2))
    staff = login_as("staff")
    page = f"/venues/bookings/{booking_id}"
    staff.post(f"{page}/approve", data=form_data(staff, page, expected_status="requested"))
    assert _status(app, booking_id)[0] == BookingStatus.APPROVED
    mails = len(outbox_for(app, customer.email))
    html = staff.get(page).get_data(as_text=True)
    assert "/no_show" not in html and "/complete" not in html  # not offered yet
    for action in ("no_show", "complete"):
        response = staff.post(f"{page}/{action}",
                              data=form_data(staff, page, expected_status="approved"))
        assert response.status_code == 409
        assert "活动尚未开始" in response.get_data(as_text=True)
        assert _status(app, booking_id)[0] == BookingStatus.APPROVED
    assert len(outbox_for(app, customer.email)) == mails  # nothing mailed
    with app.test_request_context():
        has_begun(db.session.get(Booking, booking_id))
    assert "/no_show" in staff.get(page).get_data(as_text=True)
    response = staff.post(f"{page}/no_show", data=form_data(staff, page,
                                                            expected_status="approved"))
    assert response.status_code == 303
    assert _status(app, booking_id)[0] == BookingStatus.NO_SHOW


def test_deposit_due_before_the_approval_day_is_refused_beside_the_field(app, login_as):
    from datetime import timedelta

    from tests.helpers import bureau_today, outbox_for

    customer = make_user(app, "client")
    booking_id = make_booking(app, customer.id, make_venue(app), day=future_day(20))
    staff = login_as("staff")
    page = f"/venues/bookings/{booking_id}"
    mails = len(outbox_for(app, customer.email))
    yesterday = bureau_today(app) - timedelta(days=1)
    response = staff.post(f"{page}/approve", data=form_data(
        staff, page, expected_status="requested", deposit_yuan="2000",
        deposit_due_on=yesterday.isoformat()))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="approve-deposit_due_on-error"' in html and "定金缴纳期限不能早于批准日" in html
    assert _status(app, booking_id) == (BookingStatus.REQUESTED, None)
    assert len(outbox_for(app, customer.email)) == mails
    # Left empty, the deposit falls due a week after approval (BOOKING_DEPOSIT_DUE_DAYS).
    response = staff.post(f"{page}/approve", data=form_data(
        staff, page, expected_status="requested", deposit_yuan="2000", deposit_due_on=""))
    assert response.status_code == 303
    assert _status(app, booking_id) == (BookingStatus.APPROVED,
                                        bureau_today(app) + timedelta(days=7))


def test_a_step_on_a_booking_that_moved_on_names_who_moved_it(app, login_as):
    booking_id = make_booking(app, make_user(app, "client").id, make_venue(app))
    first = login_as("staff", name="张晓明")
    second = login_as("staff")
    page = f"/venues/bookings/{booking_id}"
    stale = form_data(second, page, expected_status="requested", reason="已满")
    first.post(f"{page}/approve", data=form_data(first, page, expected_status="requested"))
    response = second.post(f"{page}/reject", data=stale)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "该预订刚刚被张晓明改为“已确认”" in html
    assert _status(app, booking_id)[0] == BookingStatus.APPROVED
