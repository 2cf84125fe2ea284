"""One workplace, in a real browser and in Chinese: the member of staff's home leads with what
waits for them ("3 项待受理的意见反馈"), the line opens the queue filtered, they accept one
item; the supervisor's phone shows one unread notification and the item behind it; staff
search "保洁" and find the supplier, its contract and the complaint; a feedback item dealt
with at a joint meeting shows that meeting (staff: a link; the supervisor: a sentence)."""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.i18n import local_today
from portal.meetings.models import ActionStatus, MeetingStatus
from tests.browser.conftest import PHONE, log_in
from tests.conftest import make_user
from tests.feedback.factories import (
    make_appointment,
    make_category,
    make_contract,
    make_feedback,
    make_supplier,
)
from tests.meetings.factories import make_action, make_agenda_item, make_meeting

pytestmark = pytest.mark.browser


def test_staff_work_through_their_list_search_and_follow_a_complaint_to_its_meeting(
        live_server, new_context, problems):
    app, base = live_server.app, live_server.url
    staff_account = make_user(app, "staff", name="陈晓丽")
    supervisor = make_user(app, "supervisor", name="李明华")
    make_appointment(app, supervisor.id, unit="区发展和改革委员会办公室")
    cleaning = make_category(app, name="保洁", name_en="Cleaning")
    supplier = make_supplier(app, name="城区大楼保洁服务有限公司", category_ids=(cleaning,))
    make_contract(app, supplier, cleaning, number="HT-2026-0301")
    waiting = [make_feedback(app, supervisor.id, cleaning, description=text)
               for text in ("二楼会议室保洁不及时，地面有纸屑", "三楼卫生间地面有积水",
                            "一楼大厅垃圾桶满溢")]
    # Last month's complaint, taken to the joint meeting, its measure verified.
    with app.app_context():
        month_ago = local_today() - timedelta(days=30)
    earlier = make_feedback(app, supervisor.id, cleaning, status="resolved",
                            description="五楼走廊保洁频次不够", response="已增加巡查频次",
                            submitted_on=month_ago)
    meeting = make_meeting(app, [supplier], status=MeetingStatus.PUBLISHED,
                           title="十一月服务质量联席会议", day=month_ago + timedelta(days=10))
    agenda = make_agenda_item(app, meeting, "五楼走廊保洁", supplier_id=supplier,
                              feedback_id=earlier)
    make_action(app, meeting, supplier_id=supplier, agenda_item_id=agenda,
                description="五楼走廊每日保洁增加至三次", status=ActionStatus.VERIFIED,
                feedback_ids=(earlier,))

    # 1. Staff: the home leads with the work list; the line opens the queue filtered.
    staff = new_context().new_page()
    log_in(staff, base, staff_account, lang="zh")
    line = staff.locator(".work-list .work-item", has_text="3 项待受理的意见反馈")
    expect(line).to_be_visible()
    expect(line).to_contain_text(f"第 {waiting[0]} 号")  # the oldest one leads
    line.click()
    staff.wait_for_url(re.compile(r"/feedback/\?status=submitted"))
    rows = staff.locator("#results tbody tr")
    expect(rows).to_have_count(3)
    expect(staff.locator(f"#feedback-{earlier}")).to_have_count(0)

    # 2. ...open the oldest and accept it.
    staff.locator(f"#feedback-{waiting[0]} a").first.click()
    staff.wait_for_url(f"{base}/feedback/{waiting[0]}")
    staff.get_by_role("button", name="受理", exact=True).click()
    expect(staff.locator("#feedback-status")).to_have_text("已受理")
    staff.goto(f"{base}/")
    expect(staff.locator(".work-list")).to_contain_text("2 项待受理的意见反馈")

    # 3. The supervisor, on a phone: one unread notification, leading to the item.
    phone = new_context(viewport=PHONE).new_page()
    log_in(phone, base, supervisor, lang="zh")
    menu = phone.locator("details.menu")
    if menu.get_attribute("open") is None:
        phone.locator("details.menu > summary").click()
    expect(phone.locator("#unread-count")).to_have_text("1")
    phone.locator("#inbox-link").click()
    phone.wait_for_url(f"{base}/inbox/")
    note = phone.locator(".notification.unread")
    expect(note).to_have_count(1)
    note.locator(".notification-open button").click()
    phone.wait_for_url(f"{base}/feedback/{waiting[0]}")
    expect(phone.locator("#feedback-status")).to_have_text("已受理")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    # 4. Staff search "保洁": the supplier, its contract and the complaint.
    staff.goto(f"{base}/")
    staff.locator("#site-search-q").press_sequentially("保洁", delay=50)
    found = staff.locator("#site-search-results")
    expect(found.get_by_role("link", name="城区大楼保洁服务有限公司")).to_be_visible()
    expect(found.get_by_role("link", name=re.compile("HT-2026-0301"))).to_be_visible()
    expect(found.get_by_role("link", name=re.compile(f"#{waiting[0]} 二楼会议室保洁"))) \
        .to_be_visible()
    staff.locator("#site-search-q").press("Enter")
    staff.wait_for_url(re.compile(r"/search\?q="))
    expect(staff.locator("#search-feedback")).to_contain_text("五楼走廊保洁频次不够")
    staff.locator("#search-feedback").get_by_role("link", name=re.compile(f"#{earlier}")).click()

    # 5. The item dealt with at the meeting shows it: staff get the links...
    staff.wait_for_url(f"{base}/feedback/{earlier}")
    meetings = staff.locator("#feedback-meetings")
    expect(meetings.get_by_role("link", name="十一月服务质量联席会议")).to_be_visible()
    expect(meetings).to_contain_text("五楼走廊每日保洁增加至三次")
    meetings.get_by_role("link", name="十一月服务质量联席会议").click()
    staff.wait_for_url(f"{base}/meetings/{meeting}")
    expect(staff.get_by_role("link", name=re.compile(f"#{earlier}")).first).to_be_visible()

    # ...and the supervisor reads what was decided, and that it was verified.
    phone.goto(f"{base}/feedback/{earlier}")
    sentence = phone.locator("#feedback-meetings .meeting-sentence")
    expect(sentence).to_contain_text("十一月服务质量联席会议")
    expect(sentence).to_contain_text("五楼走廊每日保洁增加至三次")
    expect(sentence).to_contain_text("核实")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    problems.assert_clean()
