"""The day and week grid of all venues, its links to the booking form, and check-in."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import url_for
from markupsafe import escape

from portal.bookings import grid, services
from portal.bookings.models import Booking, BookingStatus, Venue
from portal.database import write_transaction
from portal.extensions import db
from tests.bookings.factories import (
    future_day,
    has_begun,
    make_booking,
    make_venue,
    this_mornings_opening,
)
from tests.conftest import make_user, request_context

ZONE = ZoneInfo("Asia/Shanghai")


def _grid(client, **args):
    response = client.get("/venues/grid", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _approve(app, booking_id, staff_id):
    from portal.auth.models import User

    with request_context(app, staff_id):
        services.transition(db.session.get(Booking, booking_id), "approve",
                            db.session.get(User, staff_id), notify=False)


def test_the_day_grid_shows_blocks_buffers_and_free_cells_per_viewer(app, client, login_as):
    hall = make_venue(app, name="大礼堂")
    hidden = make_venue(app, name="贵宾接待室", public=False)
    day = future_day(3)
    owner = login_as("client")
    booking_id = make_booking(app, owner.account.id, hall, day=day, session="afternoon")
    public = _grid(client, date=day.isoformat())
    assert "大礼堂" in public and "贵宾接待室" not in public
    assert "已预订" in public and "测试会议" not in public
    # 13:30-17:30 is eight half hours in one block, the buffers either side shaded apart.
    assert '<td class="c-booked" colspan="8">' in public
    assert '<td class="c-buffer" title=' in public
    assert (f'href="/venues/book?venue_id={hall}&amp;day={day.isoformat()}'
            '&amp;start=09:00&amp;end=09:30"') in public
    # The client sees their own booking; staff see every booking with its status.
    mine = _grid(owner, date=day.isoformat())
    assert Booking.reference_of(booking_id) in mine and "测试会议" in mine
    other = login_as("client")
    assert "测试会议" not in _grid(other, date=day.isoformat())
    staff = login_as("staff")
    html = _grid(staff, date=day.isoformat())
    assert "贵宾接待室" in html and Booking.reference_of(booking_id) in html
    assert "status-requested" in html and "测试会议" in html
    assert hidden


def test_blackouts_are_shaded_and_the_week_shows_sessions(app, client):
    hall = make_venue(app, name="大礼堂")
    day = future_day(5)
    with app.test_request_context():
        zone = services.local_zone()
        services.create_blackout(hall, datetime.combine(day, time(18, 0), tzinfo=zone),
                                 datetime.combine(day, time(22, 0), tzinfo=zone), "设备检修")
    html = _grid(client, date=day.isoformat())
    assert 'class="c-blackout" colspan="8">不开放' in html
    assert "设备检修" not in html  # the reason is for staff
    # A blackout that began days before still closes the day.
    other = make_venue(app, name="小会议室")
    with app.test_request_context():
        zone = services.local_zone()
        services.create_blackout(other, datetime.combine(day - timedelta(days=4), time(0),
                                                         tzinfo=zone),
                                 datetime.combine(day + timedelta(days=1), time(0),
                                                  tzinfo=zone), "装修")
    closed = _grid(client, date=day.isoformat(), venue="x")
    assert closed.count('class="c-blackout"') == 2
    week = _grid(client, date=day.isoformat(), view="week")
    assert week.count('class="session"') == 21
    monday = day - timedelta(days=day.weekday())
    target = monday if monday > future_day(0) else day
    assert (f"venue_id={hall}&amp;day={target.isoformat()}&amp;session=afternoon"
            in week)


def test_the_cells_escape_what_people_typed(app, client, login_as):
    """The cells are written in Python (portal/bookings/grid.py): a venue's name, a booking's
    title and a blackout's reason are escaped there as the template would."""
    hall = make_venue(app, name='<i>"大礼堂"</i>')
    day = future_day(3)
    booking_id = make_booking(app, make_user(app, "client").id, hall, day=day,
                              session="afternoon")
    with app.test_request_context(), write_transaction():
        db.session.get(Booking, booking_id).title = "<script>alert('x')</script> & 会议"
    with app.test_request_context():
        zone = services.local_zone()
        services.create_blackout(hall, datetime.combine(day, time(18, 0), tzinfo=zone),
                                 datetime.combine(day, time(22, 0), tzinfo=zone),
                                 '<b onclick="x()">检修</b>')
    staff = _grid(login_as("staff"), date=day.isoformat())
    assert "<script>" not in staff and "<b onclick" not in staff and "<i>" not in staff
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; 会议" in staff
    assert 'class="c-blackout" colspan="8">不开放: &lt;b onclick=&#34;x()&#34;&gt;检修' in staff
    assert "&lt;i&gt;&#34;大礼堂&#34;&lt;/i&gt; " + day.isoformat() + " 09:00</span>" in staff
    public = _grid(client, date=day.isoformat())
    assert "alert" not in public and "检修" not in public  # the title and reason are staff's


