"""The venue grid in a real browser: staff book a free afternoon cell of 第二会议室 from today's
grid, then check a booking in from the grid on a phone."""

import re
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from portal.auth.models import User
from portal.bookings import services
from portal.bookings.models import Booking
from portal.extensions import db
from tests.bookings.factories import (
    future_day,
    has_begun,
    make_booking,
    make_venue,
    this_mornings_opening,
)
from tests.browser.conftest import PHONE, log_in
from tests.conftest import make_user, request_context

pytestmark = pytest.mark.browser

_login = partial(log_in, lang="zh")


def test_staff_book_a_free_cell_and_check_in_from_the_grid(live_server, new_context,
                                                           problems):
    app, base = live_server.app, live_server.url
    room = make_venue(app, name="第二会议室", theatre=60)
    make_venue(app, name="大礼堂", theatre=300)
    staff_account = make_user(app, "staff", name="王海燕")
    # A booking of the hall that began at eight this morning (before nine, Beijing time:
    # yesterday morning), to be checked in on the phone from its day's grid, whatever the
    # hour the test runs at: "an hour ago" fell outside the opening hours late at night.
    hall = make_venue(app, name="多功能厅", theatre=200)
    arriving = make_booking(app, make_user(app, "client").id, hall, day=future_day(2),
                            headcount=80)
    began = this_mornings_opening()
    began_on = began.date()
    with request_context(app, staff_account.id):
        services.transition(db.session.get(Booking, arriving), "approve",
                            db.session.get(User, staff_account.id), notify=False)
        has_begun(db.session.get(Booking, arriving), at=began)
    reference = Booking.reference_of(arriving)

    page = new_context().new_page()
    _login(page, base, staff_account)

    # 1. Today's grid; after one o'clock the afternoon of today has begun: the next day
    # (htmx swaps the grid only).
    page.goto(f"{base}/venues/grid")
    expect(page.locator("h1")).to_have_text("场地总表")
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    if datetime.now(ZoneInfo("Asia/Shanghai")).hour >= 13:
        page.locator("#grid nav a[rel=next]").first.click()
        day = future_day(1)
        expect(page.locator("#grid input[name=date]")).to_have_value(day.isoformat())
    row = page.locator("#grid tbody tr", has_text="第二会议室")
    cell = row.locator(f"td.c-free a[href*='venue_id={room}&day={day.isoformat()}"
                       "&start=14:00']")
    cell.click()
    page.wait_for_url(re.compile(r"/venues/book\?"))

    # 2. The form arrives with the room, the day and the half hour.
    expect(page.locator("#slots-0-venue_id")).to_have_value(str(room))
    expect(page.locator("#slots-0-day")).to_have_value(day.isoformat())
    expect(page.locator("#slots-0-session")).to_have_value("custom")
    expect(page.locator("#slots-0-start")).to_have_value("14:00")
    expect(page.locator("#slots-0-end")).to_have_value("14:30")
    page.fill("#title", "党组理论学习")
    page.fill("#headcount", "20")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/venues/bookings/\d+$"))
    expect(page.locator("h1")).to_contain_text("党组理论学习")

    # 3. The grid shows it as a block of that half hour.
    page.goto(f"{base}/venues/grid?date={day.isoformat()}")
    expect(page.locator("#grid tbody tr", has_text="第二会议室")
           .locator("td.c-booked")).to_contain_text("党组理论学习")

    # 4. On a phone: the grid scrolls inside its region, the venue column stays; check in.
    phone = new_context(viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    _login(phone, base, staff_account)
    phone.goto(f"{base}/venues/grid?date={began_on.isoformat()}")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    block = phone.locator("#grid tbody tr", has_text="多功能厅").locator("td.c-booked")
    expect(block).to_contain_text(reference)
    block.get_by_role("link", name="签到").click()
    phone.wait_for_url(re.compile(r"/check-in\?"))
    phone.fill("#arrived_headcount", "76")
    phone.fill("#arrival_extras", "加10份茶歇")
    phone.get_by_role("button", name="签到").click()
    phone.wait_for_url(re.compile(r"/venues/grid"))
    expect(phone.locator("#messages")).to_contain_text("已签到")
    expect(phone.locator("#grid tbody tr", has_text="多功能厅")
           .locator("td.c-booked")).to_contain_text("已到场")
    phone.goto(f"{base}/venues/bookings/{arriving}")
    expect(phone.locator("main")).to_contain_text("实到 76 人")
    problems.assert_clean()
