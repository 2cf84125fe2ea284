"""Rental alerts from ``tick``: expiry warnings, overdue rent, deposits to return; the tick's
credit and end-of-lease work; the dashboard tiles."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.alerts import AlertSent
from portal.audit.services import acting_as
from portal.auth.models import User
from portal.extensions import db
from portal.rentals import services, tasks, tiles
from portal.rentals.models import Lease, Payment, PaymentAllocation, RentPeriod
from tests.conftest import make_user
from tests.helpers import all_at_once, outbox_for, work_lines
from tests.rentals.alert_factories import (
    all_mail,
    end_lease,
    leased_room_lease,
    local_today,
    make_tenant_with_email,
    pay,
    receive_deposit,
)

RENT = 500_000  # 50 m² at ¥100 per m² per month, in fen


def _marks(app, kind):
    with app.app_context():
        return sorted(db.session.execute(sa.select(AlertSent.object_id, AlertSent.mark)
                                         .where(AlertSent.kind == kind)).all())


def _desk(app):
    return app.config["RENTALS_DESK_EMAIL"]


# --- expiry ----------------------------------------------------------------------------------


def test_expiry_warnings_at_90_60_and_30_days_each_once(app, ctx):
    today = local_today(app)
    end = today + timedelta(days=100)
    tenant = make_tenant_with_email(app, "lessee@example.com")
    lease_id = leased_room_lease(app, tenant, today - timedelta(days=200), end)

    def tick(days_before_end):
        with ctx():
            return tasks.send_expiry_alerts(end - timedelta(days=days_before_end))

    assert tick(91) == 0
    assert tick(90) == 1
    assert tick(90) == 0 and tick(75) == 0
    assert tick(60) == 1 and tick(31) == 0
    assert tick(30) == 1 and tick(1) == 0 and tick(0) == 0
    assert tick(-1) == 0  # ended: no warning any more
    assert _marks(app, tasks.EXPIRING) == [(lease_id, "30d"), (lease_id, "60d"),
                                           (lease_id, "90d")]
    mails = outbox_for(app, "lessee@example.com", tasks.EXPIRING)
    assert len(mails) == 3 and len(outbox_for(app, _desk(app), tasks.EXPIRING)) == 3
    assert all(f"ZL{lease_id:06d}" in mail.subject for mail in mails)
    assert "（剩余天数：90）" in mails[0].body_text or "(days left: 90)" in mails[0].body_text


def test_a_lease_approved_20_days_before_its_end_gets_only_the_30_day_warning(app, ctx,
                                                                           count_queries):
    today = local_today(app)
    tenant = make_tenant_with_email(app)
    lease_id = leased_room_lease(app, tenant, today - timedelta(days=300),
                                 today + timedelta(days=20))
    with ctx():
        assert tasks.send_expiry_alerts(today) == 1
        assert tasks.send_expiry_alerts(today) == 0
        with count_queries() as queries:
            assert tasks.send_expiry_alerts(today + timedelta(days=5)) == 0
    assert not [q for q in queries if q.lstrip().upper().startswith("INSERT")], queries
    assert _marks(app, tasks.EXPIRING) == [(lease_id, "30d")]


def test_no_warning_for_leases_ending_in_120_days_drafts_or_leases_being_renewed(app, ctx):
    today = local_today(app)
    tenant = make_tenant_with_email(app)
    leased_room_lease(app, tenant, today - timedelta(days=30), today + timedelta(days=120))
    for status in ("draft", "pending_approval"):
        leased_room_lease(app, tenant, today - timedelta(days=30), today + timedelta(days=30),
                          status=status)
    drafted, submitted = (leased_room_lease(app, tenant, today - timedelta(days=300),
                                            today + timedelta(days=30)) for _ in range(2))
    staff = make_user(app, "staff")
    with ctx(staff.id):
        user = db.session.get(User, staff.id)
        for lease_id in (drafted, submitted):
            successor = services.renew(user, db.session.get(Lease, lease_id),
                                       today + timedelta(days=400))
        services.transition(successor, "submit", user)  # the renewal awaits approval
        assert tasks.send_expiry_alerts(today) == 1
    # A renewal still in draft does not stop the warning; one awaiting approval does.
    assert _marks(app, tasks.EXPIRING) == [(drafted, "30d")]


# --- overdue rent ----------------------------------------------------------------------------


def _periods(app, lease_id):
    with app.app_context():
        return list(db.session.execute(
            sa.select(RentPeriod.due_on, RentPeriod.amount_fen, RentPeriod.paid_fen)
            .where(RentPeriod.lease_id == lease_id).order_by(RentPeriod.due_on)).all())


def test_overdue_rent_once_per_period_when_due_before_today_and_unpaid(app, ctx, count_queries):
    today = local_today(app)
    tenant = make_tenant_with_email(app, "late@example.com")
    lease_id = leased_room_lease(app, tenant, today - timedelta(days=75),
                                 today + timedelta(days=290))
    periods = _periods(app, lease_id)
    pay(app, lease_id, periods[0].amount_fen + 100, today)  # the first, and 1 yuan more
    overdue = [p.due_on for p in _periods(app, lease_id) if p.due_on < today
               and p.paid_fen < p.amount_fen]
    assert len(overdue) >= 2  # the second only partly paid, the third not at all
    with ctx():
        assert tasks.send_overdue_alerts(today) == len(overdue)
        with count_queries() as queries:
            assert tasks.send_overdue_alerts(today) == 0
    # What was sent is left out by the query: a quiet tick tries no insert at all.
    assert not [q for q in queries if q.lstrip().upper().startswith("INSERT")], queries
    assert _marks(app, tasks.OVERDUE) == [(lease_id, day.isoformat()) for day in overdue]
    mails = outbox_for(app, "late@example.com", tasks.OVERDUE)
    assert len(mails) == len(overdue) == len(outbox_for(app, _desk(app), tasks.OVERDUE))
    assert "¥4,999.00" in mails[0].body_text  # the second period: 1 yuan of it paid


def test_rent_due_today_is_not_overdue_until_tomorrow(app, ctx):
    today = local_today(app)
    tenant = make_tenant_with_email(app)
    lease_id = leased_room_lease(app, tenant, today, today + timedelta(days=364))
    with ctx():
        assert tasks.send_overdue_alerts(today) == 0
        assert tasks.send_overdue_alerts(today + timedelta(days=1)) == 1
    assert _marks(app, tasks.OVERDUE) == [(lease_id, today.isoformat())]


def test_the_tenant_is_written_to_in_its_accounts_language(app, ctx):
    today = local_today(app)
    english = make_user(app, "client", locale="en")
    chinese = make_user(app, "client")
    for account in (english, chinese):
        tenant = make_tenant_with_email(app, "", user_id=account.id)  # the account's address
        # Started yesterday: exactly one period (due yesterday) is overdue.
        leased_room_lease(app, tenant, today - timedelta(days=1), today + timedelta(days=300))
    with ctx():
        assert tasks.send_overdue_alerts(today) == 2
    [to_english] = outbox_for(app, english.email, tasks.OVERDUE)
    [to_chinese] = outbox_for(app, chinese.email, tasks.OVERDUE)
    due = today - timedelta(days=1)
    assert to_english.subject.startswith("Rent overdue")
    assert f"{due.year}年{due.month}月{due.day}日" in to_chinese.body_text
    assert f"{due.year}年" not in to_english.body_text
    assert [m.recipient for m in all_mail(app) if m.template == tasks.OVERDUE].count(
        _desk(app)) == 2


# --- deposits --------------------------------------------------------------------------------


def test_a_deposit_to_return_is_announced_once_per_ended_lease(app, ctx):
    today = local_today(app)
    tenant = make_tenant_with_email(app, "moved-out@example.com")
    start, end = today - timedelta(days=400), today - timedelta(days=10)
    ended = leased_room_lease(app, tenant, start, end, deposit_due_fen=1_000_000)
    settled = leased_room_lease(app, tenant, start, end)
    no_deposit = leased_room_lease(app, tenant, start, end)
    active = leased_room_lease(app, tenant, today - timedelta(days=10), today + timedelta(days=300))
    for lease_id in (ended, settled, active):
        receive_deposit(app, lease_id, 1_000_000, start)
    for lease_id in (ended, settled, no_deposit):
        end_lease(app, lease_id)
    with ctx():
        services.settle_deposit(db.session.get(User, make_user(app, "staff").id),
                                db.session.get(Lease, settled), 800_000, 200_000, "墙面损坏",
                                today)
        assert tasks.send_deposit_alerts() == 1
        assert tasks.send_deposit_alerts() == 0
    assert _marks(app, tasks.DEPOSIT) == [(ended, "deposit")]
    [mail] = outbox_for(app, "moved-out@example.com", tasks.DEPOSIT)
    assert f"ZL{ended:06d}" in mail.subject and "¥10,000.00" in mail.body_text


# --- the tick --------------------------------------------------------------------------------


def test_tick_ends_finished_leases_and_uses_prepayments_as_periods_fall_due(app, ctx):
    today = local_today(app)
    tenant = make_tenant_with_email(app)
    finished = leased_room_lease(app, tenant, today - timedelta(days=100),
                                 today - timedelta(days=1))
    prepaid = leased_room_lease(app, tenant, today, today + timedelta(days=364))
    pay(app, prepaid, 3 * RENT, today)
    first_of_next = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    with ctx():
        assert tasks.end_finished_leases() == 1 and tasks.end_finished_leases() == 0
        assert db.session.get(Lease, finished).status == "ended"
        credit = db.session.get(Lease, prepaid).payments[0].credit_fen
        assert credit > 0
        assert tasks.apply_credits(first_of_next) == min(credit, RENT)
        assert tasks.apply_credits(first_of_next) == 0
    assert [p.paid_fen for p in _periods(app, prepaid) if p.due_on <= first_of_next] == [
        p.amount_fen for p in _periods(app, prepaid) if p.due_on <= first_of_next]


def test_the_tick_command_sends_each_alert_once(app):
    today = local_today(app)
    tenant = make_tenant_with_email(app)
    leased_room_lease(app, tenant, today - timedelta(days=20), today + timedelta(days=45))
    ended = leased_room_lease(app, tenant, today - timedelta(days=100), today - timedelta(days=2))
    receive_deposit(app, ended, 100_000, today - timedelta(days=100))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tick"])
    assert first.exit_code == 0, first.output
    assert "leases ended: 1" in first.output
    assert "lease expiry alerts: 1" in first.output and "deposit alerts: 1" in first.output
    assert "overdue rent alerts: 0" not in first.output  # both leases owe rent
    second = runner.invoke(args=["tick"])
    for line in ("leases ended: 0", "lease expiry alerts: 0", "overdue rent alerts: 0",
                 "deposit alerts: 0"):
        assert line in second.output


@pytest.mark.live
def test_ticks_at_once_send_each_alert_once_and_use_a_credit_once(live_app):
    """Four ticks released together (two were not enough to catch a credit used twice)."""
    app = live_app
    today = local_today(app)
    later = today + timedelta(days=40)
    tenant = make_tenant_with_email(app, "both@example.com")
    leased_room_lease(app, tenant, today - timedelta(days=70), today + timedelta(days=30))
    finished = leased_room_lease(app, tenant, today - timedelta(days=200),
                                 today - timedelta(days=1))
    receive_deposit(app, finished, 100_000, today - timedelta(days=200))
    prepaid = leased_room_lease(app, tenant, today, today + timedelta(days=364))
    pay(app, prepaid, 3 * RENT, today)
    with app.app_context():
        credit = db.session.scalar(sa.select(Payment.credit_fen).where(Payment.lease_id == prepaid))
    to_apply = min(credit, sum(p.amount_fen for p in _periods(app, prepaid)
                               if today < p.due_on <= later))

    def tick(_n):
        with app.test_request_context(), acting_as(None, "tick"):
            try:
                return [tasks.apply_credits(later), tasks.end_finished_leases(),
                        tasks.send_expiry_alerts(), tasks.send_overdue_alerts(),
                        tasks.send_deposit_alerts()]
            finally:
                db.session.remove()

    results = all_at_once(4, tick)
    assert not [r for r in results if isinstance(r, Exception)], results
    applied, ended, expiring, overdue, deposits = (sum(column) for column in zip(*results,
                                                                                  strict=True))
    assert (ended, expiring, deposits) == (1, 1, 1) and overdue >= 3
    assert applied == to_apply > 0
    with app.app_context():
        alerts = db.session.scalar(sa.select(sa.func.count()).select_from(AlertSent))
        allocated = db.session.scalar(sa.select(sa.func.sum(PaymentAllocation.amount_fen))
                                      .join(Payment).where(Payment.lease_id == prepaid))
        payment = db.session.scalar(sa.select(Payment).where(Payment.lease_id == prepaid))
        paid = db.session.scalar(sa.select(sa.func.sum(RentPeriod.paid_fen))
                                 .where(RentPeriod.lease_id == prepaid))
        assert allocated == paid == payment.amount_fen - payment.credit_fen
    assert alerts == expiring + overdue + deposits
    mails = _alert_mails(app, "both@example.com")
    assert len(mails) == alerts and len({m.subject for m in mails}) == alerts
    assert len(_alert_mails(app, _desk(app))) == alerts


def _alert_mails(app, recipient: str):
    """The alerts in one recipient's mail (not the approval news of the leases made)."""
    return [mail for mail in outbox_for(app, recipient)
            if mail.template in (tasks.EXPIRING, tasks.OVERDUE, tasks.DEPOSIT)]