def test_the_cells_follow_the_language(app, client):
    """The cells' labels are kept once per language: each request gets its own."""
    make_venue(app)
    day = future_day(3).isoformat()
    assert "预订此时段：" in _grid(client, date=day)
    english = _grid(client, date=day, lang="en")
    assert "Book this slot:" in english and "预订此时段" not in english
    assert "预订此时段：" in _grid(client, date=day, lang="zh")


def test_bad_dates_show_today_with_a_message(app, client):
    make_venue(app)
    for text in ("2026-13-45", "yesterday"):
        html = _grid(client, date=text)
        assert "今天的" in html or "today" in html
        assert future_day(0).isoformat() in html
    far = (future_day(0) + timedelta(days=app.config["BOOKING_HORIZON_DAYS"] + 1)).isoformat()
    html = _grid(client, date=far)
    assert 'class="alert warning"' in html and f'value="{future_day(0).isoformat()}"' in html


def test_filters_by_building_capacity_layout_and_equipment(app, client):
    make_venue(app, name="大礼堂", theatre=300, equipment=("projector", "sound"))
    make_venue(app, name="小会议室", theatre=20, equipment=("projector",))
    with app.test_request_context(), write_transaction():
        db.session.scalar(sa.select(Venue).where(Venue.name == "小会议室")).building = "行政中心A座"
    assert "小会议室" not in _grid(client, capacity=100)
    assert "大礼堂" not in _grid(client, building="行政中心A座")
    html = _grid(client, equipment=["sound"])
    assert "大礼堂" in html and "小会议室" not in html
    html = _grid(client, layout="banquet")
    assert "大礼堂" not in html and "没有符合条件的会场" in html


def test_the_grid_links_keep_the_filters_as_url_for_writes_them(app, client):
    """The grid's own addresses (days, views, pages) come from one url_for and string
    formatting (grid.GridLink): the same addresses, the filters kept."""
    for n in range(grid.GRID_PAGE + 1):
        make_venue(app, code=f"G{n:03d}", name=f"会议室{n:03d}", equipment=("projector", "sound"))
    day = future_day(2)
    filters = {"building": "会议中心", "capacity": 100, "equipment": ["projector", "sound"]}
    html = _grid(client, date=day.isoformat(), view="week", **filters)
    with app.test_request_context():
        addresses = [url_for("bookings.grid_page", date=day, view="day", **filters),
                     url_for("bookings.grid_page", date=day, view="week", page=2, **filters)]
    for address in addresses:
        assert f'href="{escape(address)}"' in html


def test_htmx_navigation_swaps_only_the_grid(app, client):
    make_venue(app)
    partial = client.get("/venues/grid", query_string={"date": future_day(1).isoformat()},
                         headers={"HX-Request": "true"}).get_data(as_text=True)
    assert partial.lstrip().startswith('<section id="grid"')
    assert "<html" not in partial


def test_the_booking_form_is_prefilled_from_a_cell(app, login_as):
    hall = make_venue(app)
    day = future_day(4)
    customer = login_as("client")
    html = customer.get("/venues/book", query_string={
        "venue_id": hall, "day": day.isoformat(), "start": "14:00", "end": "16:00"}
    ).get_data(as_text=True)
    assert f'<option selected value="{hall}">' in html
    assert f'value="{day.isoformat()}"' in html
    assert 'value="14:00"' in html and 'value="16:00"' in html
    assert '<option selected value="custom">' in html
    session = customer.get("/venues/book", query_string={
        "venue_id": hall, "day": day.isoformat(), "start": "13:30", "end": "17:30"}
    ).get_data(as_text=True)
    assert '<option selected value="afternoon">' in session


