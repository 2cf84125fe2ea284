"""Payment notices (缴费通知单) and receipts (收据): the amount in Chinese capitals, receipt
numbers from the per-year counter (consecutive, never reused, also when voided), voiding
through the workflow (once; the second is a 409 saying so), who may see which paper (another
tenant's is a 404), the PDFs, the notice mail, and the migration of the payments recorded
before the portal numbered receipts."""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import uuid4

import pytest
import sqlalchemy as sa

from portal.audit.models import AuditAction, AuditLog
from portal.auth.models import User
from portal.database import write_transaction
from portal.extensions import db
from portal.i18n import amount_in_capitals
from portal.rentals import services, tasks
from portal.rentals.models import Lease, Payment, ReceiptCounter, RentPeriod
from tests.conftest import make_user
from tests.documents import assert_a4, assert_no_overlap, text_lines
from tests.helpers import bureau_today, form_data, outbox_for
from tests.rentals.alert_factories import make_tenant_with_email
from tests.rentals.factories import make_lease, make_room, make_tenant


def english(client):
    client.get("/?lang=en")
    return client


# --- 大写金额 ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("fen", "capitals"), [
    (1_234_567, "壹万贰仟叁佰肆拾伍元陆角柒分"),
    (50, "伍角"),  # less than a yuan: no 零元, as on bank slips; nothing after 角
    (5, "伍分"),
    (10_000, "壹佰元整"),
    (100_400, "壹仟零肆元整"),
    (1_005, "壹拾元零伍分"),  # banking: a leading ten is 壹拾
    (1_000, "壹拾元整"),
    (11_000, "壹佰壹拾元整"),
    (10_000_000_000, "壹亿元整"),
    (101_010_101, "壹佰零壹万零壹佰零壹元零壹分"),
    (168_032, "壹仟陆佰捌拾元零叁角贰分"),  # the People's Bank's own example
    (1_640_902, "壹万陆仟肆佰零玖元零贰分"),  # ditto: 角 is 0, 分 is not
    (10_000_100, "壹拾万零壹元整"),
    (10_001_000_000, "壹亿零壹万元整"),
    (120, "壹元贰角"),
    (0, "零元整"),
])
def test_amounts_in_chinese_capitals(fen, capitals):
    assert amount_in_capitals(fen) == capitals


def test_negative_and_non_integer_amounts_are_refused():
    with pytest.raises(ValueError):
        amount_in_capitals(-1)
    with pytest.raises(TypeError):
        amount_in_capitals(12.5)
    with pytest.raises(TypeError):
        amount_in_capitals(True)


# --- numbering -------------------------------------------------------------------------------


def _staff(app):
    return make_user(app, "staff")


def _pay(app, lease_id, amount_fen, on=None, reference=""):
    staff = _staff(app)
    with app.test_request_context():
        payment, _ = services.record_payment(
            db.session.get(User, staff.id), db.session.get(Lease, lease_id),
            on or services.today(), amount_fen, "bank_transfer", reference, uuid4().hex)
        return payment.id, payment.receipt_code


def _active_lease(app, tenant=None, days_ago=75):
    today = bureau_today(app)
    return make_lease(app, tenant or make_tenant(app), [make_room(app)],
                      start=today - timedelta(days=days_ago))


def test_receipts_are_numbered_per_year_in_order(app):
    lease_id = _active_lease(app)
    year = bureau_today(app).year
    codes = [_pay(app, lease_id, 10_000)[1] for _ in range(3)]
    assert codes == [f"{year}-000001", f"{year}-000002", f"{year}-000003"]
    with app.app_context():
        assert db.session.get(ReceiptCounter, year).last_number == 3


def test_the_prefix_from_the_settings_is_printed_and_kept(app):
    lease_id = _active_lease(app)
    year = bureau_today(app).year
    app.config["RENTALS_RECEIPT_PREFIX"] = "ZJ"
    try:
        payment_id, code = _pay(app, lease_id, 10_000)
    finally:
        app.config["RENTALS_RECEIPT_PREFIX"] = ""
    assert code == f"ZJ{year}-000001"
    with app.app_context():  # the printed number does not change with the setting
        assert db.session.get(Payment, payment_id).receipt_code == code


def test_a_refused_payment_takes_no_number(app):
    lease_id = _active_lease(app)
    draft = make_lease(app, make_tenant(app), [make_room(app)], status="draft")
    year = bureau_today(app).year
    _pay(app, lease_id, 10_000, reference="BANK-1")
    staff = _staff(app)
    with app.test_request_context():
        for lease, reference in ((draft, ""), (lease_id, "BANK-1")):  # not active; reference taken
            with pytest.raises(services.ServiceError):
                services.record_payment(db.session.get(User, staff.id),
                                        db.session.get(Lease, lease), services.today(), 100,
                                        "cash", reference, uuid4().hex)
            db.session.rollback()
    assert _pay(app, lease_id, 10_000)[1] == f"{year}-000002"


