"""The rental journey in a real browser: staff register a tenant and draft a lease on an idle
room, an admin approves it, the schedule appears, staff record a partial payment inline, the
room shows as leased and the arrears go down; the tenant's account sees only its own lease.

The pages are read in English (the language cookie), so the steps do not depend on the
Chinese catalog being up to date.
"""

import re
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.i18n import local_today
from tests.browser.conftest import log_in
from tests.conftest import make_user
from tests.rentals.factories import make_lease, make_room, make_tenant, valid_uscc

pytestmark = pytest.mark.browser


_login = log_in


def _yuan(text: str) -> float:
    """'CN¥12,345.67' -> 12345.67 (only for comparing what the page shows)."""
    return float(re.sub(r"[^\d.]", "", text))


def test_staff_lease_an_idle_room_an_admin_approves_and_the_tenant_sees_its_lease(
        live_server, new_context, problems):
    app, base = live_server.app, live_server.url
    with app.app_context():
        today = local_today()
    staff_account = make_user(app, "staff", name="王海燕")
    admin_account = make_user(app, "admin", name="李局长")
    tenant_account = make_user(app, "client", name="张经理", organisation="金山商贸有限公司")
    room = make_room(app, code="101", area="50", standard_fen=5_000)  # ¥2,500.00 a month
    # Another tenant's lease, which the tenant must not see.
    other_lease = make_lease(app, make_tenant(app, name="朱泾咖啡店"), [make_room(app)])

    # 1. Staff register the tenant, linked to its client account.
    staff = new_context().new_page()
    _login(staff, base, staff_account)
    staff.goto(f"{base}/rentals/tenants/new")
    staff.select_option("#kind", "organisation")
    staff.fill("#name", "金山商贸有限公司")
    staff.fill("#code", valid_uscc(424242))
    staff.select_option("#user_id", str(tenant_account.id))
    staff.fill("#contact_name", "张经理")
    staff.get_by_role("button", name="Save").click()
    staff.wait_for_url(re.compile(r"/rentals/tenants/\d+$"))
    tenant_url = staff.url

    # 2. ... and draft a lease of the idle room from the tenant's page; the rent hint follows
    # the rooms chosen (computed on the server).
    staff.get_by_role("link", name="New lease").click()
    staff.wait_for_url(re.compile(r"/rentals/leases/new\?tenant_id=\d+"))
    expect(staff.locator("#tenant_id option:checked")).to_have_text("金山商贸有限公司")
    expect(staff.locator("#rent-hint")).to_contain_text("Choose rooms")
    staff.select_option("#room_ids", [str(room)])
    expect(staff.locator("#rent-hint")).to_contain_text("¥2,500.00 a month")
    staff.fill("#start", (today - timedelta(days=75)).isoformat())
    staff.fill("#end", (today + timedelta(days=289)).isoformat())
    staff.fill("#deposit_due", "5000")
    staff.get_by_role("button", name="Save the draft").click()
    staff.wait_for_url(re.compile(r"/rentals/leases/\d+$"))
    lease_url = staff.url
    reference = staff.locator("h1").inner_text().split(" ")[0]
    expect(staff.locator("#lease-status")).to_have_text("Draft")
    staff.get_by_role("button", name="Submit for approval").click()
    expect(staff.locator("#lease-status")).to_have_text("Awaiting approval")

    # 3. The admin finds it waiting and approves it; the rooms are now held.
    admin = new_context().new_page()
    _login(admin, base, admin_account)
    admin.goto(f"{base}/rentals/leases")
    expect(admin.locator("#waiting-for-approval")).to_contain_text(
        "Leases waiting for your approval: 1")
    admin.locator("#waiting-for-approval").get_by_role("link", name="Show them").click()
    admin.get_by_role("link", name=reference).click()
    admin.get_by_role("button", name="Approve").click()
    expect(admin.locator("#lease-status")).to_have_text("Active")

    # 4. The schedule is there: the past periods are overdue.
    staff.goto(lease_url)
    expect(staff.locator("#lease-status")).to_have_text("Active")
    expect(staff.locator(f"#lease-room-{room} .room-status")).to_have_text("Leased")
    periods = staff.locator("#schedule-table tbody tr")
    expect(periods.first).to_be_visible()
    assert periods.count() >= 10
    overdue_before = _yuan(staff.locator("#balance-overdue").inner_text())
    assert overdue_before > 2_500

    # 5. Staff record a partial payment inline: the schedule and balances change in place.
    staff.fill("#amount", "1000")
    staff.fill("#receipt_no", "SJ-2024-001")
    staff.get_by_role("button", name="Record the payment").click()
    schedule = staff.locator("#schedule")
    expect(schedule).to_contain_text("A payment of CN¥1,000.00 is recorded.")
    expect(staff.locator("#balance-paid")).to_have_text("CN¥1,000.00")
    overdue_after = staff.locator("#balance-overdue").inner_text()
    assert _yuan(overdue_after) == pytest.approx(overdue_before - 1_000)
    expect(staff.locator("#payments-table")).to_contain_text("SJ-2024-001")
    assert staff.url == lease_url  # no page change
    expect(staff.locator("#amount")).to_have_value("")  # a fresh form for the next payment

    # 6. The room list shows the room as leased; the tenant's arrears are what is left.
    staff.goto(f"{base}/rentals/rooms")
    expect(staff.locator(f"#room-{room}")).to_contain_text("Leased")
    staff.goto(tenant_url)
    expect(staff.locator("main")).to_contain_text(overdue_after)

    # 7. The tenant logs in and sees its own lease, read-only, and nothing of others.
    tenant = new_context().new_page()
    _login(tenant, base, tenant_account)
    tenant.goto(f"{base}/rentals/my")
    results = tenant.locator("#results")
    expect(results.locator("tbody tr")).to_have_count(1)
    expect(results).to_contain_text(reference)
    results.get_by_role("link", name=reference).click()
    tenant.wait_for_url(lease_url)
    expect(tenant.locator("#payments-table")).to_contain_text("SJ-2024-001")
    expect(tenant.locator("#payment-form")).to_have_count(0)
    expect(tenant.locator("#lease-actions")).to_have_count(0)
    other = tenant.context.request.get(f"{base}/rentals/leases/{other_lease}")
    assert other.status == 404
    problems.assert_clean()
