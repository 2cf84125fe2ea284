"""A large rentals dataset for ``make bench``: ``flask --app portal bench-seed-rentals``.

The issue's performance section asks for 10,000 rooms, 20,000 leases and 500,000 schedule
lines. They are written in bulk with Core ``INSERT`` statements (chunks of :data:`CHUNK` rows,
ids read back with ``RETURNING``) inside one :func:`~portal.database.write_transaction`.

**Not audited, on purpose.** Core inserts bypass the ORM's ``after_flush`` audit hook, so the
buildings, rooms, tenants, leases and payments written here have no audit trail. That is
acceptable for synthetic benchmark data only; never use this path for real records.

The data is deterministic (a seeded PRNG; dates relative to today):

* :data:`BUILDINGS` buildings ``BENCH-B001``…; ``--rooms`` rooms spread over them, about 5 %
  office space with a department, the rest idle (stored status; "leased" is derived);
* tenants (one per four leases), mostly organisations with valid unified social credit codes,
  some persons with valid resident identity numbers;
* ``--leases`` leases, assigned to the rooms in turn, so each room gets a chain of consecutive,
  non-overlapping leases (two by default): the earlier ones ended, the last one active. Their
  lengths are chosen so that their monthly schedules (computed by
  :func:`portal.rentals.schedule.schedule`) have ``--periods`` lines in all;
* payments for the lines already due (one payment per three lines, allocated to them), except
  the last few lines of about one active lease in seven (arrears, some partly paid).

The command is refused in production. ``--check`` only reports (as JSON) what is seeded and
exits 0 when it matches the sizes asked for, 3 otherwise; ``make bench`` uses it to skip
re-seeding. The staff account of the bookings bench (:data:`STAFF_EMAIL`) is reused, or made.
"""

from __future__ import annotations

import json
import random
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..auth.models import User
from ..auth.passwords import hash_password
from ..bookings.bench import BENCH_PASSWORD, STAFF_EMAIL
from ..database import utcnow, write_transaction
from ..extensions import db
from ..roles import Role
from ..validators import id_check_char, uscc_check_char
from . import schedule
from .models import (
    Building,
    DepositStatus,
    Lease,
    LeaseRoom,
    LeaseStatus,
    Payment,
    PaymentAllocation,
    ReceiptCounter,
    RentPeriod,
    Room,
    RoomStatus,
    Tenant,
)
from .services import today as local_today

CHUNK = 5_000
SEED = 20264
BUILDINGS = 100
PREFIX = "BENCH-B"
TENANT_DOMAIN = "rentals.bench.example.com"
MONTHS_AHEAD = 14  # the active lease of each room ends about this many months from now
DEPARTMENTS = ["区财政局", "区教育局", "区卫生健康委员会", "区机关事务管理局", "区统计局"]


# --- what is there ---------------------------------------------------------------------------


def bench_state() -> dict:
    """What the database holds of the rentals bench dataset (a few counting queries)."""
    bench_buildings = sa.select(Building.id).where(Building.name.like(f"{PREFIX}%"))
    rooms = db.session.scalar(sa.select(sa.func.count()).select_from(Room)
                              .where(Room.building_id.in_(bench_buildings))) or 0
    bench_tenants = sa.select(Tenant.id).where(Tenant.email.like(f"%@{TENANT_DOMAIN}"))
    leases = db.session.scalar(sa.select(sa.func.count()).select_from(Lease)
                               .where(Lease.tenant_id.in_(bench_tenants))) or 0
    periods = 0
    if leases:
        periods = db.session.scalar(
            sa.select(sa.func.count()).select_from(RentPeriod).join(Lease)
            .where(Lease.tenant_id.in_(bench_tenants))) or 0
    return {"rooms": rooms, "leases": leases, "periods": periods, "staff_email": STAFF_EMAIL,
            "password": BENCH_PASSWORD, "database": db.engine.dialect.name}


# --- rows ------------------------------------------------------------------------------------