# --- the home page: the arrears tile and the work list ------------------------------------


def _rentals_tiles(html: str) -> int:
    return len(re.findall(r'<a class="tile [^"]*" href="/rentals/', html))


def _selects(statements) -> int:
    return sum(1 for statement in statements if statement.lstrip().upper().startswith("SELECT"))


def test_arrears_tile_and_work_lines_for_staff_and_admins(app, ctx, login_as, count_queries):
    today = local_today(app)
    tenant = make_tenant_with_email(app)
    other = make_tenant_with_email(app)
    expiring = leased_room_lease(app, tenant, today - timedelta(days=40),
                                 today + timedelta(days=50))
    leased_room_lease(app, other, today - timedelta(days=5), today + timedelta(days=300))
    pending = leased_room_lease(app, other, today, today + timedelta(days=300),
                                status="pending_approval")
    with ctx():
        with count_queries() as queries:
            found = tiles.figures(today)
        assert _selects(queries) == 1
        overdue = sum(entry["total"] for entry in services.arrears(today))
    assert found["overdue_fen"] == overdue > 0 and found["overdue_tenants"] == 2
    admin = login_as("admin")
    admin_home = admin.get("/?lang=en").get_data(as_text=True)
    staff_home = login_as("staff").get("/?lang=en").get_data(as_text=True)
    client_home = login_as("client").get("/").get_data(as_text=True)
    assert _rentals_tiles(admin_home) == _rentals_tiles(staff_home) == 1
    assert '<a class="tile ' not in client_home
    assert 'href="/rentals/reports#arrears"' in staff_home
    lines = work_lines(admin_home)
    assert lines["1 lease awaiting your approval"][0] == \
        "/rentals/leases?status=pending_approval"
    assert Lease.reference_of(pending) in lines["1 lease awaiting your approval"][1]
    expiring_line = lines["1 lease expiring within 90 days"]
    assert expiring_line[0] == "/rentals/leases?need=expiring"
    assert Lease.reference_of(expiring) in expiring_line[1]
    assert "2 leases with rent overdue" in lines
    assert "lease awaiting your approval" not in staff_home
    assert "1 lease expiring within 90 days" in work_lines(staff_home)
    listed = admin.get(expiring_line[0]).get_data(as_text=True)
    assert Lease.reference_of(expiring) in listed and Lease.reference_of(pending) not in listed
    listed = admin.get("/rentals/leases?need=overdue").get_data(as_text=True)
    assert Lease.reference_of(expiring) in listed and Lease.reference_of(pending) not in listed
