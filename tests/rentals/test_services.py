"""Rental rules through the services: leases, the room guard, payments, arrears."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.database import write_transaction
from portal.errors import Conflict, NotAllowed, ServiceError
from portal.extensions import db
from portal.i18n import local_today
from portal.periods import is_overlap_violation
from portal.rentals import services
from portal.rentals.models import (
    Building,
    Lease,
    LeaseStatus,
    Payment,
    RentPeriod,
    Room,
    RoomStatus,
    Tenant,
)
from portal.validators import uscc_check_char
from tests.conftest import make_user


def _uscc(n: int) -> str:
    first17 = f"91310116MA{n:07d}"
    return first17 + uscc_check_char(first17)


@pytest.fixture
def world(app):
    """A building with rooms, a tenant, a staff member and an admin."""
    staff, admin = make_user(app, "staff"), make_user(app, "admin")
    with app.test_request_context(), write_transaction():
        building = Building(name="区政府大院2号楼", address="朱泾镇")
        db.session.add(building)
        rooms = [Room(building=building, code=code, area_m2=Decimal(area), rent_standard_fen=fen,
                      status=status, office_department=department)
                 for code, area, fen, status, department in [
                     ("101", "50.00", 6_000, RoomStatus.IDLE, ""),
                     ("102", "30.50", 6_000, RoomStatus.IDLE, ""),
                     ("201", "80.00", 5_000, RoomStatus.RESERVED_FOR_OFFICE, "区财政局"),
                     ("301", "20.00", 5_000, RoomStatus.UNDER_RENOVATION, "")]]
        db.session.add_all(rooms)
        tenant = Tenant(kind="organisation", name="金山商贸有限公司", uscc=_uscc(1),
                        email="shop@example.com")
        db.session.add(tenant)
        db.session.flush()
        ids = {"rooms": [room.id for room in rooms], "tenant": tenant.id}
    return {**ids, "staff": staff.id, "admin": admin.id}


def _user(user_id):
    return db.session.get(User, user_id)


def _lease(world, rooms=None, start=date(2026, 1, 1), end=date(2026, 12, 31), **extra):
    return services.LeaseInput(tenant_id=world["tenant"], room_ids=rooms or [world["rooms"][0]],
                               start=start, end=end, **extra)


def _active_lease(app, world, **extra) -> int:
    with app.test_request_context():
        lease = services.save_lease(_user(world["staff"]), None, _lease(world, **extra))
        services.transition(lease, "submit", _user(world["staff"]))
        services.transition(lease, "approve", _user(world["admin"]))
        return lease.id


def test_draft_rent_defaults_to_area_times_standard_with_a_schedule(app, world):
    with app.test_request_context():
        lease = services.save_lease(_user(world["staff"]), None,
                                    _lease(world, rooms=world["rooms"][:2]))
        assert lease.monthly_rent_fen == 300_000 + 183_000
        assert len(lease.periods) == 12 and lease.status == LeaseStatus.DRAFT
        assert all(not item.active for item in lease.rooms)  # a draft holds no room
        assert sum(p.amount_fen for p in lease.periods) == 12 * 483_000


def test_rent_override_needs_a_reason(app, world):
    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            services.save_lease(_user(world["staff"]), None,
                                _lease(world, monthly_rent_fen=250_000))
        assert refused.value.field == "rent_override_reason"
        lease = services.save_lease(_user(world["staff"]), None, _lease(
            world, monthly_rent_fen=250_000, rent_override_reason="招商优惠"))
        assert lease.monthly_rent_fen == 250_000


@pytest.mark.parametrize("index, message", [(2, "办公用房"), (3, "不能出租")])
def test_office_space_and_unavailable_rooms_refuse_leases(app, world, index, message):
    with app.test_request_context(), pytest.raises(Conflict, match=message):
        room = world["rooms"][index]
        services.save_lease(_user(world["staff"]), None, _lease(world, rooms=[room]))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Lease)) == 0


def test_bad_terms_are_refused(app, world):
    with app.test_request_context():
        staff = _user(world["staff"])
        with pytest.raises(ServiceError) as refused:
            services.save_lease(staff, None, _lease(world, end=date(2025, 12, 31)))
        assert refused.value.field == "end"
        with pytest.raises(ServiceError) as refused:
            services.save_lease(staff, None, _lease(world, rent_free_until=date(2027, 3, 1)))
        assert refused.value.field == "rent_free_until"


def test_only_an_admin_approves_and_approval_holds_the_rooms(app, world):
    with app.test_request_context():
        lease = services.save_lease(_user(world["staff"]), None, _lease(world))
        services.transition(lease, "submit", _user(world["staff"]))
        with pytest.raises(NotAllowed):
            services.transition(lease, "approve", _user(world["staff"]))
        with pytest.raises(NotAllowed, match="原因"):
            services.transition(lease, "send_back", _user(world["admin"]))
        services.transition(lease, "approve", _user(world["admin"]))
        assert lease.status == LeaseStatus.ACTIVE and lease.rooms[0].active
        # The room now shows as leased (derived) while its stored status stays idle.
        on = date(2026, 6, 1)
        assert world["rooms"][0] in set(db.session.scalars(services.leased_room_ids(on)))
        with pytest.raises(Conflict, match="已由合同"):
            services.save_lease(_user(world["staff"]), None,
                                _lease(world, start=date(2026, 6, 1), end=date(2027, 5, 31)))
        with pytest.raises(Conflict, match="已出租"):
            services.set_room_status(db.session.get(Room, world["rooms"][0]),
                                     RoomStatus.UNDER_RENOVATION)


def test_the_database_refuses_two_active_leases_of_a_room(app, world):
    first = _active_lease(app, world)
    with app.test_request_context():
        lease = services.save_lease(_user(world["staff"]), None,
                                    _lease(world, start=date(2027, 1, 1), end=date(2027, 6, 30)))
        item = lease.rooms[0]
        with pytest.raises(sa.exc.IntegrityError) as error, write_transaction():
            item.starts_on = date(2026, 12, 1)  # overlaps the first lease's December
            item.active = True
        assert is_overlap_violation(error.value)
        # Back to back (the day after the first lease ends) is fine.
        with write_transaction():
            db.session.refresh(item)
            item.active = True
    assert first


def test_payments_pay_the_oldest_periods_first_and_keep_credit(app, world):
    lease_id = _active_lease(app, world)
    with app.test_request_context():
        staff, lease = _user(world["staff"]), db.session.get(Lease, lease_id)
        on = date(2026, 3, 15)
        payment, created = services.record_payment(staff, lease, on, 450_000, "bank_transfer",
                                                   "R-001", "key-1")
        assert created and payment.credit_fen == 0
        paid = [p.paid_fen for p in sorted(lease.periods, key=lambda p: p.starts_on)][:3]
        assert paid == [300_000, 150_000, 0]  # January in full, February half, March nothing
        again, created = services.record_payment(staff, lease, on, 450_000, "bank_transfer",
                                                 "R-001", "key-1")
        assert not created and again.id == payment.id  # the same form twice: one payment
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 1
        with pytest.raises(ServiceError):
            services.record_payment(staff, lease, on, 0, "cash", "", "key-2")


def test_arrears_age_into_buckets(app, world):
    lease_id = _active_lease(app, world)
    with app.test_request_context():
        lease = db.session.get(Lease, lease_id)
        on = date(2026, 5, 10)  # Jan..May are due; none paid
        services.record_payment(_user(world["staff"]), lease, date(2026, 1, 5), 300_000, "cash",
                                "", "k-jan")
        [entry] = services.arrears(on=on)
        assert entry["tenant"] == "金山商贸有限公司"
        # Feb (98 days overdue), Mar (70), Apr (39), May (9): 91+ / 31-90 / 0-30
        assert entry["buckets"] == [300_000, 600_000, 300_000]
        assert entry["total"] == 1_200_000 and entry["oldest_days"] == 98
        # At the buckets' bounds (summed in SQL by the due day): Apr 1 is 30 days overdue on
        # May 1 and 31 on May 2; Feb 1 is 90 days overdue on May 2 and 91 on May 3.
        dues = [date(2026, month, 1) for month in (2, 3, 4, 5)]
        for day in (date(2026, 5, 1), date(2026, 5, 2), date(2026, 5, 3)):
            expected = [0, 0, 0]
            for due in dues:
                if due < day:
                    age = (day - due).days
                    expected[0 if age <= 30 else 1 if age <= 90 else 2] += 300_000
            [entry] = services.arrears(on=day)
            assert entry["buckets"] == expected, day
            assert entry["oldest_days"] == (day - dues[0]).days
            # The work report's total, summed in SQL: the same figure.
            assert services.arrears_total(day) == sum(expected) == entry["total"]
        assert services.arrears_total(date(2026, 1, 1)) == 0  # nothing due yet
        balance = services.lease_balance(lease, on=on)
        assert balance["overdue"] == 1_200_000 and balance["paid"] == 300_000
        # The lease lists' aggregate (one query for a page of leases) is the same figure,
        # on every day; a lease not in force owes nothing and is absent.
        for day in (on, date(2026, 1, 1), date(2026, 2, 2), date(2027, 6, 1)):
            expected = services.lease_balance(lease, on=day)["overdue"]
            assert services.overdue_by_lease([lease.id], day).get(lease.id, 0) == expected
        assert services.overdue_by_lease([], on) == {}


def test_prepayment_credit_is_used_as_periods_fall_due(app, world):
    with app.app_context():
        start = services.today() + timedelta(days=40)
        start = date(start.year + (start.month == 12), start.month % 12 + 1, 1)  # a 1st
    lease_id = _active_lease(app, world, start=start, end=start + timedelta(days=364))
    with app.test_request_context():
        lease = db.session.get(Lease, lease_id)
        payment, _ = services.record_payment(_user(world["staff"]), lease, services.today(),
                                             500_000, "bank_transfer", "", "k-pre")
        assert payment.credit_fen == 500_000  # nothing is due yet: all of it is credit
        assert services.apply_credits(on=start - timedelta(days=1)) == 0
        assert services.apply_credits(on=start) == 300_000  # the first month falls due
        db.session.refresh(payment)
        assert payment.credit_fen == 200_000
        assert sorted(lease.periods, key=lambda p: p.starts_on)[0].paid_fen == 300_000


def test_termination_stops_the_rent_and_shortens_the_rooms_period(app, world):
    lease_id = _active_lease(app, world)
    with app.test_request_context():
        lease = db.session.get(Lease, lease_id)
        admin = _user(world["admin"])
        with pytest.raises(ServiceError) as refused:
            services.transition(lease, "terminate", admin, reason="搬迁", on=date(2027, 2, 1))
        assert refused.value.field == "terminated_on"
        services.transition(lease, "terminate", admin, reason="企业搬迁", on=date(2026, 6, 30))
        assert lease.status == LeaseStatus.TERMINATED
        # The rooms stay leased up to the last day: the period is shortened, not switched off.
        assert [(item.active, item.ends_before) for item in lease.rooms] == [
            (True, date(2026, 7, 1))]
        assert max(p.starts_on for p in lease.periods) <= date(2026, 6, 30)
        # The days the tenant still had are not free; those after the last day are.
        with pytest.raises(Conflict) as taken:
            services.save_lease(_user(world["staff"]), None,
                                _lease(world, start=date(2026, 6, 1), end=date(2027, 5, 31)))
        assert taken.value.field == "room_ids"
        services.save_lease(_user(world["staff"]), None,
                            _lease(world, start=date(2026, 7, 1), end=date(2027, 6, 30)))


def test_renewal_creates_a_linked_successor(app, world):
    lease_id = _active_lease(app, world)
    with app.test_request_context():
        lease = db.session.get(Lease, lease_id)
        successor = services.renew(_user(world["staff"]), lease, date(2027, 12, 31))
        assert successor.predecessor_id == lease.id
        assert successor.start_date == date(2027, 1, 1) and successor.status == "draft"


def test_deposit_settlement_must_add_up(app, world):
    lease_id = _active_lease(app, world)
    with app.test_request_context():
        lease = db.session.get(Lease, lease_id)
        staff, today = _user(world["staff"]), local_today()
        services.record_deposit(staff, lease, 600_000, date(2026, 1, 1))
        with pytest.raises(ServiceError) as refused:
            services.settle_deposit(staff, lease, 500_000, 0, "", today)
        assert refused.value.field == "returned"
        with pytest.raises(ServiceError) as refused:
            services.settle_deposit(staff, lease, 500_000, 100_000, "", today)
        assert refused.value.field == "deduction_reason"
        with pytest.raises(ServiceError) as refused:  # every problem at once
            services.settle_deposit(staff, lease, 400_000, 100_000, " ", today)
        assert set(refused.value.fields) == {"returned", "deduction_reason"}
        with pytest.raises(ServiceError) as refused:
            services.record_payment(staff, lease, today + timedelta(days=1), 0, "gold",
                                    "收" * 51, "k-9")
        assert set(refused.value.fields) == {"amount", "method", "paid_on", "receipt_no"}
        with pytest.raises(ServiceError) as refused:  # settled tomorrow: not yet
            services.settle_deposit(staff, lease, 500_000, 100_000, "墙面损坏修复",
                                    today + timedelta(days=1))
        assert refused.value.field == "settled_on"
        assert lease.deposit_status == "received"
        services.settle_deposit(staff, lease, 500_000, 100_000, "墙面损坏修复", today)
        assert lease.deposit_deducted_fen == 100_000 and lease.deposit_status == "settled"
        with pytest.raises(ServiceError):  # once
            services.settle_deposit(staff, lease, 600_000, 0, "", today)


def test_editing_a_lease_keeps_paid_lines(app, world):
    lease_id = _active_lease(app, world)
    with app.test_request_context():
        staff = _user(world["staff"])
        lease = db.session.get(Lease, lease_id)
        services.record_payment(staff, lease, date(2026, 1, 5), 300_000, "cash", "", "k-1")
        services.save_lease(staff, lease, _lease(world, monthly_rent_fen=400_000,
                                                 rent_override_reason="续谈上调"))
        periods = sorted(lease.periods, key=lambda p: p.starts_on)
        assert periods[0].amount_fen == 300_000 and periods[0].paid_fen == 300_000
        assert periods[1].amount_fen == 400_000 and len(periods) == 12
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RentPeriod)) == 12


def test_tenant_codes_are_checked(app):
    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            services.save_tenant(None, services.TenantInput("organisation", "某公司",
                                                            "91310116MA0000001X"))
        assert refused.value.field == "code"
        with pytest.raises(ServiceError):
            services.save_tenant(None, services.TenantInput("person", "张三",
                                                            "310116199001011234"))
        tenant = services.save_tenant(None, services.TenantInput("organisation", "某公司",
                                                                 _uscc(7).lower()))
        assert tenant.uscc == _uscc(7)


def test_occupancy_is_area_weighted(app, world):
    _active_lease(app, world)
    with app.test_request_context():
        [entry] = services.occupancy()
        today = services.today()
        leased = Decimal("50.00") if date(2026, 1, 1) <= today <= date(2026, 12, 31) else 0
        assert entry["office"] == Decimal("80.00")
        assert entry["leased"] == leased
        assert entry["leased"] + entry["idle"] == Decimal("80.50")