def test_the_same_form_twice_is_one_receipt(app):
    lease_id = _active_lease(app)
    staff = _staff(app)
    with app.test_request_context():
        user, lease = db.session.get(User, staff.id), db.session.get(Lease, lease_id)
        first, created = services.record_payment(user, lease, services.today(), 500, "cash", "",
                                                 "same-key")
        again, created_again = services.record_payment(user, lease, services.today(), 500,
                                                       "cash", "", "same-key")
        assert created and not created_again and first.receipt_code == again.receipt_code
    with app.app_context():
        assert db.session.get(ReceiptCounter, bureau_today(app).year).last_number == 1


def test_the_database_refuses_a_receipt_number_twice(app):
    lease_id = _active_lease(app)
    payment_id, _ = _pay(app, lease_id, 10_000)
    with app.app_context(), pytest.raises(sa.exc.IntegrityError), write_transaction():
        original = db.session.get(Payment, payment_id)
        twin = Payment(lease_id=lease_id, paid_on=original.paid_on, amount_fen=1, method="cash",
                       receipt_year=original.receipt_year,
                       receipt_number=original.receipt_number, receipt_code="other",
                       idempotency_key="twin")
        db.session.add(twin)
        db.session.flush()


# --- voiding ---------------------------------------------------------------------------------


