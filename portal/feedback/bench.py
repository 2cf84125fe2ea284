"""A large feedback dataset for ``make bench``: ``flask --app portal bench-seed-feedback``.

50,000 feedback items by default, written in bulk with Core ``INSERT`` statements (chunks,
ids read back with ``RETURNING``) inside one :func:`~portal.database.write_transaction`, like
the rentals bench (:mod:`portal.rentals.bench`, whose insert helper and staff account it
reuses).

**Not audited, on purpose.** Core inserts bypass the ORM's audit hook; acceptable for
synthetic benchmark data only.

The data is deterministic (a seeded PRNG; dates relative to today):

* 12 categories ``bench-fb-01``… (SLA of 1–2 and 3–10 working days);
* ``--supervisors`` supervisor accounts (``bench-supervisor-0001@bench.example.com``…), each
  with an active term;
* ``--items`` items submitted over the last two years, spread over the supervisors (the first
  one has about a hundred), in every state: mostly closed, some open and overdue, some
  rejected or duplicates (of the first item); first-response and resolution times of a few
  hours to a couple of weeks, late flags decided from the deadlines (working days, computed
  as the service does);
* each item's timeline: its submission and its latest step.

The command is refused in production.  ``--check`` only reports (as JSON) what is seeded and
exits 0 when it matches the size asked for, 3 otherwise.
"""

from __future__ import annotations

import json
import random
import time as clock
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..auth.models import User
from ..auth.passwords import hash_password
from ..bookings.bench import BENCH_PASSWORD, EMAIL_DOMAIN
from ..catalogue.models import ServiceCategory
from ..database import utcnow, write_transaction
from ..extensions import db
from ..rentals.bench import _insert, _staff_id
from ..roles import Role
from ..workdays import add_workdays
from . import services
from .models import (
    Feedback,
    FeedbackEvent,
    FeedbackStatus,
    SupervisorAppointment,
)

S = FeedbackStatus
SEED = 20265
PREFIX = "bench-fb-"
DAYS = 730
TEXTS = ["卫生间地面有积水", "会议室空调不制冷", "电梯运行有异响", "食堂菜品偏咸", "绿化带杂草较多",
         "通勤车晚点", "外墙玻璃积灰", "投影仪无法连接", "走廊灯不亮", "消防通道堆放杂物"]
# The latest step of an item in each state (its timeline shows the submission and this).
LAST_STEP = {S.ACCEPTED: "accept", S.IN_PROGRESS: "start", S.RESOLVED: "resolve",
             S.CLOSED: "close", S.REJECTED: "reject", S.DUPLICATE: "mark_duplicate",
             S.SPAM: "mark_spam"}
STATES = [(S.CLOSED, 55), (S.RESOLVED, 8), (S.IN_PROGRESS, 8), (S.ACCEPTED, 6),
          (S.SUBMITTED, 8), (S.REJECTED, 8), (S.DUPLICATE, 7), (S.SPAM, 1)]
PUBLIC_EVERY = 10  # one item in ten comes through a QR code (and every spam item)


def supervisor_email(number: int) -> str:
    return f"bench-supervisor-{number:04d}@{EMAIL_DOMAIN}"


def bench_state() -> dict:
    """What the database holds of the feedback bench dataset (a few cheap queries)."""
    category_ids = list(db.session.scalars(
        sa.select(ServiceCategory.id).where(ServiceCategory.code.like(f"{PREFIX}%"))))
    items, item_id = 0, None
    if category_ids:
        items = db.session.scalar(sa.select(sa.func.count()).select_from(Feedback).where(
            Feedback.category_id.in_(category_ids))) or 0
        item_id = db.session.scalar(
            sa.select(Feedback.id).where(Feedback.category_id.in_(category_ids),
                                         Feedback.status == S.CLOSED)
            .order_by(Feedback.id.desc()).limit(1))
    return {"feedback": items, "feedback_item_id": item_id,
            "feedback_supervisor_email": supervisor_email(1), "password": BENCH_PASSWORD}


@cache
def _due(day: date, days: int) -> date:
    return add_workdays(day, days)


