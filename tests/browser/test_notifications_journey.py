"""The inbox in a real browser at a phone-sized viewport: staff accept a supervisor's feedback;
the supervisor's badge shows 1, the inbox opens, the notification leads to the feedback item,
and the badge drops to 0.

The pages are read in English (the language cookie), as in the other journeys.
"""

import re

import pytest
from playwright.sync_api import expect

from portal.auth.models import User
from portal.extensions import db
from portal.feedback import services as feedback
from tests.browser.conftest import PHONE, log_in
from tests.conftest import make_user
from tests.feedback.factories import make_appointment, make_category, make_feedback

pytestmark = pytest.mark.browser


_login = log_in


def _open_menu(page):
    """On a phone the menu is closed by portal.js; the badge is in it."""
    menu = page.locator("details.menu")
    if menu.get_attribute("open") is None:
        page.locator("details.menu > summary").click()


def test_a_supervisor_follows_a_notification_to_the_feedback_item(live_server, new_context,
                                                                   problems):
    app, base = live_server.app, live_server.url
    supervisor = make_user(app, "supervisor", name="李明华")
    make_appointment(app, supervisor.id, unit="区发展和改革委员会办公室")
    staff = make_user(app, "staff", name="陈晓丽")
    category_id = make_category(app, name="空调维护", name_en="Air conditioning")
    item_id = make_feedback(app, supervisor.id, category_id, description="305会议室空调不制冷")
    with app.test_request_context():
        feedback.apply_transition(item_id, "accept", db.session.get(User, staff.id),
                                  assignee_id=staff.id)
        db.session.remove()

    phone = new_context(viewport=PHONE).new_page()
    _login(phone, base, supervisor)
    _open_menu(phone)
    expect(phone.locator("#unread-count")).to_have_text("1")
    phone.locator("#inbox-link").click()
    phone.wait_for_url(f"{base}/inbox/")
    note = phone.locator(".notification.unread")
    expect(note).to_have_count(1)
    # In the account's language (none chosen: Chinese), as the mail was written.
    expect(note).to_contain_text("空调维护")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    note.locator(".notification-open button").click()
    phone.wait_for_url(re.compile(rf"/feedback/{item_id}$"))
    expect(phone.locator("#feedback-status")).to_have_text("Accepted")
    _open_menu(phone)
    expect(phone.locator("#unread-count")).to_have_text("0")

    phone.goto(f"{base}/inbox/")
    expect(phone.locator(".notification.unread")).to_have_count(0)
    expect(phone.locator(".notification")).to_have_count(1)
    problems.assert_clean()
