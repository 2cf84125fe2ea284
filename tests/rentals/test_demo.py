"""``flask --app portal demo`` on an empty database adds the rentals demo data."""

from datetime import timedelta

import sqlalchemy as sa

from portal.auth.models import User
from portal.demo import DEMO_PASSWORD
from portal.extensions import db
from portal.rentals import services, tasks
from portal.rentals.demo import CLIENT_EMAIL
from portal.rentals.models import Building, Lease, LeaseStatus, RentPeriod, Room, RoomStatus, Tenant
from portal.validators import is_valid_resident_id, is_valid_uscc
from tests.conftest import Account, login


def test_demo_adds_buildings_rooms_tenants_leases_and_arrears(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        today = services.today()
        buildings = set(db.session.scalars(sa.select(Building.name)))
        assert {"区政府大院1号楼", "区政府大院2号楼", "朱泾二食堂", "便民服务中心"} <= buildings
        statuses = set(db.session.scalars(sa.select(Room.status)))
        assert statuses == set(RoomStatus.STORED)
        assert db.session.scalars(services.leased_room_ids(today)).first() is not None
        offices = db.session.scalars(sa.select(Room.office_department).where(
            Room.status == RoomStatus.RESERVED_FOR_OFFICE)).all()
        assert "区财政局" in offices and "区人大常委会办公室" in offices

        tenants = list(db.session.scalars(sa.select(Tenant)))
        assert all(is_valid_uscc(t.uscc) for t in tenants if t.kind == "organisation")
        people = [t for t in tenants if t.kind == "person"]
        assert people and all(is_valid_resident_id(t.id_number) for t in people)

        leases = list(db.session.scalars(sa.select(Lease)))
        assert {lease.status for lease in leases} == {
            LeaseStatus.ACTIVE, LeaseStatus.ENDED, LeaseStatus.PENDING}
        assert any(lease.status == LeaseStatus.ACTIVE
                   and lease.end_date == today + timedelta(days=45) for lease in leases)
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RentPeriod).where(
            RentPeriod.paid_fen > 0)) > 10
        buckets = [sum(entry["buckets"][i] for entry in services.arrears(today))
                   for i in range(3)]
        assert sum(1 for amount in buckets if amount) >= 2, buckets
        assert db.session.scalar(sa.select(sa.func.count(Lease.id)).where(
            tasks.deposit_open_condition())) == 1

        client = db.session.scalar(sa.select(User).where(User.email == CLIENT_EMAIL))
        visible = list(db.session.scalars(sa.select(Lease).where(Lease.visible_to(client))))
        assert [lease.tenant.name for lease in visible] == ["金山精细化工研究会"]

    staff = app.test_client()
    assert login(staff, Account(0, "staff@jgj.example.gov.cn", DEMO_PASSWORD, "staff")
                 ).status_code == 303
    page = staff.get("/rentals/reports").get_data(as_text=True)
    assert "朱泾二食堂" in page and "<meter" in page

    first = app.test_cli_runner().invoke(args=["tick"])
    assert "lease expiry alerts: 1" in first.output and "deposit alerts: 1" in first.output
    second = app.test_cli_runner().invoke(args=["tick"])
    assert "overdue rent alerts: 0" in second.output