def test_the_grid_runs_a_fixed_number_of_queries(app, login_as, count_queries):
    staff = login_as("staff")
    customer = make_user(app, "client")
    day = future_day(2)

    def count(view):
        with count_queries() as queries:
            assert staff.get("/venues/grid", query_string={
                "date": day.isoformat(), "view": view}).status_code == 200
        return len(queries)

    make_booking(app, customer.id, make_venue(app, name="会议室0"), day=day)
    few = (count("day"), count("week"))
    for n in range(1, 8):
        room = make_venue(app, name=f"会议室{n}")
        make_booking(app, customer.id, room, day=day)
        make_booking(app, customer.id, room, day=day + timedelta(days=1), session="evening")
    assert (count("day"), count("week")) == few


def test_the_grid_reads_its_venues_and_slots_with_generic_plans(app, login_as, count_queries,
                                                                is_postgres):
    """The grid's two statements are the same range look-ups for every day, page and filter:
    on PostgreSQL they run between two plan switches (database.generic_plans), so they are
    not planned again on every request; the user's own row is read before, as on any page."""
    staff = login_as("staff")
    make_booking(app, make_user(app, "client").id, make_venue(app, name="会议室"),
                 day=future_day(2))
    for view in ("day", "week"):
        with count_queries() as queries:
            assert staff.get("/venues/grid", query_string={
                "date": future_day(2).isoformat(), "view": view}).status_code == 200
        shown = ["mode" if "plan_cache_mode" in q else "venues" if "FROM venue " in q
                 else "slots" if "FROM venue_slot" in q else None for q in queries]
        assert [kind for kind in shown if kind] == (
            ["mode", "venues", "slots", "mode"] if is_postgres else ["venues", "slots"])


def test_the_grid_pages_its_venues(app, client):
    for n in range(grid.GRID_PAGE + 2):
        make_venue(app, code=f"G{n:03d}", name=f"会议室{n:03d}")
    html = _grid(client)
    assert "会议室000" in html and f"会议室{grid.GRID_PAGE + 1:03d}" not in html
    assert f"会议室{grid.GRID_PAGE + 1:03d}" in _grid(client, page=2)


# --- check-in -------------------------------------------------------------------------------


@pytest.fixture
def todays_booking(app):
    """An approved booking of a venue that started this morning (on the grid of its day at
    any hour the test runs), and a member of staff."""
    hall = make_venue(app, name="第二会议室")
    staff = make_user(app, "staff")
    booking_id = make_booking(app, make_user(app, "client").id, hall, day=future_day(2))
    _approve(app, booking_id, staff.id)
    with app.test_request_context():
        has_begun(db.session.get(Booking, booking_id), at=this_mornings_opening())
    return booking_id, staff.id


def _check_in(app, booking_id, staff_id, headcount=42, at=None, extras=""):
    """Check in as this member of staff; the booking's (status, headcount, extras, time)."""
    from portal.auth.models import User

    with request_context(app, staff_id):
        booking = services.check_in(db.session.get(Booking, booking_id),
                                    db.session.get(User, staff_id),
                                    services.Arrival(at, headcount, extras))
        return (booking.status, booking.arrived_headcount, booking.arrival_extras,
                booking.arrived_at)


def test_check_in_records_the_arrival_once_and_excludes_a_no_show(app, todays_booking):
    from portal.auth.models import User
    from portal.errors import ServiceError

    booking_id, staff_id = todays_booking
    status, headcount, extras, arrived_at = _check_in(app, booking_id, staff_id,
                                                      extras=" 加10份茶歇 ")
    assert (status, headcount, extras) == (BookingStatus.APPROVED, 42, "加10份茶歇")
    assert arrived_at is not None
    with pytest.raises(ServiceError, match="已"):
        _check_in(app, booking_id, staff_id)
    with request_context(app, staff_id), pytest.raises(ServiceError):
        services.transition(db.session.get(Booking, booking_id), "no_show",
                            db.session.get(User, staff_id), notify=False)
    with request_context(app, staff_id):
        done = services.transition(db.session.get(Booking, booking_id), "complete",
                                   db.session.get(User, staff_id), notify=False)
        assert done.actual_headcount == 42  # the headcount counted at the door


