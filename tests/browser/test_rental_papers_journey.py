"""A tenant, in a real browser and in Chinese, opens its lease page, follows the payment
notice of a rent period and the receipt of its payment, and downloads both as PDF: the
receipt's amount in capitals (大写金额) is right in the PDF's text (pdftotext), and another
tenant's receipt is not there for it (404)."""

import re
import subprocess
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.i18n import local_today
from tests.browser.conftest import log_in
from tests.conftest import make_user
from tests.rentals.alert_factories import pay
from tests.rentals.factories import make_lease, make_room, make_tenant

pytestmark = pytest.mark.browser


def _pdf_text(data: bytes, tmp_path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout
    return re.sub(r"\s", "", text)


def test_a_tenant_downloads_a_notice_and_a_receipt_with_the_amount_in_capitals(
        live_server, new_context, problems, tmp_path):
    app, base = live_server.app, live_server.url
    with app.app_context():
        today = local_today()
    account = make_user(app, "client", name="张经理", organisation="金山商贸有限公司")
    tenant = make_tenant(app, name="金山商贸有限公司", user_id=account.id)
    lease = make_lease(app, tenant, [make_room(app)], start=today - timedelta(days=75))
    payment = pay(app, lease, 1_234_567, today)  # ¥12,345.67
    other = make_lease(app, make_tenant(app, name="朱泾咖啡店"), [make_room(app)])
    other_payment = pay(app, other, 10_000, today)

    page = new_context().new_page()
    log_in(page, base, account, lang="zh")
    page.goto(f"{base}/rentals/leases/{lease}")

    # The notice of the first period: a page to print, and its PDF.
    page.locator("#schedule-table").get_by_role("link", name="通知单").first.click()
    page.wait_for_url(re.compile(r"/periods/\d+/notice$"))
    expect(page.locator("h1")).to_have_text("缴费通知单")
    expect(page.locator("#paper-table")).to_contain_text("金山商贸有限公司")
    notice_pdf = page.context.request.get(base + page.locator("#paper-pdf").get_attribute("href"))
    assert notice_pdf.ok and notice_pdf.headers["content-type"] == "application/pdf"
    notice_text = _pdf_text(notice_pdf.body(), tmp_path, "notice.pdf")
    assert "缴费通知单" in notice_text and "金山商贸有限公司" in notice_text

    # The receipt of the payment: its number, and the amount in figures and in capitals.
    page.goto(f"{base}/rentals/leases/{lease}")
    receipt_link = page.locator(f"#payment-{payment}").get_by_role("link").first
    code = receipt_link.inner_text()
    assert re.fullmatch(rf"{today.year}-\d{{6}}", code)
    receipt_link.click()
    page.wait_for_url(re.compile(r"/receipt$"))
    expect(page.locator("#paper-table")).to_contain_text("壹万贰仟叁佰肆拾伍元陆角柒分")
    receipt_pdf = page.context.request.get(base + page.locator("#paper-pdf").get_attribute("href"))
    assert receipt_pdf.ok and receipt_pdf.headers["content-type"] == "application/pdf"
    receipt_text = _pdf_text(receipt_pdf.body(), tmp_path, "receipt.pdf")
    assert "收据" in receipt_text and code in receipt_text
    assert "人民币壹万贰仟叁佰肆拾伍元陆角柒分" in receipt_text
    assert "12,345.67" in receipt_text
    expect(page.locator("#void-form")).to_have_count(0)  # staff void receipts, not tenants

    # Another tenant's receipt does not exist for it.
    response = page.context.request.get(
        f"{base}/rentals/leases/{other}/payments/{other_payment}/receipt.pdf")
    assert response.status == 404
    problems.assert_clean()