def _insert(model, rows: list[dict], returning: bool = False) -> list[int]:
    """Core INSERTs of many rows in chunks (the ORM's flush and audit hooks are not involved)."""
    ids: list[int] = []
    table = model.__table__
    for first in range(0, len(rows), CHUNK):
        part = rows[first:first + CHUNK]
        stmt = sa.insert(table)
        if returning:
            stmt = stmt.returning(table.c.id, sort_by_parameter_order=True)
            ids += db.session.execute(stmt, part).scalars()
        else:
            db.session.execute(stmt, part)
    return ids


def uscc(number: int) -> str:
    """A valid unified social credit code: enterprise (91), a Beijing district, an org code."""
    first17 = f"91110105MA{number:07d}"
    return first17 + uscc_check_char(first17)


def resident_id(number: int) -> str:
    born = date(1960, 1, 1) + timedelta(days=number % 15_000)  # unique with the sequence no.
    first17 = f"110105{born:%Y%m%d}{number // 15_000 % 1000:03d}"
    return first17 + id_check_char(first17)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _staff_id(now: datetime) -> int:
    staff = db.session.scalar(sa.select(User.id).where(User.email == STAFF_EMAIL))
    if staff is not None:
        return staff
    return _insert(User, [{
        "email": STAFF_EMAIL, "name": "基准测试员", "organisation": "", "phone": "",
        "role": Role.STAFF, "password_hash": hash_password(BENCH_PASSWORD),
        "email_verified_at": now, "active": True, "session_epoch": 0, "locale": None,
        "created_at": now, "last_login_at": None}], returning=True)[0]