def test_voiding_keeps_the_number_takes_the_money_back_and_is_audited(app, login_as):
    staff = english(login_as("staff"))
    lease_id = _active_lease(app)
    year = bureau_today(app).year
    payment_id, code = _pay(app, lease_id, 30_000)
    with app.app_context():
        paid_before = db.session.scalar(sa.select(sa.func.sum(RentPeriod.paid_fen)).where(
            RentPeriod.lease_id == lease_id))
    assert paid_before == 30_000
    page = f"/rentals/leases/{lease_id}/payments/{payment_id}/receipt"
    missing = staff.post(f"{page.removesuffix('/receipt')}/void",
                         data=form_data(staff, page, reason="", expected_status="issued"))
    assert missing.status_code == 422
    response = staff.post(f"{page.removesuffix('/receipt')}/void", follow_redirects=True,
                          data=form_data(staff, page, reason="转账被银行退回",
                                         expected_status="issued"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"Receipt {code} is void." in html and "转账被银行退回" in html
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.voided and payment.receipt_code == code and payment.voided_at
        assert payment.void_reason == "转账被银行退回"
        assert db.session.scalar(sa.select(sa.func.sum(RentPeriod.paid_fen)).where(
            RentPeriod.lease_id == lease_id)) == 0
        steps = db.session.scalars(sa.select(AuditLog).where(
            AuditLog.object_type == "payment", AuditLog.object_id == str(payment_id),
            AuditLog.action == AuditAction.STATUS)).all()
        assert [step.changes["receipt_status"] for step in steps] == [["issued", "voided"]]
    # the number is not freed: the next receipt takes the next one
    assert _pay(app, lease_id, 100)[1] == f"{year}-000002"

    again = staff.post(f"{page.removesuffix('/receipt')}/void",
                       data=form_data(staff, page, reason="再次作废", expected_status="issued"))
    assert again.status_code == 409
    assert "This receipt changed a moment ago" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Payment, payment_id).void_reason == "转账被银行退回"


def test_a_tenant_cannot_void(app, login_as):
    me = english(login_as("client"))
    lease_id = _active_lease(app, make_tenant(app, user_id=me.account.id))
    payment_id, _ = _pay(app, lease_id, 10_000)
    page = f"/rentals/leases/{lease_id}/payments/{payment_id}/receipt"
    html = me.get(page).get_data(as_text=True)
    assert 'id="void-form"' not in html
    assert me.post(f"/rentals/leases/{lease_id}/payments/{payment_id}/void",
                   data=form_data(me, page, reason="x")).status_code == 403


# --- who sees what ---------------------------------------------------------------------------


def test_the_tenant_and_staff_see_notices_and_receipts_another_tenant_gets_404(app, login_as):
    me = english(login_as("client"))
    mine = _active_lease(app, make_tenant(app, name="金山商贸有限公司", user_id=me.account.id))
    theirs = _active_lease(app, make_tenant(app, name="朱泾咖啡店"))
    payment_id, code = _pay(app, mine, 1_234_567, reference="BANK-77")
    their_payment, _ = _pay(app, theirs, 10_000)
    with app.app_context():
        period = db.session.scalars(sa.select(RentPeriod.id).where(
            RentPeriod.lease_id == mine).order_by(RentPeriod.starts_on)).first()
        their_period = db.session.scalars(sa.select(RentPeriod.id).where(
            RentPeriod.lease_id == theirs)).first()

    lease_page = me.get(f"/rentals/leases/{mine}").get_data(as_text=True)
    receipt_url = f"/rentals/leases/{mine}/payments/{payment_id}/receipt"
    notice_url = f"/rentals/leases/{mine}/periods/{period}/notice"
    assert receipt_url in lease_page and f"{receipt_url}.pdf" in lease_page
    assert notice_url in lease_page and f"{notice_url}.pdf" in lease_page
    assert code in lease_page and "BANK-77" in lease_page

    receipt = me.get(receipt_url).get_data(as_text=True)
    assert "壹万贰仟叁佰肆拾伍元陆角柒分" in receipt and code in receipt
    assert "金山商贸有限公司" in receipt and "BANK-77" in receipt
    notice = me.get(notice_url).get_data(as_text=True)
    assert "Payment notice" in notice and "金山商贸有限公司" in notice

    for url in (f"/rentals/leases/{theirs}/payments/{their_payment}/receipt",
                f"/rentals/leases/{theirs}/payments/{their_payment}/receipt.pdf",
                f"/rentals/leases/{theirs}/periods/{their_period}/notice",
                f"/rentals/leases/{theirs}/periods/{their_period}/notice.pdf",
                # my lease with their payment or period: not mine either
                f"/rentals/leases/{mine}/payments/{their_payment}/receipt",
                f"/rentals/leases/{mine}/periods/{their_period}/notice.pdf"):
        assert me.get(url).status_code == 404, url

    staff = english(login_as("staff"))
    assert "Void the receipt" in staff.get(receipt_url).get_data(as_text=True)
    assert staff.get(notice_url).status_code == 200


def test_a_draft_lease_has_no_notices(app, login_as):
    staff = english(login_as("staff"))
    draft = make_lease(app, make_tenant(app), [make_room(app)], status="draft")
    with app.app_context():
        period = db.session.scalars(sa.select(RentPeriod.id).where(
            RentPeriod.lease_id == draft)).first()
    assert staff.get(f"/rentals/leases/{draft}/periods/{period}/notice").status_code == 404
    assert "/notice" not in staff.get(f"/rentals/leases/{draft}").get_data(as_text=True)


def test_the_notice_shows_the_bureaus_account_from_the_settings(app, login_as):
    app.config.update(RENTALS_ACCOUNT_NAME="区机关事务管理局",
                      RENTALS_ACCOUNT_BANK="工商银行金山支行",
                      RENTALS_ACCOUNT_NUMBER="1001 2345 6789 0123",
                      RENTALS_PAYMENT_INSTRUCTIONS="请在用途栏注明参考号。")
    try:
        staff = english(login_as("staff"))
        lease_id = _active_lease(app)
        with app.app_context():
            period = db.session.scalars(sa.select(RentPeriod).where(
                RentPeriod.lease_id == lease_id).order_by(RentPeriod.starts_on)).first()
            period_id, starts = period.id, period.starts_on
        html = staff.get(f"/rentals/leases/{lease_id}/periods/{period_id}/notice").get_data(
            as_text=True)
    finally:
        app.config.update(RENTALS_ACCOUNT_NAME="", RENTALS_ACCOUNT_BANK="",
                          RENTALS_ACCOUNT_NUMBER="", RENTALS_PAYMENT_INSTRUCTIONS="")
    for text in ("工商银行金山支行", "1001 2345 6789 0123", "请在用途栏注明参考号。",
                 f"ZL{lease_id:06d}-{starts:%Y%m%d}"):
        assert text in html, text


def test_the_pdfs_are_a4_and_carry_the_amount_in_capitals(app, login_as, tmp_path):
    staff = login_as("staff")
    lease_id = _active_lease(app)
    payment_id, code = _pay(app, lease_id, 100_400)
    response = staff.get(f"/rentals/leases/{lease_id}/payments/{payment_id}/receipt.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert assert_a4(response.data) == 1
    lines = text_lines(response.data, tmp_path)
    assert_no_overlap(lines)
    text = "".join(re.sub(r"\s", "", line.text) for line in lines)
    assert "壹仟零肆元整" in text and code in text and "收据" in text


# --- the notice mail -------------------------------------------------------------------------


def test_the_notice_is_mailed_once_before_the_rent_is_due(app):
    today = bureau_today(app)
    tenant = make_tenant_with_email(app, "zuhu-notice@example.com")
    lease_id = make_lease(app, tenant, [make_room(app)], start=today + timedelta(days=3),
                          end=today + timedelta(days=400))
    with app.test_request_context():
        assert tasks.send_rent_notices(today) == 1
        assert tasks.send_rent_notices(today) == 0
        period_id = db.session.scalars(sa.select(RentPeriod.id).where(
            RentPeriod.lease_id == lease_id).order_by(RentPeriod.starts_on)).first()
    [mail] = [m for m in outbox_for(app, "zuhu-notice@example.com")
              if m.template == "rent_notice"]
    assert f"/rentals/leases/{lease_id}/periods/{period_id}/notice" in mail.body_text
    assert f"/rentals/leases/{lease_id}/periods/{period_id}/notice.pdf" in mail.body_text


def test_no_notice_for_a_paid_period_or_one_due_later(app):
    today = bureau_today(app)
    tenant = make_tenant_with_email(app, "zuhu-later@example.com")
    make_lease(app, tenant, [make_room(app)], start=today + timedelta(days=30),
               end=today + timedelta(days=400))
    with app.test_request_context():
        assert tasks.send_rent_notices(today) == 0
    assert [m for m in outbox_for(app, "zuhu-later@example.com")
            if m.template == "rent_notice"] == []


# --- the migration ---------------------------------------------------------------------------


def test_the_migration_numbers_the_payments_recorded_before(tmp_path):
    from flask_migrate import upgrade

    from portal import create_app
    from tests.conftest import _test_config

    scratch = create_app(_test_config(f"sqlite:///{tmp_path / 'receipts.db'}"))
    with scratch.app_context():
        upgrade(revision="0024")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO tenant (id, kind, name, uscc, contact_name, phone, email, address, "
                "created_at) VALUES (1, 'organisation', 'T', '91310116MA00000011', '', '', '', "
                "'', '2025-01-01 00:00:00')")
            conn.exec_driver_sql(
                "INSERT INTO lease (id, tenant_id, status, start_date, end_date, "
                "monthly_rent_fen, rent_override_reason, payment_cycle, yearly_increase_pct, "
                "deposit_due_fen, deposit_received_fen, deposit_returned_fen, "
                "deposit_deducted_fen, deposit_deduction_reason, reason, note, created_at) "
                "VALUES (1, 1, 'active', '2025-01-01', '2027-12-31', 100, '', 'monthly', 0, 0, "
                "0, 0, 0, '', '', '', '2025-01-01 00:00:00')")
            for n, paid_on in enumerate(("2026-02-01", "2025-03-01", "2025-12-31",
                                         "2026-01-05"), start=1):
                conn.execute(sa.text(
                    "INSERT INTO payment (id, lease_id, paid_on, amount_fen, method, receipt_no, "
                    "credit_fen, idempotency_key, created_at) VALUES (:id, 1, :paid_on, 100, "
                    "'cash', :ref, 0, :key, '2026-02-02 00:00:00')"),
                    {"id": n, "paid_on": paid_on, "ref": f"SJ-{n}", "key": f"k{n}"})
        upgrade()
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT id, receipt_code, receipt_no, receipt_status FROM payment ORDER BY id"
            ).all()
            counters = conn.exec_driver_sql(
                "SELECT year, last_number FROM receipt_counter ORDER BY year").all()
        assert [tuple(row) for row in rows] == [
            (1, "2026-000002", "SJ-1", "issued"), (2, "2025-000001", "SJ-2", "issued"),
            (3, "2025-000002", "SJ-3", "issued"), (4, "2026-000001", "SJ-4", "issued")]
        assert [tuple(row) for row in counters] == [(2025, 2), (2026, 2)]
        db.engine.dispose()


# --- bounded queries -------------------------------------------------------------------------


def test_the_pages_run_a_fixed_number_of_queries(app, login_as, count_queries):
    staff = login_as("staff")
    few = _active_lease(app, days_ago=200)
    many = _active_lease(app, days_ago=200)
    small, _ = _pay(app, few, 100_000)  # pays one or two periods
    big, _ = _pay(app, many, 2_000_000)  # pays every period due, and keeps credit
    for _ in range(5):
        _pay(app, many, 100)

    def selects(url):
        with count_queries() as queries:
            assert staff.get(url).status_code == 200
        return len([q for q in queries if q.startswith("SELECT")])

    assert selects(f"/rentals/leases/{few}/payments/{small}/receipt") == selects(
        f"/rentals/leases/{many}/payments/{big}/receipt")
    assert selects(f"/rentals/leases/{few}") == selects(f"/rentals/leases/{many}")
    with app.app_context():
        periods = db.session.scalars(sa.select(RentPeriod.id).where(
            RentPeriod.lease_id == many).order_by(RentPeriod.starts_on)).all()
    assert selects(f"/rentals/leases/{many}/periods/{periods[0]}/notice") == selects(
        f"/rentals/leases/{many}/periods/{periods[-1]}/notice")
