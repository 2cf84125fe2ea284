"""Receipt numbers under concurrent payments, through real HTTP on SQLite and PostgreSQL:
payments of several leases (and one lease) recorded at the same instant take consecutive
numbers of the year, without gaps or duplicates; and two staff voiding one receipt at once void
it once (the other is told who did it, 409), its number kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.rentals.models import Payment, ReceiptCounter
from tests.conftest import make_user
from tests.helpers import bureau_today
from tests.races import Attempt, assert_one_step, race, signed_in
from tests.rentals.alert_factories import pay
from tests.rentals.factories import make_lease, make_room, make_tenant

PAYERS = 8


def _clerks(live_server, count: int, page: str):
    accounts = [make_user(live_server.app, "staff", email=f"receipt-clerk{n}@example.com")
                for n in range(count)]
    return [signed_in(live_server, account, page) for account in accounts]


@pytest.mark.live
def test_concurrent_payments_take_consecutive_receipt_numbers(live_server):
    app = live_server.app
    today = bureau_today(app)
    # Half the payments on one lease (they queue on its lock), half on leases of their own.
    shared = make_lease(app, make_tenant(app), [make_room(app)],
                        start=today - timedelta(days=75))
    leases = [shared] * (PAYERS // 2) + [
        make_lease(app, make_tenant(app), [make_room(app)], start=today - timedelta(days=75))
        for _ in range(PAYERS - PAYERS // 2)]
    clerks = _clerks(live_server, PAYERS, f"/rentals/leases/{shared}")
    attempts = [Attempt(clerk, f"/rentals/leases/{lease}/payments", {
        "paid_on": today.isoformat(), "amount": "100.00", "method": "bank_transfer",
        "receipt_no": "", "idempotency_key": f"{n:032x}"})
        for n, (clerk, lease) in enumerate(zip(clerks, leases, strict=True))]

    results = race(attempts)

    assert [status for status, _ in results] == [200] * PAYERS  # each redirected back
    with app.app_context():
        numbers = sorted(db.session.scalars(sa.select(Payment.receipt_number).where(
            Payment.receipt_year == today.year)))
        codes = set(db.session.scalars(sa.select(Payment.receipt_code)))
        assert numbers == list(range(1, PAYERS + 1))  # consecutive: no gap, no duplicate
        assert codes == {f"{today.year}-{n:06d}" for n in range(1, PAYERS + 1)}
        assert db.session.get(ReceiptCounter, today.year).last_number == PAYERS
        db.session.remove()


@pytest.mark.live
def test_two_staff_voiding_one_receipt_void_it_once(live_server):
    app = live_server.app
    today = bureau_today(app)
    lease = make_lease(app, make_tenant(app), [make_room(app)], start=today - timedelta(days=75))
    payment_id = pay(app, lease, 30_000, today)
    page = f"/rentals/leases/{lease}/payments/{payment_id}/receipt"
    clerks = _clerks(live_server, 3, page)
    attempts = [Attempt(clerk, f"/rentals/leases/{lease}/payments/{payment_id}/void",
                        {"reason": f"作废{n}", "expected_status": "issued"})
                for n, clerk in enumerate(clerks)]

    [(old, new)] = assert_one_step(race(attempts), app, "payment", payment_id,
                                   column="receipt_status")

    assert (old, new) == ("issued", "voided")
    with app.app_context():
        payment = db.session.get(Payment, payment_id)
        assert payment.voided and payment.receipt_number == 1
        db.session.remove()
