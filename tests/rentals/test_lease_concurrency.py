"""Leases under concurrent HTTP requests, on SQLite and PostgreSQL.

* 20 admins approve 20 overlapping leases of one room at the same instant: exactly one lease
  becomes active; the others are refused with the conflict beside the actions (422).
* One payment form (one idempotency key) posted 20 times at the same instant records one
  payment.
"""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.i18n import local_today
from portal.rentals.models import Lease, LeaseRoom, LeaseStatus, Payment, RentPeriod
from tests.conftest import make_user
from tests.helpers import all_at_once
from tests.rentals.factories import make_lease, make_room, make_tenant
from tests.test_concurrency import _TOKEN, THREADS, Browserless

# The two ways a loser hears of the winner: the service's check saw the approved lease, or
# the database guard refused the second active lease while both were being approved.
CONFLICT = ("is leased by ZL", "Another lease of one of these rooms was approved a moment ago.")


@pytest.mark.live
def test_one_of_twenty_simultaneous_approvals_of_one_room_wins(live_server):
    app = live_server.app
    with app.app_context():
        today = local_today()
    room = make_room(app, code="101")
    # Every draft overlaps every other: all start within the first 20 days, run for a year.
    leases = [make_lease(app, make_tenant(app), [room], start=today + timedelta(days=n),
                         end=today + timedelta(days=n + 364), status="pending_approval")
              for n in range(THREADS)]
    admins = []
    for n in range(THREADS):
        account = make_user(app, "admin", email=f"approver{n}@example.com")
        browser = Browserless(live_server.url)
        token = _TOKEN.search(browser.get("/auth/login?lang=en")).group(1)
        status, _ = browser.post("/auth/login", {"email": account.email, "csrf_token": token,
                                                 "password": account.password})
        assert status == 200  # followed the redirect home
        admins.append(browser)
    tokens = [_TOKEN.search(admins[n].get(f"/rentals/leases/{leases[n]}")).group(1)
              for n in range(THREADS)]

    def approve(n):
        return admins[n].post(f"/rentals/leases/{leases[n]}/approve",
                              {"csrf_token": tokens[n]})

    results = all_at_once(THREADS, approve)

    statuses = sorted(status for status, _ in results)
    assert len(results) == THREADS
    assert statuses.count(200) == 1, statuses  # the winner followed the redirect
    [winner] = [n for n, (status, _) in enumerate(results) if status == 200]
    assert "Active." in results[winner][1]
    refused = [body for status, body in results if status == 422]
    assert len(refused) == THREADS - 1, statuses
    assert all(any(message in body for message in CONFLICT) for body in refused)
    with app.app_context():
        active = db.session.scalars(sa.select(Lease.id).where(
            Lease.status == LeaseStatus.ACTIVE)).all()
        assert active == [leases[winner]]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Lease).where(
            Lease.status == LeaseStatus.PENDING)) == THREADS - 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LeaseRoom).where(
            LeaseRoom.room_id == room, LeaseRoom.active)) == 1
        db.session.remove()


@pytest.mark.live
def test_one_payment_form_posted_twenty_times_at_once_records_one_payment(live_server):
    app = live_server.app
    with app.app_context():
        today = local_today()
    lease_id = make_lease(app, make_tenant(app), [make_room(app)],
                          start=today - timedelta(days=75))
    path = f"/rentals/leases/{lease_id}"
    clerks = []
    for n in range(THREADS):
        account = make_user(app, "staff", email=f"clerk{n}@example.com")
        browser = Browserless(live_server.url)
        token = _TOKEN.search(browser.get("/auth/login?lang=en")).group(1)
        browser.post("/auth/login", {"email": account.email, "csrf_token": token,
                                     "password": account.password})
        clerks.append(browser)
    tokens = [_TOKEN.search(clerk.get(path)).group(1) for clerk in clerks]

    def pay(n):
        # The same form (one idempotency key) sent again and again, as by a double click
        # on a slow line and retries.
        return clerks[n].post(f"{path}/payments", {
            "csrf_token": tokens[n], "paid_on": today.isoformat(), "amount": "1234.50",
            "method": "bank_transfer", "receipt_no": "SJ-9", "idempotency_key": "f" * 32})

    results = all_at_once(THREADS, pay)

    assert sorted(status for status, _ in results) == [200] * THREADS  # all redirected back
    assert sum("A payment of CN¥1,234.50 is recorded." in body for _, body in results) == 1
    assert sum("recorded already" in body for _, body in results) == THREADS - 1
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1
        assert db.session.scalar(sa.select(sa.func.sum(RentPeriod.paid_fen)).where(
            RentPeriod.lease_id == lease_id)) == 123_450
        db.session.remove()
