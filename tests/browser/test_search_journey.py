"""Global search in a real browser: staff type "保洁" in the header box and the cleaning
supplier, its contract and a feedback item about cleaning appear as they type (htmx); Enter
opens the full results page, and a hit opens the record's page.  Read in Chinese."""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import make_user
from tests.feedback.factories import (
    make_appointment,
    make_category,
    make_contract,
    make_feedback,
    make_supplier,
)

pytestmark = pytest.mark.browser


def test_staff_find_the_cleaning_supplier_its_contract_and_a_complaint(live_server, page,
                                                                        problems):
    app, base = live_server.app, live_server.url
    staff_account = make_user(app, "staff", name="陈晓丽")
    supervisor = make_user(app, "supervisor", name="李明华")
    make_appointment(app, supervisor.id)
    cleaning = make_category(app, name="保洁", name_en="Cleaning")
    supplier = make_supplier(app, name="城区大楼保洁服务有限公司", category_ids=(cleaning,))
    contract = make_contract(app, supplier, cleaning, number="HT-2026-0301")
    feedback = make_feedback(app, supervisor.id, cleaning,
                             description="二楼会议室保洁不及时，地面有纸屑")
    make_supplier(app, name="城区绿化养护有限公司")

    page.goto(f"{base}/auth/login?lang=zh_Hans_CN")
    page.fill("#email", staff_account.email)
    page.fill("#password", staff_account.password)
    page.locator("#login-form").locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/")

    box = page.locator("#site-search-q")
    box.press_sequentially("保洁", delay=50)
    results = page.locator("#site-search-results")
    expect(results.get_by_role("link", name="城区大楼保洁服务有限公司")).to_be_visible()
    expect(results.get_by_role("link", name=re.compile("HT-2026-0301"))).to_be_visible()
    expect(results.get_by_role("link", name=re.compile(f"#{feedback} 二楼会议室保洁"))) \
        .to_be_visible()
    expect(results).not_to_contain_text("绿化")
    assert page.url == f"{base}/"  # as you type, the page stays

    box.press("Enter")  # the plain form: the full results page
    page.wait_for_url(re.compile(r"/search\?q="))
    main = page.locator("#results")
    expect(main.locator("#search-suppliers")).to_contain_text("城区大楼保洁服务有限公司")
    expect(main.locator("#search-contracts")).to_contain_text("HT-2026-0301")
    expect(main.locator("#search-feedback")).to_contain_text("地面有纸屑")
    main.get_by_role("link", name=re.compile("HT-2026-0301")).click()
    page.wait_for_url(f"{base}/suppliers/contracts/{contract}")
    problems.assert_clean()
