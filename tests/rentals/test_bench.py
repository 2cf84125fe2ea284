"""The rentals benchmark dataset (``flask bench-seed-rentals``), at a small size."""

from __future__ import annotations

import json

import sqlalchemy as sa

from portal.extensions import db
from portal.rentals.models import (
    Lease,
    LeaseRoom,
    PaymentAllocation,
    RentPeriod,
    Room,
    Tenant,
)
from portal.validators import is_valid_resident_id, is_valid_uscc

SIZES = ["--rooms", "30", "--leases", "60", "--periods", "1500"]


def test_seed_rentals_small(app):
    runner = app.test_cli_runner()
    before = runner.invoke(args=["bench-seed-rentals", *SIZES, "--check"])
    assert before.exit_code == 3
    result = runner.invoke(args=["bench-seed-rentals", *SIZES])
    assert result.exit_code == 0, result.output
    state = json.loads(result.output.strip().splitlines()[-1])
    assert (state["rooms"], state["leases"], state["periods"]) == (30, 60, 1500)
    assert runner.invoke(args=["bench-seed-rentals", *SIZES, "--check"]).exit_code == 0
    # A second seeding of another size is refused rather than mixed in.
    other = runner.invoke(args=["bench-seed-rentals", "--rooms", "31", "--leases", "60",
                                "--periods", "1500"])
    assert other.exit_code != 0

    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Room)) == 30
        for uscc, id_number in db.session.execute(sa.select(Tenant.uscc, Tenant.id_number)):
            assert is_valid_uscc(uscc) if uscc else is_valid_resident_id(id_number)
        # Each room: one ended lease, then one active one, not overlapping.
        for room_id in db.session.scalars(sa.select(Room.id)):
            spans = db.session.execute(
                sa.select(LeaseRoom.starts_on, LeaseRoom.ends_before, LeaseRoom.active)
                .where(LeaseRoom.room_id == room_id).order_by(LeaseRoom.starts_on)).all()
            # Both keep their true periods (an ended lease held the room until its end).
            assert [active for _s, _e, active in spans] == [True, True]
            assert spans[0].ends_before <= spans[1].starts_on
        statuses = dict(db.session.execute(
            sa.select(Lease.status, sa.func.count()).group_by(Lease.status)).all())
        assert statuses == {"ended": 30, "active": 30}
        paid = db.session.scalar(sa.select(sa.func.sum(RentPeriod.paid_fen)))
        allocated = db.session.scalar(sa.select(sa.func.sum(PaymentAllocation.amount_fen)))
        assert paid == allocated > 0
