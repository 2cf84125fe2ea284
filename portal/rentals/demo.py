"""Demo rentals drawn from the seed: the district government compound's buildings, the office
space allocated to its departments, and the idle rooms leased out (把闲置房屋租赁出去),
including the assets of the 朱泾二食堂 canteen tendered for lease (资产招标租赁) and shops in
the 便民服务中心.

Leases go through the services as staff and an admin would make them: active ones with
payments that leave arrears of different ages, one ending in 45 days, one ended with its
deposit still to return, one awaiting approval. The research society's lease is linked to the
demo client ``client@jinshan-chem.example.com``, who sees it after logging in.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa

from ..database import write_transaction
from ..demo import demo_loader
from ..extensions import db
from ..roles import Role
from ..validators import id_check_char, uscc_check_char
from . import services
from .models import Building, Lease, RentPeriod, Room, RoomStatus

CLIENT_EMAIL = "client@jinshan-chem.example.com"
OFFICE, IDLE = RoomStatus.RESERVED_FOR_OFFICE, RoomStatus.IDLE
RENOVATION, DISPOSED = RoomStatus.UNDER_RENOVATION, RoomStatus.DISPOSED

BUILDINGS = {
    # name: (address, [(code, floor, m², use, standard ¥/m²/month, status, department,
    #                   facilities)])
    "区政府大院1号楼": ("金山区朱泾镇 区政府大院", [
        ("101", "1F", "86.5", "office", 45, OFFICE, "区政府办公室", "空调、网络"),
        ("201", "2F", "120", "office", 45, OFFICE, "区发展和改革委员会", "空调、网络"),
        ("301", "3F", "96", "office", 45, OFFICE, "区财政局", "空调、网络、档案柜"),
        ("102", "1F", "42", "shop", 80, IDLE, "", "临街门面、独立水电"),
        ("103", "1F", "38.5", "office", 45, IDLE, "", "空调"),
        ("B01", "B1", "60", "storage", 20, DISPOSED, "", "原人防地下室，已报废"),
    ]),
    "区政府大院2号楼": ("金山区朱泾镇 区政府大院", [
        ("201", "2F", "110", "office", 45, OFFICE, "区人大常委会办公室", "空调、网络"),
        ("202", "2F", "90", "office", 45, OFFICE, "区政协办公室", "空调、网络"),
        ("301", "3F", "55", "office", 45, IDLE, "", "空调、网络"),
        ("302", "3F", "35", "office", 45, IDLE, "", "空调、网络"),
        ("303", "3F", "48", "office", 45, IDLE, "", "空调"),
        ("401", "4F", "150", "office", 45, RENOVATION, "", "屋面防水及线路改造中"),
    ]),
    "朱泾二食堂": ("金山区朱泾镇 朱泾二食堂", [
        ("1F", "1F", "420", "canteen", 35, IDLE, "", "厨房设备、餐桌椅、油烟净化"),
        ("2F", "2F", "260", "canteen", 35, IDLE, "", "包间6间"),
        ("K1", "1F", "80", "storage", 20, IDLE, "", "冷库、干货库"),
    ]),
    "便民服务中心": ("金山区朱泾镇 便民服务中心", [
        ("A101", "1F", "28", "shop", 90, IDLE, "", "临街窗口"),
        ("A102", "1F", "32", "shop", 90, IDLE, "", "临街窗口"),
        ("B1", "1F-3F", "2000", "office", 40, RENOVATION, "", "二期装修施工中"),
        ("C01", "1F", "45", "other", 0, DISPOSED, "", "旧平房，已拆除"),
    ]),
}


def uscc(department_and_kind: str, org_code: str) -> str:
    """A valid unified social credit code registered in Jinshan district (310116)."""
    first17 = f"{department_and_kind}310116{org_code}"
    return first17 + uscc_check_char(first17)


def resident_id(born: date, sequence: int) -> str:
    first17 = f"310116{born:%Y%m%d}{sequence:03d}"
    return first17 + id_check_char(first17)


TENANTS = [
    # key, kind, name, code, contact, phone, email
    ("canteen", "organisation", "上海朱泾餐饮管理有限公司", uscc("91", "MA1G4X2K7"), "钱志强",
     "13917000001", "qian@zhujing-canyin.example.com"),
    ("society", "organisation", "金山精细化工研究会", uscc("51", "MJ0012345"), "赵磊",
     "13900000021", CLIENT_EMAIL),
    ("shop", "organisation", "金山区便民超市有限公司", uscc("91", "MA1FPX3B2"), "孙丽",
     "13917000003", "sunli@bianmin-market.example.com"),
    ("kiosk", "person", "沈建华", resident_id(date(1972, 8, 19), 135), "沈建华",
     "13917000004", "shenjh@example.com"),
    ("ended", "organisation", "上海金山云帆信息科技有限公司", uscc("91", "MA1H0K8L5"), "周云帆",
     "13917000005", "yunfan@example.com"),
    ("printer", "organisation", "上海金山印务有限公司", uscc("91", "MA1D7R9W4"), "吴海",
     "13917000006", "wuhai@jinshan-print.example.com"),
]


def _first_of_month(day: date, months_back: int) -> date:
    year, month = day.year, day.month - months_back
    while month < 1:
        year, month = year - 1, month + 12
    return date(year, month, 1)


def _years_later(day: date, years: int) -> date:
    """The day before the same date ``years`` later: a lease of whole years."""
    try:
        return day.replace(year=day.year + years) - timedelta(days=1)
    except ValueError:  # 29 February
        return date(day.year + years, 3, 1) - timedelta(days=1)


def _pay_periods(staff, lease: Lease, before: date, key: str) -> None:
    """One payment per period due before ``before``, a few days after it was due."""
    periods = list(db.session.scalars(sa.select(RentPeriod).where(
        RentPeriod.lease_id == lease.id, RentPeriod.due_on < before)
        .order_by(RentPeriod.due_on)))
    for number, period in enumerate(periods, start=1):
        if period.amount_fen:
            services.record_payment(staff, lease, period.due_on + timedelta(days=3),
                                    period.amount_fen, "bank_transfer",
                                    f"SK{lease.id:04d}{number:03d}", f"demo-{key}-{number}")


@demo_loader(order=30)
def load_rentals(context: dict) -> None:
    users = context.get("users", {})
    admin = next(u for u in users.values() if u.role == Role.ADMIN)
    staff = next(u for u in users.values() if u.role == Role.STAFF)
    today = services.today()

    rooms: dict[tuple[str, str], int] = {}
    with write_transaction():
        for name, (address, room_rows) in BUILDINGS.items():
            building = Building(name=name, address=address)
            for code, floor, area, use, standard, status, department, facilities in room_rows:
                building.rooms.append(Room(
                    code=code, floor=floor, area_m2=Decimal(area), use_type=use,
                    rent_standard_fen=standard * 100, status=status,
                    office_department=department, facilities=facilities))
            db.session.add(building)
        db.session.flush()
        for room in db.session.scalars(sa.select(Room)):
            rooms[(room.building.name, room.code)] = room.id

    tenants = {}
    client = users.get(CLIENT_EMAIL)
    for key, kind, name, code, contact, phone, email in TENANTS:
        tenants[key] = services.save_tenant(None, services.TenantInput(
            kind=kind, name=name, code=code, contact_name=contact, phone=phone, email=email,
            address="金山区朱泾镇",
            user_id=client.id if key == "society" and client is not None else None)).id

    def lease(key, room_keys, start, end, approve=True, **terms):
        made = services.save_lease(staff, None, services.LeaseInput(
            tenant_id=tenants[key], room_ids=[rooms[room] for room in room_keys],
            start=start, end=end, **terms))
        services.transition(made, "submit", staff)
        if approve:
            services.transition(made, "approve", admin)
        return made

    # The canteen's assets, tendered for lease: quarterly, a month's fit-out, two quarters
    # unpaid (arrears over 90 days or 31–90 days old).
    start = _first_of_month(today, 14)
    canteen = lease("canteen", [("朱泾二食堂", "1F"), ("朱泾二食堂", "2F")], start,
                    _years_later(start, 3), payment_cycle="quarterly",
                    rent_free_until=_first_of_month(today, 13) - timedelta(days=1),
                    deposit_due_fen=4_000_000, yearly_increase_pct=Decimal("3"),
                    note="朱泾二食堂资产招标租赁，含厨房设备")
    services.record_deposit(staff, canteen, 4_000_000, start)
    _pay_periods(staff, canteen, today - timedelta(days=200), "canteen")

    # The research society (the demo client's organisation): monthly, the last two months
    # unpaid (0–30 and 31–90 days).
    start = _first_of_month(today, 10)
    society = lease("society", [("区政府大院2号楼", "301"), ("区政府大院2号楼", "302")], start,
                    _years_later(start, 2), deposit_due_fen=810_000)
    services.record_deposit(staff, society, 810_000, start)
    _pay_periods(staff, society, today - timedelta(days=62), "society")

    # A shop at the compound gate, paid up.
    start = _first_of_month(today, 5)
    shop = lease("shop", [("区政府大院1号楼", "102")], start, _years_later(start, 3),
                 deposit_due_fen=672_000)
    _pay_periods(staff, shop, today + timedelta(days=1), "shop")

    # A kiosk ending in 45 days (the 90- and 60-day warnings are due), paid up.
    end = today + timedelta(days=45)
    kiosk = lease("kiosk", [("便民服务中心", "A101")], end - timedelta(days=729), end,
                  deposit_due_fen=252_000)
    _pay_periods(staff, kiosk, today + timedelta(days=1), "kiosk")

    # Ended five months ago, two months never paid, the deposit still to return.
    end = today - timedelta(days=150)
    ended = lease("ended", [("区政府大院1号楼", "103")], end - timedelta(days=729), end,
                  deposit_due_fen=346_500)
    services.record_deposit(staff, ended, 346_500, end - timedelta(days=729))
    _pay_periods(staff, ended, end - timedelta(days=45), "ended")
    services.transition(ended, "end", staff)

    # Awaiting an admin's approval: the canteen's store room from two weeks on.
    start = today + timedelta(days=14)
    lease("printer", [("朱泾二食堂", "K1")], start, _years_later(start, 3), approve=False,
          payment_cycle="half_yearly", deposit_due_fen=480_000)
