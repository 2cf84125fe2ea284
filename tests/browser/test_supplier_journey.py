"""The supplier channel in a real browser at phone width: a supplier's account logs in, opens
the transferred item from its work list, posts a proposed resolution; staff confirm it on the
item's page; the supervisor confirms and rates the handling."""

import re

import pytest
from playwright.sync_api import expect

from portal.auth.models import User
from portal.extensions import db
from portal.feedback import services as feedback
from tests.browser.conftest import PHONE, log_in
from tests.feedback.factories import make_feedback
from tests.partners.factories import make_two_suppliers

pytestmark = pytest.mark.browser


def test_a_supplier_answers_staff_confirm_the_supervisor_rates(live_server, new_context,
                                                               problems):
    app, base = live_server.app, live_server.url
    world = make_two_suppliers(app)
    item_id = make_feedback(app, world["supervisor"].id, world["a"]["category"],
                            description="三楼茶水间垃圾桶未及时清理")
    with app.test_request_context():
        feedback.apply_transition(item_id, "accept", db.session.get(User, world["staff"].id),
                                  assignee_id=world["staff"].id)
        db.session.remove()

    supplier = new_context(viewport=PHONE).new_page()
    log_in(supplier, base, world["a"]["account"])
    supplier.goto(f"{base}/")
    supplier.locator('a[href="/partner/feedback?state=waiting"]').first.click()
    supplier.locator(f'a[href="/partner/feedback/{item_id}"]').click()
    supplier.wait_for_url(re.compile(rf"/partner/feedback/{item_id}$"))
    expect(supplier.locator(".feedback-description")).to_contain_text("茶水间")
    expect(supplier.locator("#feedback-due")).to_contain_text("left")
    supplier.locator('input[name="kind"][value="proposal"]').check()
    supplier.locator("#body").fill("已清理垃圾桶，并将清运频次调整为每日三次")
    supplier.get_by_role("button", name="Post").click()
    expect(supplier.locator("#supplier-notes")).to_contain_text("Waiting for the bureau")
    assert supplier.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    staff = new_context(viewport=PHONE).new_page()
    log_in(staff, base, world["staff"])
    staff.goto(f"{base}/feedback/{item_id}")
    notes = staff.locator("#supplier-notes")
    expect(notes).to_contain_text("每日三次")
    notes.get_by_role("button", name="Confirm and record as resolved").click()
    expect(staff.locator("#feedback-status")).to_have_text("Resolved")

    supervisor = new_context(viewport=PHONE).new_page()
    log_in(supervisor, base, world["supervisor"])
    supervisor.goto(f"{base}/feedback/{item_id}")
    expect(supervisor.locator("#feedback-response")).to_contain_text("每日三次")
    supervisor.locator("#close-handling_rating-0").check()  # 5 – very satisfied
    supervisor.get_by_role("button", name="Confirm and close").click()
    expect(supervisor.locator("#feedback-status")).to_have_text("Closed")
    expect(supervisor.locator("#feedback-handling-rating")).to_contain_text("5 / 5")
    problems.assert_clean()
