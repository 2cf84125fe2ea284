"""Simultaneous renewals of one contract, on SQLite and PostgreSQL: exactly one successor is
linked; the others are refused with a message (the row lock, and the unique successor)."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.i18n import local_today
from portal.suppliers.models import ServiceContract
from tests.conftest import make_user
from tests.feedback.factories import make_category, make_contract, make_supplier
from tests.helpers import all_at_once
from tests.test_concurrency import _TOKEN, Browserless

RENEWALS = 8


@pytest.mark.live
def test_one_of_simultaneous_renewals_wins(live_server):
    app = live_server.app
    with app.app_context():
        today = local_today()
    category = make_category(app)
    supplier = make_supplier(app, category_ids=(category,))
    contract = make_contract(app, supplier, category, starts_on=today - timedelta(days=300),
                             ends_on=today + timedelta(days=64), number="HT-RACE")
    staff = []
    for n in range(RENEWALS):
        account = make_user(app, "staff", email=f"renewer{n}@example.com")
        browser = Browserless(live_server.url)
        token = _TOKEN.search(browser.get("/auth/login?lang=en")).group(1)
        status, _ = browser.post("/auth/login", {"email": account.email, "csrf_token": token,
                                                 "password": account.password})
        assert status == 200
        staff.append(browser)
    path = f"/suppliers/contracts/{contract}/renew"
    tokens = [_TOKEN.search(browser.get(path)).group(1) for browser in staff]

    def renew(n):
        return staff[n].post(path, {
            "csrf_token": tokens[n], "supplier_id": str(supplier), "category_id": str(category),
            "number": f"HT-RACE-{n}", "title": "续签", "amount": "1000",
            "starts_on": (today + timedelta(days=65)).isoformat(),
            "ends_on": (today + timedelta(days=429)).isoformat(), "payment_terms": "",
            "response_hours": "2", "fix_hours": "24"})

    results = all_at_once(RENEWALS, renew)
    # A loser hears it from the form (422: it was renewed while it waited for the lock) or,
    # arriving after the winner committed, is sent to the renewal with the same message.
    saved = [n for n, (status, body) in enumerate(results)
             if status == 200 and "The contract is saved." in body]
    assert len(saved) == 1, [status for status, _ in results]
    assert all(status in (200, 422) and "already been renewed" in body
               for n, (status, body) in enumerate(results) if n not in saved)
    with app.app_context():
        old = db.session.get(ServiceContract, contract)
        assert old.successor_id is not None
        renewals = db.session.scalar(sa.select(sa.func.count()).select_from(ServiceContract)
                                     .where(ServiceContract.number.like("HT-RACE-%")))
        assert renewals == 1
