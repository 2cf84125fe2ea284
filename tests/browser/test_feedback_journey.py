"""The feedback journey in a real browser at a phone-sized viewport: a supervisor submits
feedback with a photo (the room picker follows the building; photos over the request cap come
back beside the photos field, what was typed kept), staff accept and resolve it,
the supervisor confirms it with a rating, and the dashboard's figures change.

The pages are read in English (the language cookie), so the steps do not depend on the
Chinese catalog being up to date.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.bookings.factories import jpeg_bytes
from tests.browser.conftest import PHONE, log_in
from tests.conftest import make_user
from tests.feedback.factories import make_appointment, make_category
from tests.rentals.factories import make_building, make_room

pytestmark = pytest.mark.browser


def _noisy_jpeg() -> bytes:
    """A JPEG of noise (about 300 KB: noise does not compress)."""
    import io
    import os

    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3)).save(buffer, "JPEG",
                                                                        quality=95)
    return buffer.getvalue()


_login = log_in


def test_a_supervisor_submits_staff_resolve_the_supervisor_closes_and_the_dashboard_changes(
        live_server, new_context, problems, tmp_path):
    app, base = live_server.app, live_server.url
    supervisor_account = make_user(app, "supervisor", name="李明华")
    make_appointment(app, supervisor_account.id, unit="区发展和改革委员会办公室")
    staff_account = make_user(app, "staff", name="陈晓丽")
    make_category(app, name="空调维护", name_en="Air conditioning")
    building = make_building(app, name="区政府大院1号楼")
    make_room(app, building_id=building, code="101")
    room = make_room(app, building_id=building, code="305")
    photo = tmp_path / "aircon.jpg"
    photo.write_bytes(jpeg_bytes((320, 240)))

    # 0. The dashboard before: nothing received this month.
    staff = new_context(viewport=PHONE).new_page()
    _login(staff, base, staff_account)
    staff.goto(f"{base}/feedback/dashboard")
    expect(staff.locator("#figure-volume")).to_have_text("0")
    expect(staff.locator("#figure-handling")).to_have_text("—")

    # 1. The supervisor submits feedback from a phone; choosing the building loads its rooms.
    phone = new_context(viewport=PHONE).new_page()
    _login(phone, base, supervisor_account)
    phone.goto(f"{base}/feedback/new")
    phone.select_option("#category_id", label="Air conditioning")
    phone.select_option("#building_id", str(building))
    expect(phone.locator("#room_id option")).to_have_count(3)  # "whole building" + 2 rooms
    phone.select_option("#room_id", str(room))
    phone.fill("#description", "305会议室空调不制冷，室温超过30度")
    expect(phone.locator("#description-count")).to_have_text("19 / 4000")  # follows the typing
    phone.locator("#service_rating-3").check()  # 2 – dissatisfied
    phone.select_option("#urgency", "urgent")
    # Photos over the request cap: the reason comes back beside the photos field and what
    # was typed stays (the cap is lowered here so that one small noisy photo exceeds it).
    big = tmp_path / "big.jpg"
    big.write_bytes(_noisy_jpeg())
    cap = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = len(big.read_bytes()) // 2
    try:
        phone.set_input_files("#photos", str(big))
        phone.get_by_role("button", name="Submit the feedback").click()
        expect(phone.locator("#photos-error")).to_contain_text("larger than")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = cap
    expect(phone.locator("#messages [role=alert]")).to_be_visible()
    expect(phone.locator("#description")).to_have_value("305会议室空调不制冷，室温超过30度")
    expect(phone.locator("#room_id")).to_have_value(str(room))
    # Chromium and htmx log the 413 ("... status of 413", "Response Status Error Code 413"):
    # expected here, not problems.
    problems.console[:] = [m for m in problems.console if "413" not in m.text]

    phone.set_input_files("#photos", str(photo))
    phone.get_by_role("button", name="Submit the feedback").click()
    phone.wait_for_url(re.compile(r"/feedback/\d+$"))
    item_url = phone.url
    expect(phone.locator("#feedback-status")).to_have_text("Submitted")
    expect(phone.locator("#feedback-facts")).to_contain_text("区政府大院1号楼 305")
    image = phone.locator("#feedback-photos img")
    expect(image).to_have_count(1)
    # The photo loads (waited for: a busy machine may not have it yet when the page is in).
    assert image.evaluate("""img => img.complete ? img.naturalWidth > 0 : new Promise(done => {
        img.addEventListener("load", () => done(img.naturalWidth > 0));
        img.addEventListener("error", () => done(false)); })""")
    # The page fits the phone: no sideways scrolling.
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # 2. Staff find it in the queue (filters swap the results in place), accept it and
    # resolve it with a response.
    item_id = item_url.rsplit("/", 1)[1]
    staff.goto(f"{base}/feedback/")
    expect(staff.locator(f"#feedback-{item_id}")).to_be_visible()
    staff.select_option("#feedback-filters select[name=status]", "closed")
    expect(staff.locator(f"#feedback-{item_id}")).to_have_count(0)
    assert "status=closed" in staff.url  # pushed to the address bar
    staff.select_option("#feedback-filters select[name=status]", "submitted")
    staff.locator(f"#feedback-{item_id} a").click()
    staff.wait_for_url(item_url)
    staff.get_by_role("button", name="Accept").click()
    expect(staff.locator("#feedback-status")).to_have_text("Accepted")
    staff.fill("#resolve-response", "已更换压缩机电容，室温恢复正常")
    staff.get_by_role("button", name="Record as resolved").click()
    expect(staff.locator("#feedback-status")).to_have_text("Resolved")
    expect(staff.locator("#action-close")).to_have_count(0)  # staff cannot close

    # 3. The supervisor reads the response, confirms and rates the handling.
    phone.goto(item_url)
    expect(phone.locator("#feedback-response")).to_contain_text("已更换压缩机电容")
    phone.locator("#close-handling_rating-0").check()  # 5 – very satisfied
    phone.fill("#close-comment", "处理及时")
    phone.get_by_role("button", name="Confirm and close").click()
    expect(phone.locator("#feedback-status")).to_have_text("Closed")
    expect(phone.locator("#feedback-handling-rating")).to_contain_text("5 / 5")
    expect(phone.locator("#feedback-timeline li")).to_have_count(4)
    phone.goto(f"{base}/feedback/mine")
    expect(phone.locator(".feedback-card")).to_have_count(1)

    # 4. The dashboard's figures have changed.
    staff.goto(f"{base}/feedback/dashboard")
    expect(staff.locator("#figure-volume")).to_have_text("1")
    expect(staff.locator("#figure-handling")).to_have_text("5.0")
    expect(staff.locator("#figure-sla")).to_have_text("100.0%")
    expect(staff.locator("#chart-categories-title")).to_be_visible()
    problems.assert_clean()


def test_every_mistake_of_the_feedback_form_is_shown_at_once_and_the_count_is_live(
        live_server, new_context, problems):
    app, base = live_server.app, live_server.url
    supervisor_account = make_user(app, "supervisor", name="王丽")
    make_appointment(app, supervisor_account.id)
    make_category(app, name="保洁", name_en="Cleaning")
    phone = new_context(viewport=PHONE).new_page()
    _login(phone, base, supervisor_account)
    phone.goto(f"{base}/feedback/new")
    expect(phone.locator("#description-count")).to_have_text("0 / 4000")
    expect(phone.locator("#description")).to_have_attribute("maxlength", "4000")
    expect(phone.locator("#description")).to_have_attribute("required", "")
    phone.fill("#description", "卫生间")
    expect(phone.locator("#description-count")).to_have_text("3 / 4000")
    phone.fill("#description", "")
    phone.get_by_role("button", name="Submit the feedback").click()
    # One submission, every mistake beside its field (the form is swapped in place by htmx).
    for field in ("category_id", "description", "service_rating"):
        expect(phone.locator(f"#{field}-error")).to_be_visible()
    expect(phone.locator("#description-count")).to_have_text("0 / 4000")
    problems.assert_clean()
