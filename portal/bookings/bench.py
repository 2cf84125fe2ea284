"""A large bookings dataset for ``make bench``: ``flask --app portal bench-seed``.

The issue's performance section asks for 200 venues and 200,000 bookings. They are written in
bulk with Core ``INSERT`` statements (chunks of :data:`CHUNK` rows, ids read back with
``RETURNING``) inside one :func:`~portal.database.write_transaction`, so seeding takes seconds
to a few minutes on SQLite and PostgreSQL instead of hours through the ORM.

**Not audited, on purpose.** Core inserts bypass the ORM's ``after_flush`` audit hook (bulk
UPDATE/DELETE of audited models is refused; bulk INSERT is not), so the benchmark rows have no
audit trail. That is acceptable for synthetic benchmark data and keeps ``audit_log`` from
tripling the seed's size; never use this path for real records.

The data is deterministic (a seeded PRNG; dates relative to today):

* ``--venues`` venues ``BENCH-001``… in a few buildings, with layouts, equipment and rates; setup
  and cleanup buffers are 0 or 15 minutes so that the morning (08:30-12:00), afternoon
  (13:30-17:30) and evening (18:00-21:30) sessions never overlap buffers included (with 30
  minutes the afternoon's cleanup would run into the evening's setup);
* per venue, about two of the three sessions of each day booked (some as one full-day slot),
  three quarters of the days in the past and a quarter ahead (within the booking horizon):
  past bookings mostly completed, some cancelled, rejected, expired or no-shows; future ones
  approved or requested, some cancelled or rejected. Only requested and approved bookings keep
  active slots, so the database guard (exclusion constraint / SQLite triggers) accepts them;
* 2,000 clients sharing one precomputed password hash; the first, :data:`HEAVY_CLIENT`, made
  about 3 % of the external bookings ("my bookings" with thousands of rows), plus one staff
  account. All log in with :data:`BENCH_PASSWORD`.

The command is refused in production. ``--check`` only reports (as JSON) what is seeded and
exits 0 when it matches the sizes asked for, 3 otherwise; ``make bench`` uses it to skip
re-seeding.

``create_app`` registers the command (``init_bench_cli``, through :mod:`portal.cli`).
"""

from __future__ import annotations

import json
import math
import random
import time as clock
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..auth.models import User
from ..auth.passwords import hash_password
from ..database import utcnow, write_transaction
from ..extensions import db
from ..roles import Role
from . import pricing
from .models import (
    Booking,
    BookingCatering,
    BookingStatus,
    CateringOption,
    Venue,
    VenueEquipment,
    VenueLayout,
    VenueSlot,
)
from .services import local_datetime, local_zone

S = BookingStatus
CHUNK = 5_000
SEED = 20260
CODE_PREFIX = "BENCH-"
EMAIL_DOMAIN = "bench.example.com"
BENCH_PASSWORD = "bench-portal-2026"  # noqa: S105  (synthetic accounts; refused in production)
STAFF_EMAIL = f"bench-staff@{EMAIL_DOMAIN}"
HEAVY_CLIENT = f"bench-client-0001@{EMAIL_DOMAIN}"
HEAVY_SHARE = 0.03  # of the external bookings
INTERNAL_SHARE = 0.3
FUTURE_SHARE = 0.25
MAX_FUTURE_DAYS = 170  # stays inside the default 180-day booking horizon

BUILDINGS = ["会议中心", "机关食堂", "行政中心A座", "行政中心B座", "培训中心"]
DEPARTMENTS = ["区人大常委会办公室", "区政协办公室", "区政府办公室", "区发展和改革委员会",
               "区财政局", "区教育局", "区卫生健康委员会"]
TITLES = ["区政府常务会议", "机关党建工作推进会", "全区安全生产工作会议", "企业年度总结会",
          "行业协会理事会", "职业技能培训班", "新品发布会", "学术交流会", "项目评审会",
          "季度工作例会"]
SESSIONS = ("morning", "afternoon", "evening")


def client_email(number: int) -> str:
    return f"bench-client-{number:04d}@{EMAIL_DOMAIN}"


# --- what is there ---------------------------------------------------------------------------


