"""The joint-meeting journey in a real browser: staff plan a meeting whose agenda is
pre-filled with a supplier's open feedback, record the minutes with an action item answering
that feedback, publish them, download the PDF and Word minutes, verify the action; the
feedback is then ready to resolve, staff resolve it in one step, and the supervisor sees it
resolved with the response, ready to confirm and rate.

Pages are read in English (the language cookie), so the steps do not depend on the catalog.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.i18n import local_today
from tests.browser.conftest import log_in
from tests.conftest import make_user
from tests.feedback.factories import (
    make_appointment,
    make_category,
    make_contract,
    make_feedback,
    make_supplier,
)

pytestmark = pytest.mark.browser


_login = log_in


def test_staff_plan_a_meeting_record_minutes_publish_and_verify_the_action(
        live_server, new_context, problems):
    app, base = live_server.app, live_server.url
    with app.app_context():
        today = local_today()
    staff_account = make_user(app, "staff", name="陈晓丽")
    supervisor = make_user(app, "supervisor", name="李明华")
    make_appointment(app, supervisor.id)
    category = make_category(app, name="保洁", name_en="Cleaning")
    supplier = make_supplier(app, name="上海洁美物业服务有限公司", category_ids=(category,))
    contract = make_contract(app, supplier, category)
    feedback = make_feedback(app, supervisor.id, category, supplier_id=supplier,
                             contract_id=contract, status="accepted",
                             description="二号楼三楼卫生间地面积水")

    page = new_context().new_page()
    _login(page, base, staff_account)

    # 0. The supplier has a second contact, added on its page (htmx swaps the contacts card).
    page.goto(f"{base}/suppliers/{supplier}")
    page.fill("#contacts #name", "李主管")
    page.fill("#contacts #title", "现场主管")
    page.get_by_role("button", name="Add a contact").click()
    expect(page.locator("#contacts")).to_contain_text("李主管")
    expect(page.locator("#contacts")).to_contain_text("王经理")

    # 1. Plan the meeting: choosing the supplier shows the pre-filled agenda (htmx).
    page.goto(f"{base}/meetings/new")
    page.fill("#title", "第三季度服务质量联席会议")
    page.fill("#day", (today + timedelta(days=3)).isoformat())
    page.fill("#start", "09:30")
    page.fill("#end", "11:00")
    page.fill("#location", "三楼第二会议室")
    page.select_option("#supplier_ids", [str(supplier)])
    expect(page.locator("#prefill")).to_contain_text("二号楼三楼卫生间地面积水")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/meetings/\d+$"))
    meeting_url = page.url
    expect(page.locator("#meeting-status")).to_have_text("Planned")
    expect(page.locator("#agenda")).to_contain_text("二号楼三楼卫生间地面积水")
    expect(page.locator("#attendees")).to_contain_text("王经理")  # the primary contact
    with page.expect_download() as invitation:
        page.get_by_role("link", name="Calendar invitation (.ics)").click()
    assert invitation.value.suggested_filename.endswith(".ics")

    # 2. The meeting is held: record the minutes of the feedback's item, with a live preview.
    page.get_by_role("button", name="Mark as held").click()
    expect(page.locator("#meeting-status")).to_have_text("Held")
    item = page.locator("#agenda li.agenda-item").filter(has_text="二号楼三楼卫生间地面积水")
    item.get_by_role("link", name="Record the minutes").click()
    page.fill("#discussion", "供应商承认**午间巡查不足**。<script>alert(1)</script>")
    expect(page.locator("#preview strong")).to_have_text("午间巡查不足")
    expect(page.locator("#preview script")).to_have_count(0)
    page.fill("#decisions", "午间增加一名保洁员")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/meetings/\d+#item-\d+$"))
    expect(page.locator("#agenda .markdown strong")).to_have_text("午间巡查不足")

    # 3. An action item answering the feedback (pre-selected from the agenda item).
    item = page.locator("#agenda li.agenda-item").filter(has_text="二号楼三楼卫生间地面积水")
    item.get_by_role("link", name="Add an action item").click()
    expect(page.locator(f"#feedback_ids option[value='{feedback}']")).to_be_attached()
    assert page.locator("#feedback_ids").evaluate(
        "select => Array.from(select.selectedOptions).map(o => o.value)") == [str(feedback)]
    page.fill("#description", "午间增派一名保洁员并建立巡查记录")
    page.fill("#responsible_person", "王经理")
    page.fill("#due_on", (today + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/meetings/\d+#actions$"))
    expect(page.locator("#actions")).to_contain_text("午间增派一名保洁员并建立巡查记录")

    # 4. Publish; download the minutes as PDF and Word.
    page.get_by_role("button", name="Publish the minutes").click()
    expect(page.locator("#meeting-status")).to_have_text("Minutes published")
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Minutes (PDF)").click()
    assert pdf.value.suggested_filename.endswith(".pdf")
    with open(pdf.value.path(), "rb") as handle:
        assert handle.read(5) == b"%PDF-"
    with page.expect_download() as docx:
        page.get_by_role("link", name="Minutes (Word)").click()
    assert docx.value.suggested_filename.endswith(".docx")

    # 5. The supplier did it; staff verify it.
    action = page.locator("#actions tr").filter(has_text="午间增派一名保洁员")
    action.get_by_role("button", name="Mark as done").click()
    action = page.locator("#actions tr").filter(has_text="午间增派一名保洁员")
    expect(action).to_contain_text("Done")
    action.get_by_role("button", name="Verify").click()
    expect(page.locator("#actions tr").filter(has_text="午间增派一名保洁员")).to_contain_text(
        "Verified")

    # 6. The feedback is ready to resolve; staff resolve it in one step.
    page.goto(f"{base}/meetings/ready-to-resolve")
    expect(page.locator(f"#ready-{feedback}")).to_contain_text("二号楼三楼卫生间地面积水")
    page.fill(f"#response-{feedback}", "联席会议决定午间增派保洁员，已核验落实")
    page.locator(f"#ready-{feedback}").get_by_role("button", name="Resolve").click()
    expect(page.locator(".flash, .alert").first).to_contain_text("supervisor")
    expect(page.locator(f"#ready-{feedback}")).to_have_count(0)
    assert meeting_url

    # 7. The supervisor sees it resolved, with the response, ready to confirm and rate.
    phone = new_context(viewport={"width": 390, "height": 844}).new_page()
    _login(phone, base, supervisor)
    phone.goto(f"{base}/feedback/{feedback}")
    expect(phone.locator("#feedback-status")).to_have_text("Resolved")
    expect(phone.locator("#feedback-response")).to_contain_text("已核验落实")
    expect(phone.get_by_role("button", name="Confirm and close")).to_be_visible()
    problems.assert_clean()
