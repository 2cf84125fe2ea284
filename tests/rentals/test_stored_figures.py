"""The rentals' figures of what has ended, stored (rentals.reports.RENT_INCOME per month,
LEASE_MOVEMENTS per period; portal/stored_figures.py): equal to a live recount after each
kind of write, read back without summing the rent or the leases, and left alone by a write
to other months or years."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from portal.i18n import local_today
from portal.rentals import inventory, reports, services
from portal.rentals.models import Lease, Payment, Room
from portal.reporting import Period, months_of
from tests.conftest import make_user
from tests.helpers import figures_request
from tests.rentals.alert_factories import leased_room_lease, make_tenant_with_email, pay


def _run(app, count_queries, periods, live=False):
    """(the income tables' rows and totals, the lease movements, whether the rent was
    summed, whether the leases were counted) as a request would get them."""
    with figures_request(app, live), count_queries() as queries:
        tables = reports.income_tables(periods)
        movements = reports.lease_movements_of(periods)
    figures = ([(table.rows, table.totals) for table in tables], movements)
    return (figures, any("FROM rent_period" in q for q in queries),
            any("lease.predecessor_id" in q for q in queries))


def _month_start(day: date, back: int) -> date:
    month = day.year * 12 + day.month - 1 - back
    return date(month // 12, month % 12 + 1, 1)


def test_stored_rent_and_lease_figures_equal_a_live_recount(app, count_queries):
    with app.test_request_context():
        today = local_today()
    this_month = _month_start(today, 0)
    closed = Period(_month_start(today, 6), this_month)  # six months that have ended
    open_ = Period(this_month, _month_start(today, -1))
    older = Period(_month_start(today, 8), _month_start(today, 7))  # another year, maybe
    periods = [closed, open_, older]
    tenant = make_tenant_with_email(app)
    old = leased_room_lease(app, tenant, _month_start(today, 8), today + timedelta(days=120))
    new = leased_room_lease(app, tenant, this_month, this_month + timedelta(days=364))
    old_payment = pay(app, old, 2_000_000, _month_start(today, 5) + timedelta(days=3))

    def live():
        return _run(app, count_queries, periods, live=True)[0]

    cold, summed, counted = _run(app, count_queries, periods)
    assert summed and counted and cold == live()
    (rows, totals), = cold[0][:1]
    assert len(rows) == 6 and totals[1] > 0 and totals[5] == 2_000_000
    assert cold[1][0].new == 0 and cold[1][1].new == 1 and cold[1][0].rooms_leased == 1
    warm, summed, counted = _run(app, count_queries, [closed, older])
    assert not summed and not counted  # read stored
    assert warm == ([cold[0][0], cold[0][2]], [cold[1][0], cold[1][2]])

    # Rent of this month paid: the months that have ended stay stored.
    pay(app, new, 100_000, today)
    again, summed, _counted = _run(app, count_queries, [closed, older])
    assert not summed and again[0] == warm[0]
    assert _run(app, count_queries, periods)[0] == live()

    # A receipt of an ended month voided: that money is owed again, summed afresh.
    staff = make_user(app, "staff")
    with app.test_request_context():
        services.void_receipt(db.session.get(User, staff.id),
                              db.session.get(Payment, old_payment), "退回")
    after, summed, _counted = _run(app, count_queries, [closed, older])
    assert summed and after[0] != warm[0] and after[0][0][1][5] == 0
    assert _run(app, count_queries, periods)[0] == live()

    # A lease terminated on a day that has passed: the leases counted afresh.
    with app.test_request_context():
        services.transition(db.session.get(Lease, old), "terminate",
                            db.session.get(User, staff.id), reason="提前退租",
                            on=_month_start(today, 2) + timedelta(days=9))
    ended, _summed, counted = _run(app, count_queries, [closed, older])
    assert counted and ended[1][0].terminated == 1
    assert _run(app, count_queries, periods)[0] == live()

    # A room's area corrected: the area leased counted afresh.
    with app.test_request_context():
        room = db.session.scalar(sa.select(Room).join(Room.building).where(
            Room.id.in_(sa.select(sa.text("room_id")).select_from(sa.text("lease_room"))
                        .where(sa.text(f"lease_id = {old}")))))
        inventory.save_room(room, inventory.RoomInput(
            building_id=room.building_id, code=room.code, area_m2=Decimal("61.5"),
            use_type=room.use_type, rent_standard_fen=room.rent_standard_fen,
            status=room.status))
    larger, _summed, counted = _run(app, count_queries, [closed, older])
    assert counted and larger[1][0].area_leased == Decimal("61.5")
    assert _run(app, count_queries, periods)[0] == live()
    quiet, summed, counted = _run(app, count_queries, [closed, older])
    assert not summed and not counted and quiet == larger

    with app.test_request_context():
        stored = dict(db.session.execute(sa.text(
            "SELECT source, count(*) FROM stored_figure GROUP BY source")).all())
    # The months that have ended, once each (this month never); the two closed periods.
    assert stored == {"rentals.rent_income": len(months_of(closed.first, closed.end)) + 1,
                      "rentals.lease_movements": 2}