def bench_state() -> dict:
    """What the database holds of the bench dataset (a handful of cheap queries)."""
    venue_ids = list(db.session.scalars(
        sa.select(Venue.id).where(Venue.code.like(f"{CODE_PREFIX}%")).order_by(Venue.code)))
    bookings = 0
    if venue_ids:
        bookings = db.session.scalar(
            sa.select(sa.func.count(sa.distinct(VenueSlot.booking_id)))
            .join(Venue, Venue.id == VenueSlot.venue_id)
            .where(Venue.code.like(f"{CODE_PREFIX}%"), VenueSlot.booking_id.is_not(None))) or 0
    heavy = db.session.scalar(sa.select(User.id).where(User.email == HEAVY_CLIENT))
    heavy_bookings = (db.session.scalar(sa.select(sa.func.count()).select_from(Booking)
                                        .where(Booking.client_id == heavy)) or 0) if heavy else 0
    return {"venues": len(venue_ids), "bookings": bookings,
            "venue_id": venue_ids[0] if venue_ids else None,
            "client_email": HEAVY_CLIENT, "client_bookings": heavy_bookings,
            "staff_email": STAFF_EMAIL, "password": BENCH_PASSWORD,
            "database": db.engine.dialect.name}


# --- rows ------------------------------------------------------------------------------------


def _insert(model, rows: list[dict], returning: bool = False) -> list[int]:
    """One Core INSERT of many rows (the ORM's flush and audit hooks are not involved)."""
    if not rows:
        return []
    table = model.__table__
    stmt = sa.insert(table)
    if returning:
        stmt = stmt.returning(table.c.id, sort_by_parameter_order=True)
        return list(db.session.execute(stmt, rows).scalars())
    db.session.execute(stmt, rows)
    return []


