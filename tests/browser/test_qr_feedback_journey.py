"""The public QR channel in a real browser on a phone: a canteen diner opens a canteen hall's
QR URL (no account), reports a dirty tray area with a photo, keeps the follow link, staff
accept and resolve the item in the one queue, and the diner sees it resolved through the
link, confirms and rates it.

Read in English (the ``lang`` cookie), so the steps do not depend on the Chinese catalog.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.bookings.factories import jpeg_bytes, make_venue
from tests.browser.conftest import PHONE, log_in
from tests.conftest import make_user
from tests.feedback.factories import make_category

pytestmark = pytest.mark.browser


def test_a_canteen_diner_reports_through_the_qr_code_and_follows_it_to_the_end(
        live_server, new_context, problems, tmp_path):
    app, base = live_server.app, live_server.url
    staff_account = make_user(app, "staff", name="陈晓丽")
    make_category(app, code="canteen", name="食堂餐饮", name_en="Canteen and catering")
    make_category(app, code="cleaning", name="大楼保洁", name_en="Cleaning")
    venue = make_venue(app, name="第一食堂大厅")
    from portal.bookings.models import Venue
    from portal.database import write_transaction
    from portal.extensions import db

    with app.test_request_context(), write_transaction():
        db.session.get(Venue, venue).kind = "banquet_hall"
    with app.test_request_context():
        from portal.feedback.public import VENUE, sign_place

        qr_path = f"/feedback/q/{sign_place(VENUE, venue)}"
    photo = tmp_path / "tray.jpg"
    photo.write_bytes(jpeg_bytes((320, 240)))

    # 1. The diner scans the code: the phone page, no login, the canteen preselected.
    phone = new_context(viewport=PHONE).new_page()
    phone.goto(f"{base}{qr_path}?lang=en")
    expect(phone.locator("#public-place")).to_contain_text("第一食堂大厅")
    expect(phone.locator("#category_id option:checked")).to_have_text("Canteen and catering")
    box = phone.locator("#honeypot").bounding_box()  # the honeypot: out of sight
    assert box is None or box["width"] <= 1
    phone.fill("#description", "餐盘回收区地面有汤水和剩饭，很脏")
    phone.set_input_files("#photos", str(photo))
    phone.locator("#service_rating-3").check()  # 2 – dissatisfied
    phone.fill("#contact", "diner@example.com")
    phone.wait_for_timeout(3500)  # a person takes longer than the minimum fill time
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.get_by_role("button", name="Send the report").click()

    # 2. The follow page: the one-time link the diner keeps.
    phone.wait_for_url(re.compile(r"/feedback/t/[A-Za-z0-9_-]+$"))
    follow_url = phone.url
    expect(phone.locator("#follow-status")).to_have_text("Submitted")
    expect(phone.locator("#follow-facts")).to_contain_text("第一食堂大厅")
    expect(phone.locator("#follow-facts")).to_contain_text("1 photo")

    # 3. Staff find it in the one queue, marked as public, accept and resolve it.
    staff = new_context(viewport=PHONE).new_page()
    log_in(staff, base, staff_account)
    staff.goto(f"{base}/feedback/?source=public")
    row = staff.locator("tr[id^=feedback-]")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Public (QR code)")
    row.locator("a").first.click()
    expect(staff.locator("#feedback-source")).to_be_visible()
    expect(staff.locator("#feedback-photos img")).to_have_count(1)
    staff.get_by_role("button", name="Accept").click()
    expect(staff.locator("#feedback-status")).to_have_text("Accepted")
    staff.fill("#resolve-response", "已安排保洁人员清理餐盘回收区，并增加午餐高峰巡查")
    staff.get_by_role("button", name="Record as resolved").click()
    expect(staff.locator("#feedback-status")).to_have_text("Resolved")
    expect(staff.locator("#action-close")).to_have_count(0)  # staff cannot close it

    # 4. The diner opens the link again: resolved, with the response; confirms and rates.
    phone.goto(follow_url)
    expect(phone.locator("#follow-status")).to_have_text("Resolved")
    expect(phone.locator("#follow-response")).to_contain_text("已安排保洁人员清理")
    phone.locator("#follow-close input[name=handling_rating][value='5']").check()
    phone.get_by_role("button", name="Confirm and close").click()
    expect(phone.locator("#follow-status")).to_have_text("Closed")
    expect(phone.locator("#follow-note")).to_contain_text("finished")
    problems.assert_clean()
