"""Conflicting steps on one lease or its deposit at the same instant, through real HTTP
(separate signed-in sessions released by a barrier), on SQLite and PostgreSQL: exactly one
change in the audit trail, one set of mails, every loser told who changed it, never a 500.
Also: a termination and an overlapping approval at the same instant never leave two leases on
one room's days."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.extensions import db
from portal.rentals.models import Lease, LeaseRoom
from tests.conftest import make_user
from tests.helpers import bureau_today, outbox_for
from tests.races import Attempt, assert_one_step, race, signed_in
from tests.rentals.alert_factories import make_tenant_with_email, receive_deposit
from tests.rentals.factories import make_lease, make_room

TENANT_EMAIL = "zuhu@example.com"


def _people(live_server, role: str, count: int, page: str):
    app = live_server.app
    accounts = [make_user(app, role, email=f"{role}-racer{n}@example.com", name=f"{role}人员{n}")
                for n in range(count)]
    return [signed_in(live_server, account, page) for account in accounts]


def _lease(app, status: str, start_days: int = -100, **fields) -> int:
    today = bureau_today(app)
    tenant = make_tenant_with_email(app, TENANT_EMAIL)
    start = today + timedelta(days=start_days)
    return make_lease(app, tenant, [make_room(app)], start=start,
                      end=start + timedelta(days=364), status=status, **fields)


@pytest.mark.live
@pytest.mark.parametrize("moves", [
    [("approve", {})] * 4,
    [("approve", {}), ("send_back", {"reason": "租金需复核"})] * 2,
], ids=["four-approvals", "approve-and-send-back"])
def test_conflicting_decisions_on_one_lease_take_effect_once(live_server, moves):
    app = live_server.app
    lease_id = _lease(app, "pending_approval", start_days=10)
    page = f"/rentals/leases/{lease_id}"
    admins = _people(live_server, "admin", len(moves), page)
    attempts = [Attempt(browser, f"{page}/{name}", {"expected_status": "pending_approval",
                                                    **fields})
                for browser, (name, fields) in zip(admins, moves, strict=True)]

    [(old, new)] = assert_one_step(race(attempts), app, "lease", lease_id, before_changes=1)

    assert old == "pending_approval" and new in ("active", "draft")
    with app.app_context():
        lease = db.session.get(Lease, lease_id)
        assert lease.status == new
        assert (lease.approved_at is not None) == (new == "active")
        assert [item.active for item in lease.rooms] == [new == "active"]
        db.session.remove()
    # The tenant hears of an approval once; a lease sent back stays between staff.
    assert len(outbox_for(app, TENANT_EMAIL, "lease_status")) == (1 if new == "active" else 0)


@pytest.mark.live
def test_three_terminations_at_once_end_the_lease_once(live_server):
    app = live_server.app
    lease_id = _lease(app, "active")
    today = bureau_today(app)
    page = f"/rentals/leases/{lease_id}"
    clerks = _people(live_server, "staff", 3, page)
    last_days = [today + timedelta(days=days) for days in (21, 30, 40)]
    attempts = [Attempt(browser, f"{page}/terminate", {
        "expected_status": "active", "reason": "企业搬迁", "terminated_on": day.isoformat()})
        for browser, day in zip(clerks, last_days, strict=True)]

    [(old, new)] = assert_one_step(race(attempts), app, "lease", lease_id, before_changes=2)

    assert (old, new) == ("active", "terminated")
    with app.app_context():
        lease = db.session.get(Lease, lease_id)
        assert lease.terminated_on in last_days
        # The rooms are held to the winner's last day, not switched off.
        assert [(item.active, item.ends_before) for item in lease.rooms] == [
            (True, lease.terminated_on + timedelta(days=1))]
        db.session.remove()
    assert len(outbox_for(app, TENANT_EMAIL, "lease_status")) == 2  # approved, terminated


@pytest.mark.live
@pytest.mark.parametrize("step", ["settle", "receive"])
def test_conflicting_deposit_steps_take_effect_once(live_server, step):
    app = live_server.app
    today = bureau_today(app)
    lease_id = _lease(app, "active", deposit_due_fen=500_000)
    page = f"/rentals/leases/{lease_id}"
    if step == "settle":
        receive_deposit(app, lease_id, 500_000, today - timedelta(days=90))
        path, seen, before = f"{page}/deposit/settle", "received", 1
        amounts = [("5000", "0", ""), ("4000", "1000", "墙面修复"), ("3000", "2000", "门锁更换")]
        fields = [{"returned": r, "deducted": d, "deduction_reason": why,
                   "settled_on": today.isoformat()} for r, d, why in amounts]
    else:
        path, seen, before = f"{page}/deposit", "none", 0
        fields = [{"deposit_received": amount, "received_on": today.isoformat()}
                  for amount in ("5000", "4800", "5200")]
    clerks = _people(live_server, "staff", len(fields), page)
    attempts = [Attempt(browser, path, {"expected_status": seen, **values})
                for browser, values in zip(clerks, fields, strict=True)]

    results = race(attempts)

    [(old, new)] = assert_one_step(results, app, "lease", lease_id, before_changes=before,
                                   column="deposit_status")
    assert old == seen and new == ("settled" if step == "settle" else "received")
    with app.app_context():
        lease = db.session.get(Lease, lease_id)
        if step == "settle":  # one of the three settlements, whole
            assert (lease.deposit_returned_fen + lease.deposit_deducted_fen,
                    lease.deposit_settled_on) == (500_000, today)
        else:
            assert lease.deposit_received_fen in (500_000, 480_000, 520_000)
        db.session.remove()


@pytest.mark.live
def test_three_renewals_at_once_draft_one_successor(live_server):
    app = live_server.app
    lease_id = _lease(app, "active", start_days=-300)
    page = f"/rentals/leases/{lease_id}"
    clerks = _people(live_server, "staff", 3, page)
    with app.app_context():
        end = db.session.get(Lease, lease_id).end_date
        db.session.remove()
    attempts = [Attempt(browser, f"{page}/renew", {"end": (end + timedelta(days=365)).isoformat()})
                for browser in clerks]

    results = race(attempts)

    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 422, 422], statuses  # the winner followed the redirect
    with app.app_context():
        successors = db.session.scalars(sa.select(Lease).where(
            Lease.predecessor_id == lease_id)).all()
        assert [lease.status for lease in successors] == ["draft"]
        reference = successors[0].reference
        db.session.remove()
    # Each loser is told, beside the new last day, which renewal was drafted meanwhile.
    for status, body in results:
        if status == 422:
            assert 'id="end-error"' in body and reference in body, body[:2000]


@pytest.mark.live
def test_a_termination_and_an_overlapping_approval_at_once_never_share_a_day(live_server):
    """Lease A is terminated with three weeks left while admins approve lease B of the same
    room from two weeks on: whichever commits first, B overlaps A's remaining days and is
    refused; the room is never leased twice."""
    app = live_server.app
    today = bureau_today(app)
    room = make_room(app)
    tenant = make_tenant_with_email(app, TENANT_EMAIL)
    first = make_lease(app, tenant, [room], start=today - timedelta(days=200),
                       end=today + timedelta(days=160))
    # B cannot be drafted on the room while A holds it (the service refuses); it is put in
    # the admins' queue on it directly, to race the approval against the termination.
    second = make_lease(app, make_tenant_with_email(app), [make_room(app)],
                        start=today + timedelta(days=14), end=today + timedelta(days=400),
                        status="pending_approval")
    with app.app_context():
        db.session.execute(sa.update(LeaseRoom).where(LeaseRoom.lease_id == second)
                           .values(room_id=room))
        db.session.commit()
        db.session.remove()
    clerk = signed_in(live_server, make_user(app, "staff", email="clerk@example.com"),
                      f"/rentals/leases/{first}")
    admins = _people(live_server, "admin", 2, f"/rentals/leases/{second}")
    attempts = [Attempt(clerk, f"/rentals/leases/{first}/terminate", {
        "expected_status": "active", "reason": "提前退租",
        "terminated_on": (today + timedelta(days=21)).isoformat()})] + [
        Attempt(admin, f"/rentals/leases/{second}/approve", {"expected_status": "pending_approval"})
        for admin in admins]

    results = race(attempts)

    statuses = [status for status, _ in results]
    assert 500 not in statuses, statuses
    assert statuses[0] == 200, statuses  # the termination went through
    assert all(status in (409, 422) for status in statuses[1:]), statuses
    # Each admin is told which lease holds the room over those days.
    assert all(f"ZL{first:06d}" in body for _, body in results[1:]), results[1][1][:2000]
    with app.app_context():
        assert db.session.get(Lease, first).status == "terminated"
        assert db.session.get(Lease, second).status == "pending_approval"
        active = db.session.execute(sa.select(LeaseRoom.starts_on, LeaseRoom.ends_before).where(
            LeaseRoom.room_id == room, LeaseRoom.active)).all()
        assert active == [(today - timedelta(days=200), today + timedelta(days=22))]
        db.session.remove()