def _venue_rows(count: int, rng: random.Random) -> tuple[list[dict], list[list], list[list]]:
    venues, layouts, equipment = [], [], []
    for n in range(1, count + 1):
        kind = rng.choices(["meeting_room", "hall", "banquet_hall"], [70, 22, 8])[0]
        if kind == "meeting_room":
            theatre = rng.randrange(20, 121, 5)
        elif kind == "hall":
            theatre = rng.randrange(120, 501, 10)
        else:
            theatre = rng.randrange(150, 401, 10)
        room_layouts = {"theatre": theatre}
        if rng.random() < 0.7:
            room_layouts["classroom"] = max(10, theatre * 6 // 10)
        if kind == "meeting_room" or rng.random() < 0.2:
            room_layouts["boardroom"] = max(8, min(40, theatre // 3))
        if kind == "banquet_hall" or (kind == "hall" and rng.random() < 0.3):
            room_layouts["banquet"] = theatre * 8 // 10
        half = rng.randrange(300, 3001, 100)
        buffer = 0 if n % 3 == 0 else 15  # 30 would make afternoon and evening overlap
        building = BUILDINGS[n % len(BUILDINGS)]
        venues.append({
            "code": f"{CODE_PREFIX}{n:03d}", "name": f"测试会场 {n:03d}", "kind": kind,
            "building": building, "floor": f"{1 + n % 8}F",
            "description": f"{building} 基准测试会场 {n:03d}",
            "opens_at": time(8, 0), "closes_at": time(22, 0),
            "setup_minutes": buffer, "cleanup_minutes": buffer,
            "public": rng.random() < 0.9, "active": True,
            "external_half_day_fen": half * 100, "external_evening_fen": half * 70,
            "external_full_day_fen": half * 170, "internal_half_day_fen": half * 50,
            "internal_evening_fen": half * 35, "internal_full_day_fen": half * 85,
        })
        layouts.append(list(room_layouts.items()))
        equipment.append(rng.sample(["projector", "led_screen", "video_conference",
                                     "interpretation", "sound", "stage"], rng.randint(0, 4)))
    return venues, layouts, equipment


def _user_rows(clients: int, password_hash: str, now: datetime) -> list[dict]:
    common = {"phone": "", "password_hash": password_hash, "email_verified_at": now,
              "active": True, "session_epoch": 0, "locale": None, "created_at": now,
              "last_login_at": None}
    rows = [{"email": STAFF_EMAIL, "name": "基准测试员", "organisation": "",
             "role": Role.STAFF, **common}]
    for n in range(1, clients + 1):
        rows.append({"email": client_email(n), "name": f"客户{n:04d}",
                     "organisation": f"测试企业{n:04d}有限公司" if n % 4 else "",
                     "role": Role.CLIENT, **common})
    return rows


class _Plan:
    """Which (day, session) positions each venue has booked: exact total, no overlaps."""

    def __init__(self, venues: int, bookings: int, today: date, rng: random.Random):
        per_venue, extra = divmod(bookings, venues)
        quota = [per_venue + (1 if v < extra else 0) for v in range(venues)]
        # About two of the three sessions a day are booked.
        self.days = max(1, math.ceil(max(quota) / 2))
        future = min(MAX_FUTURE_DAYS, round(self.days * FUTURE_SHARE))
        self.first = today - timedelta(days=self.days - future)
        self.positions = [set(rng.sample(range(self.days * 3), q)) for q in quota]

    def slots(self) -> Iterator[tuple[date, int, str]]:
        """(day, venue index, session) in time order; a lone morning may become a full day."""
        for offset in range(self.days):
            day = self.first + timedelta(days=offset)
            for session_index, session in enumerate(SESSIONS):
                for venue, taken in enumerate(self.positions):
                    position = offset * 3 + session_index
                    if position not in taken:
                        continue
                    if (session == "morning" and position + 1 not in taken
                            and (position * 7919 + venue) % 5 == 0):
                        yield day, venue, "full_day"  # 08:30-17:30, the afternoon is free
                    else:
                        yield day, venue, session


def _status(rng: random.Random, past: bool) -> str:
    if past:
        return rng.choices([S.COMPLETED, S.CANCELLED, S.NO_SHOW, S.REJECTED, S.EXPIRED],
                           [85, 6, 3, 3, 3])[0]
    return rng.choices([S.APPROVED, S.REQUESTED, S.CANCELLED, S.REJECTED], [60, 28, 8, 4])[0]


def seed(venues: int, bookings: int, clients: int, echo=click.echo) -> dict:
    """Write the dataset in one write transaction; returns :func:`bench_state`."""
    rng = random.Random(SEED)
    now = utcnow()
    zone = local_zone()
    today = now.astimezone(zone).date()
    started = clock.monotonic()
    password_hash = hash_password(BENCH_PASSWORD)  # once: Argon2 is slow on purpose

    with write_transaction():
        venue_rows, layouts, equipment = _venue_rows(venues, rng)
        venue_ids = _insert(Venue, venue_rows, returning=True)
        _insert(VenueLayout, [{"venue_id": vid, "layout": layout, "capacity": capacity}
                              for vid, items in zip(venue_ids, layouts, strict=True)
                              for layout, capacity in items])
        _insert(VenueEquipment, [{"venue_id": vid, "equipment": code}
                                 for vid, codes in zip(venue_ids, equipment, strict=True)
                                 for code in codes])
        user_rows, user_ids = _user_rows(clients, password_hash, now), []
        for first in range(0, len(user_rows), CHUNK):
            user_ids += _insert(User, user_rows[first:first + CHUNK], returning=True)
        staff_id, client_ids = user_ids[0], user_ids[1:]
        meal_id = _insert(CateringOption, [{"kind": "meal", "name": "基准工作餐 40元/人",
                                            "unit_price_fen": 4000, "active": True}],
                          returning=True)[0]
        echo(f"{venues} venues, {clients} clients and 1 staff account written "
             f"({clock.monotonic() - started:.1f} s)")

        plan = _Plan(venues, bookings, today, rng)
        rates = [pricing.VenueRates(row["external_half_day_fen"], row["external_evening_fen"],
                                    row["external_full_day_fen"]) for row in venue_rows]
        internal_rates = [pricing.VenueRates(row["internal_half_day_fen"],
                                             row["internal_evening_fen"],
                                             row["internal_full_day_fen"]) for row in venue_rows]
        written = 0
        pending: list[tuple[dict, dict, dict | None]] = []

        def flush_chunk() -> None:
            nonlocal written
            ids = _insert(Booking, [b for b, _s, _c in pending], returning=True)
            slot_rows, catering_rows = [], []
            for booking_id, (_b, slot, catering) in zip(ids, pending, strict=True):
                slot_rows.append({**slot, "booking_id": booking_id})
                if catering:
                    catering_rows.append({**catering, "booking_id": booking_id})
            _insert(VenueSlot, slot_rows)
            _insert(BookingCatering, catering_rows)
            written += len(pending)
            pending.clear()
            echo(f"  {written} bookings ({clock.monotonic() - started:.1f} s)")

        for day, venue_index, session in plan.slots():
            venue = venue_rows[venue_index]
            start_time, end_time = pricing.SESSIONS[session]
            starts, ends = local_datetime(day, start_time), local_datetime(day, end_time)
            status = _status(rng, ends < now)
            internal = rng.random() < INTERNAL_SHARE
            if internal:
                client_id, department = None, rng.choice(DEPARTMENTS)
                rate_kind = rng.choice([pricing.RateKind.INTERNAL, pricing.RateKind.FREE])
            else:
                heavy = rng.random() < HEAVY_SHARE
                client_id = client_ids[0] if heavy else rng.choice(client_ids)
                department, rate_kind = "", pricing.RateKind.EXTERNAL
            layout, capacity = rng.choice(layouts[venue_index])
            headcount = rng.randint(max(1, capacity // 4), capacity)
            catering = None
            catering_requests = []
            if rng.random() < 0.2:
                catering = {"option_id": meal_id, "kind": "meal", "label": "基准工作餐 40元/人",
                            "unit_price_fen": 4000, "quantity": headcount, "times": 1}
                catering_requests.append(pricing.CateringRequest("meal", catering["label"],
                                                                 4000, headcount, 1))
            quote = pricing.quote(
                [pricing.SlotRequest(venue["name"], day, session, start_time, end_time,
                                     internal_rates[venue_index] if internal
                                     else rates[venue_index])],
                catering_requests, rate_kind)
            decided = status != S.REQUESTED
            created = min(starts, now) - timedelta(days=rng.randint(1, 60))
            approved = status in (S.APPROVED, S.COMPLETED, S.NO_SHOW)
            booking = {
                "client_id": client_id, "department": department,
                "created_by_id": staff_id if internal else client_id,
                "status": status, "rate_kind": rate_kind, "title": rng.choice(TITLES),
                "purpose": "", "headcount": headcount, "layout": layout, "equipment": [],
                "notes": "", "contact_phone": "", "starts_at": starts,
                "slot_seconds": int((ends - starts).total_seconds()), "created_at": created,
                "expires_at": now + timedelta(hours=72) if status == S.REQUESTED else None,
                "decided_at": created + timedelta(days=1) if decided else None,
                "reason": "基准测试数据" if status in (S.REJECTED, S.CANCELLED) else "",
                "deposit_due_on": None, "deposit_fen": 0, "quote_total_fen": quote.total_fen,
                "approved_quote": quote.as_dict() if approved else None,
                "actual_headcount": headcount if status == S.COMPLETED else None,
                "extras_fen": 0,
                "final_total_fen": quote.total_fen if status == S.COMPLETED else None,
                "series_id": None,
            }
            buffer = timedelta(minutes=venue["setup_minutes"])
            slot = {"venue_id": venue_ids[venue_index], "blackout_id": None, "session": session,
                    "starts_at": starts, "ends_at": ends, "blocked_from": starts - buffer,
                    "blocked_until": ends + timedelta(minutes=venue["cleanup_minutes"]),
                    "active": status in S.ACTIVE}
            pending.append((booking, slot, catering))
            if len(pending) == CHUNK:
                flush_chunk()
        if pending:
            flush_chunk()
    if db.engine.dialect.name == "postgresql":
        # The steady state autovacuum would reach: planner statistics, and a visibility map
        # so that counts can use index-only scans. (VACUUM cannot run in a transaction.)
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE")
    echo(f"seeded in {clock.monotonic() - started:.1f} s")
    return bench_state()


# --- the command -----------------------------------------------------------------------------


@click.command("bench-seed")
@click.option("--venues", default=200, show_default=True, type=click.IntRange(1, 999))
@click.option("--bookings", default=200_000, show_default=True, type=click.IntRange(0))
@click.option("--clients", default=2_000, show_default=True, type=click.IntRange(1, 9999))
@click.option("--check", is_flag=True,
              help="Only report what is seeded (JSON); exit 0 when it has these sizes, else 3.")
@with_appcontext
def bench_seed(venues: int, bookings: int, clients: int, check: bool) -> None:
    """Seed a large bookings dataset for the benchmark (refused in production)."""
    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("benchmark data is refused in production")
    state = bench_state()
    same = state["venues"] == venues and state["bookings"] == bookings
    if check:
        click.echo(json.dumps(state, ensure_ascii=False))
        raise SystemExit(0 if same else 3)
    if same:
        click.echo(f"already seeded with {venues} venues and {bookings} bookings; nothing to do")
    elif state["venues"] or db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.email == STAFF_EMAIL)):
        raise click.ClickException(
            f"this database already holds a bench dataset ({state['venues']} venues, "
            f"{state['bookings']} bookings); seed a fresh database")
    else:
        state = seed(venues, bookings, clients)
    click.echo(json.dumps(state, ensure_ascii=False))


def init_bench_cli(app: Flask) -> None:
    """Add ``flask bench-seed`` to the app's command line (idempotent)."""
    if "bench-seed" not in app.cli.commands:
        app.cli.add_command(bench_seed)

