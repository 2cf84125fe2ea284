"""Buildings, rooms, tenants and leases for tests (shared by the rentals test modules).

Every helper writes through ``write_transaction`` (or the rentals services) and returns ids.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from itertools import count

from portal.database import write_transaction
from portal.extensions import db
from portal.rentals.models import Building, Room, RoomStatus
from portal.validators import id_check_char, uscc_check_char

_sequence = count(1)


def valid_uscc(n: int | None = None) -> str:
    """A unified social credit code with a correct check character, unique per ``n``."""
    first17 = f"91310116MA{(n or next(_sequence)) % 10_000_000:07d}"
    return first17 + uscc_check_char(first17)


def valid_resident_id(n: int | None = None, born: date = date(1985, 6, 15)) -> str:
    """A resident ID number with a correct check digit, unique per ``n`` (up to 999)."""
    first17 = f"310116{born:%Y%m%d}{(n or next(_sequence)) % 1000:03d}"
    return first17 + id_check_char(first17)


def make_building(app, name: str | None = None, address: str = "区政府大院") -> int:
    with app.test_request_context(), write_transaction():
        building = Building(name=name or f"测试楼{next(_sequence)}", address=address)
        db.session.add(building)
        db.session.flush()
        return building.id


def make_room(app, building_id: int | None = None, code: str | None = None,
              status: str = RoomStatus.IDLE, area="50", standard_fen: int = 5_000,
              use_type: str = "office", floor: str = "3F", department: str = "区财政局",
              facilities: str = "") -> int:
    """A room with a stored status (``idle`` unless told); a new building when none is given.

    ``reserved_for_office`` rooms record ``department``.  For a *leased* room make an idle
    room and an active lease on it (:func:`make_lease`).
    """
    building_id = building_id or make_building(app)
    with app.test_request_context(), write_transaction():
        room = Room(
            building_id=building_id, code=code or f"R{next(_sequence):04d}", floor=floor,
            area_m2=Decimal(str(area)), use_type=use_type, rent_standard_fen=standard_fen,
            facilities=facilities, status=status,
            office_department=department if status == RoomStatus.RESERVED_FOR_OFFICE else "",
        )
        db.session.add(room)
        db.session.flush()
        return room.id


def make_tenant(app, kind: str = "organisation", name: str | None = None,
                user_id: int | None = None, code: str | None = None, phone: str = "") -> int:
    """An organisation (credit code) or a person (resident ID), optionally linked to a
    ``client`` account."""
    from portal.rentals import services

    number = next(_sequence)
    if code is None:
        code = valid_uscc(number) if kind == "organisation" else valid_resident_id(number)
    with app.test_request_context():
        tenant = services.save_tenant(None, services.TenantInput(
            kind=kind, name=name or f"测试租户{number}", code=code, contact_name="联系人",
            phone=phone, user_id=user_id))
        return tenant.id


def make_lease(app, tenant_id: int, room_ids: list[int], start: date | None = None,
               end: date | None = None, status: str = "active", **fields) -> int:
    """A lease made by staff through the services: ``draft``, ``pending_approval`` or
    ``active`` (approved by an admin).  Default: from 30 days ago for a year."""
    from flask_login import login_user

    from portal.auth.models import User
    from portal.rentals import services
    from tests.conftest import make_user

    start = start or date.today() - timedelta(days=30)
    end = end or start + timedelta(days=364)
    staff = make_user(app, "staff")
    admin = make_user(app, "admin")
    with app.test_request_context():
        login_user(db.session.get(User, staff.id))
        lease = services.save_lease(db.session.get(User, staff.id), None, services.LeaseInput(
            tenant_id=tenant_id, room_ids=list(room_ids), start=start, end=end, **fields))
        if status in ("pending_approval", "active"):
            services.transition(lease, "submit", db.session.get(User, staff.id))
        if status == "active":
            services.transition(lease, "approve", db.session.get(User, admin.id))
        return lease.id


__all__ = ["make_building", "make_room", "make_tenant", "make_lease", "valid_uscc",
           "valid_resident_id"]
