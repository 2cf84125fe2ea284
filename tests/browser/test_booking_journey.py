"""The booking journey in a real browser: search, request two rooms with a banquet, approve."""

import re
from functools import partial
from pathlib import Path

import pytest
from icalendar import Calendar
from playwright.sync_api import expect

from tests.bookings.factories import future_day, make_catering, make_venue
from tests.browser.conftest import log_in
from tests.conftest import make_user

pytestmark = pytest.mark.browser


_login = partial(log_in, lang="zh")  # these pages are read in Chinese


def test_client_books_two_rooms_with_a_banquet_and_staff_approve(live_server, new_context,
                                                                  problems):
    app, base = live_server.app, live_server.url
    hall = make_venue(app, name="大礼堂", theatre=300)
    room = make_venue(app, name="第一会议室", theatre=40)
    make_catering(app, name="宴席 1888元/桌", price=188_800)
    customer = make_user(app, "client", name="赵磊", organisation="金山精细化工研究会")
    staff_account = make_user(app, "staff", name="王海燕")
    day = future_day(9).isoformat()
    next_day = future_day(10).isoformat()

    page = new_context().new_page()
    _login(page, base, customer)

    # 1. Search free venues: the small room fits best and comes first.
    page.goto(f"{base}/venues/")
    page.fill("input[name=day]", day)
    page.select_option("select[name=session]", "morning")
    page.fill("input[name=headcount]", "30")
    page.select_option("select[name=layout]", "theatre")
    page.locator("#results").page.get_by_role("button", name="搜索").click()
    results = page.locator("#results")
    expect(results).to_contain_text("共有 2 个会场空闲")
    expect(results.locator("h3").first).to_have_text("第一会议室")
    results.get_by_role("link", name="预订此会场").first.click()
    page.wait_for_url(re.compile(r"/venues/book\?"))

    # 2. The form starts with that room, day and session; add the hall, the next afternoon.
    expect(page.locator("#slots-0-venue_id")).to_have_value(str(room))
    page.fill("#title", "理事会年会")
    page.get_by_role("button", name="再添加一个会场或日期").click()
    expect(page.locator("#slots-1-venue_id")).to_be_visible()
    page.select_option("#slots-1-venue_id", str(hall))
    page.select_option("#slots-1-session", "afternoon")
    page.fill("#slots-1-day", next_day)
    page.locator("#slots-1-day").dispatch_event("change")
    total = page.locator("#quote-total")
    expect(total).to_have_text("¥6,000.00")  # two external half days: 3,000 each
    # The catering days follow the slots (htmx, the last change): every day, or either day.
    expect(page.locator("#banquet_day option")).to_have_count(3)

    # 3. Add a banquet of 3 tables on the first day: the quote follows (on the server).
    page.select_option("#banquet_option", label="宴席 1888元/桌 · ¥1,888.00")
    page.fill("#banquet_tables", "3")
    page.select_option("#banquet_day", day)
    expect(total).to_have_text("¥11,664.00")
    expect(page.locator("#quote")).to_contain_text("¥1,888.00 × 3")

    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/venues/bookings/\d+$"))
    expect(page.locator(".page-head .badge")).to_have_text("待审批")
    booking_url = page.url
    reference = page.locator("h1").inner_text().split(" ")[0]

    # 4. Staff approve it from the queue.
    staff = new_context().new_page()
    _login(staff, base, staff_account)
    staff.goto(f"{base}/venues/queue")
    staff.get_by_role("link", name=reference).click()
    staff.fill("input[name=deposit_yuan]", "2000")
    staff.get_by_role("button", name="批准").click()
    expect(staff.locator(".page-head .badge")).to_have_text("已确认")

    # 5. The client sees it approved, with the agreed price and the deposit.
    page.goto(booking_url)
    expect(page.locator(".page-head .badge")).to_have_text("已确认")
    expect(page.locator("main")).to_contain_text("¥11,664.00")
    expect(page.locator("main")).to_contain_text("¥2,000.00")

    # 6. ... and downloads the .ics for their calendar: one event per room, confirmed.
    with page.expect_download() as download:
        page.locator("#calendar-links a[href$='.ics']").click()
    events = Calendar.from_ical(Path(download.value.path()).read_bytes()).walk("VEVENT")
    assert sorted(str(event["LOCATION"]).split("（")[0] for event in events) == [
        "大礼堂", "第一会议室"]
    assert {str(event["STATUS"]) for event in events} == {"CONFIRMED"}
    problems.assert_clean()
