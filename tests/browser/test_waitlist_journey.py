"""The waitlist in a real browser: a client (on a phone) joins the waitlist of a taken
morning from the venue's day view; staff cancel the holder's request; the client finds the
offer in the inbox (and the mail in the outbox) and takes it."""

import re
from functools import partial

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from portal.extensions import db
from portal.outbox.models import OutboxMessage
from tests.bookings.factories import future_day, make_booking, make_venue
from tests.browser.conftest import PHONE, log_in
from tests.conftest import make_user

pytestmark = pytest.mark.browser

_login = partial(log_in, lang="zh")


def _open_menu(page):
    menu = page.locator("details.menu")
    if menu.count() and menu.get_attribute("open") is None:
        page.locator("details.menu > summary").click()


def test_a_client_waits_for_a_taken_slot_and_takes_the_offer(live_server, new_context,
                                                               problems):
    app, base = live_server.app, live_server.url
    room = make_venue(app, name="第二会议室", theatre=60)
    holder = make_user(app, "client", name="钱多多", email="holder@example.com")
    waiting = make_user(app, "client", name="赵磊", email="zhaolei@example.com")
    staff = make_user(app, "staff", name="王海燕")
    day = future_day(9)
    booking_id = make_booking(app, holder.id, room, day=day, session="morning")

    # 1. On a phone, the client sees the morning taken and joins its waitlist.
    phone = new_context(viewport=PHONE).new_page()
    _login(phone, base, waiting)
    phone.goto(f"{base}/venues/{room}?view=day&date={day.isoformat()}")
    phone.get_by_role("link", name="登记候补").first.click()
    phone.wait_for_url(re.compile(r"/venues/waitlist/join\?"))
    expect(phone.locator("#venue_id")).to_have_value(str(room))
    expect(phone.locator("#day")).to_have_value(day.isoformat())
    phone.fill("#headcount", "20")
    phone.fill("#title", "季度工作会")
    phone.locator("#waitlist-form").get_by_role("button", name="登记候补").click()
    phone.wait_for_url(f"{base}/venues/waitlist")
    expect(phone.locator("main")).to_contain_text("第 1 位")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # 2. Staff cancel the holder's request.
    desk = new_context().new_page()
    _login(desk, base, staff)
    desk.goto(f"{base}/venues/{room}/waitlist")
    expect(desk.locator("main")).to_contain_text("赵磊")
    desk.goto(f"{base}/venues/bookings/{booking_id}")
    cancel = desk.locator("form.action-form", has=desk.get_by_role("button", name="取消"))
    cancel.locator("textarea[name=reason]").fill("主办方改期")
    cancel.get_by_role("button", name="取消").click()
    expect(desk.locator(".badge").first).to_contain_text("已取消")

    # 3. The offer: one mail in the outbox, and a notification in the client's inbox.
    with app.app_context():
        mails = db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.recipient == waiting.email,
            OutboxMessage.template == "waitlist_offer")).all()
        assert len(mails) == 1 and "第二会议室" in mails[0].subject
        db.session.remove()
    phone.goto(f"{base}/inbox/")
    expect(phone.locator("main")).to_contain_text("您候补的时段已为您保留")
    phone.goto(f"{base}/venues/waitlist")
    expect(phone.locator("main")).to_contain_text("已为您保留")
    phone.get_by_role("link", name="查看保留").click()
    expect(phone.locator("#waitlist-offer")).to_be_visible()

    # 4. The client takes it: an ordinary request, held for staff to decide.
    phone.get_by_role("button", name="接受保留").click()
    expect(phone.locator(".badge").first).to_contain_text("待审批")
    phone.goto(f"{base}/venues/waitlist")
    expect(phone.locator("main")).to_contain_text("已转为预订")
    problems.assert_clean()