def test_check_in_only_on_or_after_the_day_and_not_in_the_future(app):
    from portal.errors import ServiceError

    hall = make_venue(app)
    staff = make_user(app, "staff")
    booking_id = make_booking(app, make_user(app, "client").id, hall, day=future_day(2))
    _approve(app, booking_id, staff.id)
    with pytest.raises(ServiceError):
        _check_in(app, booking_id, staff.id)
    with app.test_request_context():
        has_begun(db.session.get(Booking, booking_id))
    later = (services.utcnow() + timedelta(hours=2)).astimezone(ZONE).time()
    if later > time(2, 0):  # two hours ahead is still today
        with pytest.raises(ServiceError) as error:
            _check_in(app, booking_id, staff.id, at=later)
        assert error.value.field == "arrived_time"
    with pytest.raises(ServiceError) as error:
        _check_in(app, booking_id, staff.id, headcount=-1)
    assert error.value.field == "arrived_headcount"


def test_the_database_refuses_a_negative_or_half_arrival(app, todays_booking):
    booking_id, _staff = todays_booking
    for values in ({"arrived_at": services.utcnow(), "arrived_headcount": -1},
                   {"arrived_headcount": 3},
                   {"arrived_at": services.utcnow(), "arrived_headcount": 3,
                    "status": BookingStatus.NO_SHOW}):
        table = Booking.__table__
        with (app.test_request_context(), pytest.raises(sa.exc.IntegrityError),
              write_transaction()):
            db.session.execute(table.update().where(table.c.id == booking_id).values(**values))
        with app.app_context():
            db.session.rollback()


def test_staff_check_in_from_the_grid_and_the_run_sheet(app, todays_booking, login_as):
    booking_id, _staff = todays_booking
    staff = login_as("staff")
    with app.app_context():
        day = db.session.get(Booking, booking_id).starts_at.astimezone(ZONE).date()
    html = _grid(staff, date=day.isoformat())
    link = f"/venues/bookings/{booking_id}/check-in?next="
    assert link in html
    sheet = staff.get("/venues/runsheet", query_string={"date": day.isoformat()})
    assert link in sheet.get_data(as_text=True)
    page = staff.get(f"/venues/bookings/{booking_id}/check-in")
    assert page.status_code == 200 and 'name="arrived_headcount"' in page.get_data(as_text=True)
    from tests.helpers import form_data

    path = f"/venues/bookings/{booking_id}/check-in"
    bad = staff.post(path, data=form_data(staff, path, arrived_time="08:00",
                                          arrived_headcount="-3", arrival_extras=""))
    assert bad.status_code == 422 and 'id="arrived_headcount-error"' in bad.get_data(as_text=True)
    grid_url = f"/venues/grid?date={day.isoformat()}"
    now = services.utcnow().astimezone(ZONE).strftime("%H:%M")
    done = staff.post(path, data=form_data(staff, path, arrived_time=now,
                                           arrived_headcount="45", arrival_extras="加椅子",
                                           next=grid_url))
    assert done.status_code == 303 and done.headers["Location"].endswith(grid_url)
    after = _grid(staff, date=day.isoformat())
    assert link not in after and "已到场" in after
    detail = staff.get(f"/venues/bookings/{booking_id}").get_data(as_text=True)
    assert "加椅子" in detail and "45" in detail
    assert "到场时间" in detail and "实到人数" in detail  # the audit trail shows the step
    # The generic action route does not take the step without its form.
    assert staff.post(f"/venues/bookings/{booking_id}/check_in",
                      data=form_data(staff, f"/venues/bookings/{booking_id}")).status_code == 404


def test_a_client_cannot_check_in(app, todays_booking, login_as):
    booking_id, _staff = todays_booking
    customer = login_as("client")
    assert customer.get(f"/venues/bookings/{booking_id}/check-in").status_code in (403, 404)
