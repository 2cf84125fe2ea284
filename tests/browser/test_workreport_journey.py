"""The work report in a real browser: staff pick 2026 上半年, start the report, write a
section's narrative; an admin issues it and downloads the Word and PDF documents; the page
works on a 390 px phone."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, log_in
from tests.conftest import make_user

pytestmark = pytest.mark.browser


def test_pick_the_half_year_write_issue_and_download(live_server, new_context, problems):
    app, base = live_server.app, live_server.url
    staff = make_user(app, "staff", name="陈晓丽")
    admin = make_user(app, "admin", name="周建国")

    page = new_context().new_page()
    log_in(page, base, staff, lang="zh")
    page.goto(f"{base}/work-report/")
    page.select_option("select[name=period]", "2026-H1")
    page.get_by_role("button", name="查看总结").click()
    page.wait_for_url(re.compile(r"period=2026-H1"))
    expect(page.locator("#section-venues h3")).to_contain_text("一、")
    expect(page.locator("#section-income")).to_contain_text("上半年共实现创收")
    page.get_by_role("button", name="撰写总结").click()
    page.wait_for_url(re.compile(r"/work-report/\d+$"))
    report_url = page.url
    page.fill("#text-venues", "圆满完成区人代会、区政协会议的会务保障。")
    page.locator("#section-venues").get_by_role("button", name="保存本部分").click()
    expect(page.locator("#text-venues")).to_have_value("圆满完成区人代会、区政协会议的会务保障。")
    expect(page.locator("#issue-form")).to_have_count(0)  # staff do not issue

    admin_page = new_context().new_page()
    log_in(admin_page, base, admin, lang="zh")
    admin_page.goto(report_url)
    admin_page.locator("#issue-form").get_by_role("button").click()
    expect(admin_page.locator("#report-state")).to_contain_text("已印发")
    expect(admin_page.locator("#section-venues")).to_contain_text("圆满完成区人代会")
    with admin_page.expect_download() as docx:
        admin_page.locator("#download-docx").click()
    assert docx.value.suggested_filename.endswith(".docx")
    with admin_page.expect_download() as pdf:
        admin_page.locator("#download-pdf").click()
    assert pdf.value.suggested_filename.endswith(".pdf")

    phone = new_context(viewport=PHONE).new_page()
    log_in(phone, base, staff, lang="zh")
    phone.goto(report_url)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, width
    problems.assert_clean()