def seed(items: int, supervisors: int, echo=click.echo) -> dict:
    rng = random.Random(SEED)
    now = utcnow()
    today = services.today()
    started = clock.monotonic()

    def say(message: str) -> None:
        echo(f"{message} ({clock.monotonic() - started:.1f} s)")

    with write_transaction():
        staff_id = _staff_id(now)
        category_ids = _insert(ServiceCategory, [
            {"code": f"{PREFIX}{n:02d}", "name": f"基准服务{n:02d}", "name_en": f"Bench {n:02d}",
             "team": "基准班组", "default_assignee_id": staff_id, "contract_id": None,
             "response_days": 1 + n % 2, "resolution_days": 3 + n % 8, "sort_order": 1000 + n,
             "active": True} for n in range(1, 13)], returning=True)
        slas = {cid: (1 + n % 2, 3 + n % 8) for n, cid in enumerate(category_ids, start=1)}
        password_hash = hash_password(BENCH_PASSWORD)
        user_ids = _insert(User, [
            {"email": supervisor_email(n), "name": f"监督员{n:04d}", "organisation": "基准单位",
             "phone": "", "role": Role.SUPERVISOR, "password_hash": password_hash,
             "email_verified_at": now, "active": True, "session_epoch": 0, "locale": None,
             "created_at": now, "last_login_at": None}
            for n in range(1, supervisors + 1)], returning=True)
        term_start = today - timedelta(days=DAYS + 30)
        appointment_ids = _insert(SupervisorAppointment, [
            {"user_id": uid, "unit": f"基准单位{n:04d}", "title": "主任",
             "letter_number": f"BENCH-{n:05d}", "term_start": term_start,
             "term_end": today + timedelta(days=365), "ended_on": None, "end_reason": "",
             "replaces_id": None, "created_at": now}
            for n, uid in enumerate(user_ids, start=1)], returning=True)
        say(f"12 categories, {supervisors} supervisors with their terms")

        states = [state for state, _ in STATES]
        weights = [weight for _, weight in STATES]
        original = None
        rows, events = [], []

        def flush():
            nonlocal original
            ids = _insert(Feedback, rows, returning=True)
            if original is None and ids:
                original = ids[0]
            for item_id, row in zip(ids, rows, strict=True):
                events.append({"feedback_id": item_id, "action": "submit", "from_status": None,
                               "to_status": S.SUBMITTED, "actor_id": row["supervisor_id"],
                               "note": "", "at": row["submitted_at"]})
                if row["status"] != S.SUBMITTED:
                    closed = row["status"] == S.CLOSED
                    events.append({"feedback_id": item_id, "action": LAST_STEP[row["status"]],
                                   "from_status": S.RESOLVED if closed else S.SUBMITTED,
                                   "to_status": row["status"],
                                   "actor_id": row["supervisor_id"] if closed else staff_id,
                                   "note": row["response"] or row["reason"],
                                   "at": row["closed_at"] or row["resolved_at"]
                                   or row["first_response_at"]})
            _insert(FeedbackEvent, events)
            rows.clear()
            events.clear()

        for n in range(items):
            heavy = n % max(1, items // 100) == 0
            who = 0 if heavy else rng.randrange(len(user_ids))
            category = rng.choice(category_ids)
            response_days, resolution_days = slas[category]
            day = today - timedelta(days=int(DAYS * (1 - (n + 1) / (items + 1))))
            submitted = datetime.combine(day, time(8 + rng.randrange(10), rng.randrange(60)),
                                         tzinfo=UTC)
            status = rng.choices(states, weights)[0]
            if day >= today - timedelta(days=2) and status == S.CLOSED:
                status = S.SUBMITTED
            if status == S.DUPLICATE and original is None:
                status = S.CLOSED
            response_due, resolution_due = (_due(day, response_days),
                                            _due(day, resolution_days))
            responded = resolved = closed = None
            if status != S.SUBMITTED:
                responded = submitted + timedelta(hours=rng.choice([1, 2, 4, 8, 20, 30, 60]))
            if status in (S.RESOLVED, S.CLOSED):
                resolved = responded + timedelta(hours=rng.choice([3, 10, 26, 50, 90, 200]))
            if status == S.CLOSED:
                closed = resolved + timedelta(hours=rng.choice([2, 12, 30]))
            refused = status in (S.REJECTED, S.DUPLICATE, S.SPAM)
            public = status == S.SPAM or n % PUBLIC_EVERY == PUBLIC_EVERY - 1
            rows.append({
                "source": "public" if public else "supervisor",
                "place_label": "第一食堂大厅" if public else "",
                "supervisor_id": None if public else user_ids[who],
                "appointment_id": None if public else appointment_ids[who],
                "category_id": category, "building_id": None, "room_id": None,
                "location_detail": "", "description": rng.choice(TEXTS),
                "service_rating": rng.randrange(1, 6), "urgency": "normal",
                "status": status, "assignee_id": staff_id if responded and not refused else None,
                "supplier_id": None, "contract_id": None,
                "response": "已处理" if resolved else "", "reason": "重复或不属于服务范围"
                if refused else "",
                "duplicate_of_id": original if status == S.DUPLICATE else None,
                "handling_rating": rng.randrange(2, 6) if closed else None,
                "closing_comment": "", "reopen_count": 1 if closed and n % 17 == 0 else 0,
                "escalated_at": None, "submitted_at": submitted, "first_response_at": responded,
                "resolved_at": resolved, "closed_at": closed, "response_due_on": response_due,
                "resolution_due_on": resolution_due,
                "responded_late": None if responded is None else responded.date() > response_due,
                "resolved_late": None if resolved is None else resolved.date() > resolution_due,
            })
            if original is None or len(rows) >= 5_000:
                flush()
        if rows:
            flush()
        say(f"{items} feedback items with their timelines")
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE")
    say("seeded")
    return bench_state()


@click.command("bench-seed-feedback")
@click.option("--items", default=50_000, show_default=True, type=click.IntRange(1))
@click.option("--supervisors", default=200, show_default=True, type=click.IntRange(1))
@click.option("--check", is_flag=True,
              help="Only report what is seeded (JSON); exit 0 when it has this size, else 3.")
@with_appcontext
def bench_seed_feedback(items: int, supervisors: int, check: bool) -> None:
    """Seed a large feedback dataset for the benchmark (refused in production)."""
    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("benchmark data is refused in production")
    with current_app.test_request_context():
        state = bench_state()
        if check:
            click.echo(json.dumps(state, ensure_ascii=False))
            raise SystemExit(0 if state["feedback"] == items else 3)
        if state["feedback"] == items:
            click.echo(f"already seeded with {items} feedback items; nothing to do")
        elif state["feedback"]:
            raise click.ClickException(
                f"this database already holds a feedback bench dataset ({state['feedback']} "
                "items); seed a fresh database")
        else:
            state = seed(items, supervisors)
    click.echo(json.dumps(state, ensure_ascii=False))


def init_feedback_bench_cli(app: Flask) -> None:
    """Add ``flask bench-seed-feedback`` to the app's command line (idempotent)."""
    if "bench-seed-feedback" not in app.cli.commands:
        app.cli.add_command(bench_seed_feedback)