def seed(rooms: int, leases: int, periods: int, echo=click.echo) -> dict:
    rng = random.Random(SEED)
    now = utcnow()
    today = local_today()
    this_month = today.replace(day=1)
    started = clock.monotonic()

    def say(message: str) -> None:
        echo(f"{message} ({clock.monotonic() - started:.1f} s)")

    with write_transaction():
        staff_id = _staff_id(now)
        buildings = min(BUILDINGS, rooms)
        building_ids = _insert(Building, [
            {"name": f"{PREFIX}{n:03d} 基准楼", "address": f"测试路{n}号"}
            for n in range(1, buildings + 1)], returning=True)
        room_rows = []
        for n in range(rooms):
            office = n % 20 == 7
            room_rows.append({
                "building_id": building_ids[n % buildings], "code": f"R{n // buildings + 1:04d}",
                "floor": f"{1 + n // buildings % 12}F",
                "area_m2": Decimal(rng.randrange(1500, 30000)) / 100,
                "use_type": rng.choices(["office", "shop", "storage", "canteen", "other"],
                                        [70, 15, 10, 2, 3])[0],
                "rent_standard_fen": rng.randrange(3000, 12001, 100), "facilities": "",
                "status": RoomStatus.RESERVED_FOR_OFFICE if office else RoomStatus.IDLE,
                "office_department": rng.choice(DEPARTMENTS) if office else ""})
        room_ids = _insert(Room, room_rows, returning=True)
        say(f"{buildings} buildings, {rooms} rooms")

        tenants = max(1, leases // 4)
        tenant_rows = []
        for n in range(1, tenants + 1):
            person = n % 10 == 0
            tenant_rows.append({
                "kind": "person" if person else "organisation",
                "name": f"基准租户{n:05d}" if person else f"基准测试企业{n:05d}有限公司",
                "uscc": None if person else uscc(n),
                "id_number": resident_id(n) if person else None,
                "contact_name": f"联系人{n:05d}", "phone": f"1380000{n:04d}"[-11:],
                "email": f"tenant-{n:05d}@{TENANT_DOMAIN}", "address": "", "user_id": None,
                "created_at": now})
        tenant_ids = _insert(Tenant, tenant_rows, returning=True)
        say(f"{tenants} tenants")

        # Lease i goes to room i % rooms, as its (i // rooms)-th lease; months per lease so
        # that the monthly schedules (leases start on the 1st) add up to --periods lines.
        base, extra = divmod(periods, leases) if leases else (0, 0)
        chains: list[list[int]] = [[] for _ in range(rooms)]
        for i in range(leases):
            chains[i % rooms].append(i)
        lease_rows: list[dict] = [{} for _ in range(leases)]
        room_of = [0] * leases
        terms_of: list[schedule.Terms | None] = [None] * leases
        for r, chain in enumerate(chains):
            if not chain:
                continue
            months = [max(1, base + (1 if i < extra else 0)) for i in chain]
            start = _add_months(this_month, MONTHS_AHEAD - sum(months) - rng.randint(0, 3))
            room = room_rows[r]
            standard = int((room["area_m2"] * room["rent_standard_fen"]).quantize(Decimal(1)))
            for position, (i, length) in enumerate(zip(chain, months, strict=True)):
                end = _add_months(start, length) - timedelta(days=1)
                last = position == len(chain) - 1
                status = LeaseStatus.ACTIVE if last else LeaseStatus.ENDED
                free = start + timedelta(days=29) if rng.random() < 0.2 else None
                increase = Decimal(rng.choice([0, 0, 3, 5]))
                rent = standard
                terms_of[i] = schedule.Terms(start, end, rent, 1, free, increase)
                room_of[i] = r
                deposit = rent * 2
                approved = datetime.combine(start - timedelta(days=10), time(2, 0), UTC)
                lease_rows[i] = {
                    "tenant_id": tenant_ids[i % tenants], "status": status,
                    "start_date": start, "end_date": end, "monthly_rent_fen": rent,
                    "rent_override_reason": "", "payment_cycle": "monthly",
                    "rent_free_until": free, "yearly_increase_pct": increase,
                    "deposit_due_fen": deposit, "deposit_received_fen": deposit,
                    "deposit_received_on": start - timedelta(days=5),
                    "deposit_returned_fen": 0 if last else deposit, "deposit_deducted_fen": 0,
                    "deposit_deduction_reason": "",
                    "deposit_settled_on": None if last else end + timedelta(days=10),
                    "deposit_status": DepositStatus.RECEIVED if last else DepositStatus.SETTLED,
                    "terminated_on": None, "reason": "", "predecessor_id": None,
                    "note": "基准测试数据", "created_by_id": staff_id,
                    "approved_by_id": staff_id, "approved_at": approved,
                    "created_at": approved - timedelta(days=2)}
                start = end + timedelta(days=1)
        lease_ids = _insert(Lease, lease_rows, returning=True)
        _insert(LeaseRoom, [
            {"lease_id": lease_ids[i], "room_id": room_ids[room_of[i]],
             "starts_on": row["start_date"], "ends_before": row["end_date"] + timedelta(days=1),
             "active": row["status"] in LeaseStatus.HOLDING}
            for i, row in enumerate(lease_rows)])
        say(f"{leases} leases")

        # Schedules, and which lines are paid: all due lines of ended leases; of active ones
        # all but (for one in seven) the last one to four due lines, one of those half paid.
        written, payments_written = 0, 0
        batch_periods: list[dict] = []
        batch_plans: list[tuple[int, int, list[int]]] = []  # lease index, first line, paid
        receipts: dict[int, int] = {}  # the last receipt number issued in each year

        def flush() -> None:
            nonlocal written, payments_written
            period_ids = _insert(RentPeriod, batch_periods, returning=True)
            payment_rows, allocation_plan = [], []
            for i, first, paid in batch_plans:
                lines = [(first + k, amount) for k, amount in enumerate(paid) if amount > 0]
                for group in range(0, len(lines), 3):
                    part = lines[group:group + 3]
                    total = sum(amount for _k, amount in part)
                    due = batch_periods[part[-1][0]]["due_on"]
                    receipts[due.year] = receipts.get(due.year, 0) + 1
                    payment_rows.append({
                        "lease_id": lease_ids[i], "paid_on": due, "amount_fen": total,
                        "method": "bank_transfer", "receipt_no": "", "credit_fen": 0,
                        "idempotency_key": f"bench-rentals-{lease_ids[i]}-{group // 3}",
                        "recorded_by_id": staff_id, "receipt_year": due.year,
                        "receipt_number": receipts[due.year],
                        "receipt_code": f"{due.year}-{receipts[due.year]:06d}",
                        "created_at": datetime.combine(due, time(3, 0), UTC)})
                    allocation_plan.append([(period_ids[k], amount) for k, amount in part])
            payment_ids = _insert(Payment, payment_rows, returning=True)
            _insert(PaymentAllocation, [
                {"payment_id": pid, "period_id": period_id, "amount_fen": amount}
                for pid, part in zip(payment_ids, allocation_plan, strict=True)
                for period_id, amount in part])
            written += len(batch_periods)
            payments_written += len(payment_rows)
            batch_periods.clear()
            batch_plans.clear()
            say(f"  {written} schedule lines, {payments_written} payments")

        for i, terms in enumerate(terms_of):
            lines = schedule.schedule(terms)
            due_lines = [k for k, line in enumerate(lines) if line.due_on <= today]
            unpaid: set[int] = set()
            half: int | None = None
            if lease_rows[i]["status"] == LeaseStatus.ACTIVE and due_lines and rng.random() < 1 / 7:
                unpaid = set(due_lines[-rng.randint(1, 4):])
                if rng.random() < 0.5:
                    half = min(unpaid)
            first = len(batch_periods)
            paid = []
            for k, line in enumerate(lines):
                amount = 0
                if line.due_on <= today and k not in unpaid:
                    amount = line.amount_fen
                elif k == half:
                    amount = line.amount_fen // 2
                billed = (datetime.combine(line.due_on - timedelta(days=7), time(1, 0), UTC)
                          if line.due_on <= today else None)
                batch_periods.append({
                    "lease_id": lease_ids[i], "starts_on": line.starts_on, "ends_on": line.ends_on,
                    "due_on": line.due_on, "amount_fen": line.amount_fen, "paid_fen": amount,
                    "billed_at": billed})
                paid.append(amount)
            batch_plans.append((i, first, paid))
            if len(batch_periods) >= 4 * CHUNK:
                flush()
        if batch_periods:
            flush()
        _insert(ReceiptCounter, [{"year": year, "last_number": number}
                                 for year, number in sorted(receipts.items())])
    if db.engine.dialect.name == "postgresql":
        # Planner statistics and a visibility map, as autovacuum would leave them.
        # (VACUUM cannot run in a transaction.)
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE")
    say("seeded")
    return bench_state()


# --- the command -----------------------------------------------------------------------------


@click.command("bench-seed-rentals")
@click.option("--rooms", default=10_000, show_default=True, type=click.IntRange(1))
@click.option("--leases", default=20_000, show_default=True, type=click.IntRange(0))
@click.option("--periods", default=500_000, show_default=True, type=click.IntRange(0))
@click.option("--check", is_flag=True,
              help="Only report what is seeded (JSON); exit 0 when it has these sizes, else 3.")
@with_appcontext
def bench_seed_rentals(rooms: int, leases: int, periods: int, check: bool) -> None:
    """Seed a large rentals dataset for the benchmark (refused in production)."""
    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("benchmark data is refused in production")
    if leases and periods < leases:
        raise click.BadParameter("each lease has at least one schedule line",
                                 param_hint="--periods")
    state = bench_state()
    same = (state["rooms"], state["leases"], state["periods"]) == (rooms, leases, periods)
    if check:
        click.echo(json.dumps(state, ensure_ascii=False))
        raise SystemExit(0 if same else 3)
    if same:
        click.echo(f"already seeded with {rooms} rooms and {leases} leases; nothing to do")
    elif state["rooms"] or state["leases"]:
        raise click.ClickException(
            f"this database already holds a rentals bench dataset ({state['rooms']} rooms, "
            f"{state['leases']} leases, {state['periods']} lines); seed a fresh database")
    else:
        state = seed(rooms, leases, periods)
    click.echo(json.dumps(state, ensure_ascii=False))


def init_rentals_bench_cli(app: Flask) -> None:
    """Add ``flask bench-seed-rentals`` to the app's command line (idempotent)."""
    if "bench-seed-rentals" not in app.cli.commands:
        app.cli.add_command(bench_seed_rentals)
