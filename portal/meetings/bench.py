"""A large suppliers-and-meetings dataset for ``make bench``: ``flask bench-seed-meetings``.

The issue's performance section asks for 500 suppliers, 2,000 service contracts, 1,000 joint
meetings and 20,000 action items. They are written in bulk with Core ``INSERT`` statements
(chunks, ids read back with ``RETURNING``) inside one write transaction, like the rentals
bench: **not audited, on purpose** (synthetic benchmark data only).

Deterministic (a seeded PRNG; dates relative to today):

* nine service categories ``bench-…`` (made if missing);
* ``--suppliers`` suppliers ``BENCH-S0001…`` with valid credit codes, each providing one
  category;
* ``--contracts`` contracts spread over the suppliers (chains of yearly contracts: ended,
  renewed, active, expiring, upcoming);
* ``--meetings`` meetings, each inviting three suppliers, with three attendees and five agenda
  items; the oldest published, the last few held or planned;
* ``--actions`` action items spread over the meetings, owned by an invited supplier, in every
  state (open ones past their date are overdue).

``--check`` only reports (as JSON) and exits 0 when the sizes match, 3 otherwise. The command
is refused in production. The state names the heaviest supplier and a meeting for the bench
targets (meeting page, agenda pre-fill, scorecard).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, time, timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from ..bookings.bench import BENCH_PASSWORD, STAFF_EMAIL
from ..catalogue.models import ServiceCategory
from ..database import utcnow, write_transaction
from ..extensions import db
from ..i18n import local_today
from ..rentals.bench import _insert, _staff_id
from ..suppliers.models import ServiceContract, Supplier, SupplierContact, supplier_service
from ..validators import uscc_check_char
from .models import (
    ActionItem,
    AgendaItem,
    Meeting,
    MeetingAttendee,
    meeting_supplier,
)

SEED = 20266
PREFIX = "BENCH-S"
CATEGORY_PREFIX = "bench-"
CATEGORIES = ["保洁", "外墙清洗", "汽车维修保养", "绿化养护", "电梯", "消防监控", "智能化会议室",
              "空调机组维护", "通勤车租赁"]
INVITED = 3
AGENDA = 5


def bench_state() -> dict:
    bench = sa.select(Supplier.id).where(Supplier.name.like(f"{PREFIX}%"))
    suppliers = db.session.scalar(sa.select(sa.func.count()).select_from(Supplier)
                                  .where(Supplier.name.like(f"{PREFIX}%"))) or 0
    contracts = db.session.scalar(sa.select(sa.func.count()).select_from(ServiceContract)
                                  .where(ServiceContract.supplier_id.in_(bench))) or 0
    meetings = db.session.scalar(sa.select(sa.func.count()).select_from(Meeting)
                                 .where(Meeting.title.like("BENCH %"))) or 0
    actions = db.session.scalar(
        sa.select(sa.func.count()).select_from(ActionItem).join(Meeting)
        .where(Meeting.title.like("BENCH %"))) or 0
    heavy = db.session.execute(
        sa.select(ActionItem.supplier_id, sa.func.count().label("n")).join(Meeting)
        .where(Meeting.title.like("BENCH %")).group_by(ActionItem.supplier_id)
        .order_by(sa.text("n DESC"), ActionItem.supplier_id).limit(1)).first()
    meeting_id = db.session.scalar(
        sa.select(Meeting.id).where(Meeting.title.like("BENCH %"))
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc()).limit(1))
    return {"suppliers": suppliers, "contracts": contracts, "meetings": meetings,
            "actions": actions, "supplier_id": heavy[0] if heavy else None,
            "meeting_id": meeting_id, "staff_email": STAFF_EMAIL, "password": BENCH_PASSWORD,
            "database": db.engine.dialect.name}


def _uscc(number: int) -> str:
    first17 = f"91310116MB{number:07d}"
    return first17 + uscc_check_char(first17)


def seed(n_suppliers: int, n_contracts: int, n_meetings: int, n_actions: int,
         echo=click.echo) -> dict:
    rng = random.Random(SEED)
    today = local_today()
    now = utcnow()
    with write_transaction():
        staff_id = _staff_id(now)
        categories = []
        for k, name in enumerate(CATEGORIES):
            code = f"{CATEGORY_PREFIX}{k}"
            found = db.session.scalar(sa.select(ServiceCategory.id).where(
                ServiceCategory.code == code))
            categories.append(found or _insert(ServiceCategory, [{
                "code": code, "name": f"{name}（基准）", "name_en": "", "team": "",
                "default_assignee_id": None, "contract_id": None, "response_days": 1,
                "resolution_days": 5, "sort_order": 900 + k, "active": True}],
                returning=True)[0])
        supplier_ids = _insert(Supplier, [{
            "name": f"{PREFIX}{i:04d} 服务有限公司", "uscc": _uscc(i),
            "address": "", "notes": "", "integrity_signed_on": today - timedelta(days=200),
            "integrity_file": None, "integrity_file_label": "", "created_at": now}
            for i in range(1, n_suppliers + 1)], returning=True)
        _insert(SupplierContact, [
            {"supplier_id": sid, "name": f"联系人{k}", "title": "项目经理" if k == 1 else "主管",
             "phone": "13800000000", "email": f"s{sid}-{k}@meetings.bench.example.com",
             "position": k, "created_at": now}
            for sid in supplier_ids for k in (1, 2)])
        category_of = {sid: categories[i % len(categories)]
                       for i, sid in enumerate(supplier_ids)}
        _insert(_ServiceRow, [
            {"supplier_id": sid, "category_id": cid} for sid, cid in category_of.items()])
        echo(f"{len(supplier_ids)} suppliers")

        # Contracts: a chain of yearly contracts per supplier, the latest one in force.
        per = max(1, n_contracts // max(1, n_suppliers))
        rows = []
        for i in range(n_contracts):
            sid = supplier_ids[i % len(supplier_ids)]
            k = i // len(supplier_ids)  # position in the chain, 0 = the latest
            shift = rng.randint(-60, 300)
            start = today - timedelta(days=365 * k + shift)
            rows.append({
                "supplier_id": sid, "category_id": category_of[sid],
                "number": f"BENCH-HT-{i:06d}", "title": "委托服务协议", "starts_on": start,
                "ends_on": start + timedelta(days=364), "amount_fen": 10_000_000 + i,
                "payment_terms": "按季度支付", "response_hours": 2, "fix_hours": 24,
                "document_file": None, "document_file_label": "", "successor_id": None,
                "created_at": now, "_chain": (sid, k)})
        chain = {row.pop("_chain"): n for n, row in enumerate(rows)}
        contract_ids = _insert(ServiceContract, rows, returning=True)
        for (sid, k), n in chain.items():
            if k > 0 and rng.random() < 0.7 and (sid, k - 1) in chain:
                db.session.execute(sa.update(ServiceContract.__table__).where(
                    ServiceContract.__table__.c.id == contract_ids[n]).values(
                    successor_id=contract_ids[chain[(sid, k - 1)]]))
        echo(f"{len(contract_ids)} contracts ({per} per supplier)")

        # Meetings: weekly-ish, oldest first; the newest are held or planned.
        meeting_rows, invited = [], []
        for m in range(n_meetings):
            day = today - timedelta(days=(n_meetings - m) * 2 - 20)
            status = "minutes_published" if day < today - timedelta(days=14) else (
                "held" if day <= today else "planned")
            start = datetime.combine(day, time(6, 0), UTC)
            meeting_rows.append({
                "title": f"BENCH 联席会议 {m:05d}", "starts_at": start,
                "ends_at": start + timedelta(hours=2), "location": "三楼会议室",
                "booking_id": None, "status": status, "chair": "主持人", "recorder": "记录人",
                "summary": "", "cancel_reason": "",
                "published_at": start + timedelta(days=2)
                if status == "minutes_published" else None,
                "created_by_id": staff_id, "created_at": now})
            invited.append(rng.sample(supplier_ids, min(INVITED, len(supplier_ids))))
        meeting_ids = _insert(Meeting, meeting_rows, returning=True)
        _insert(_MeetingSupplierRow, [{"meeting_id": mid, "supplier_id": sid}
                                      for mid, sids in zip(meeting_ids, invited, strict=True)
                                      for sid in sids])
        _insert(MeetingAttendee, [
            {"meeting_id": mid, "user_id": None, "supplier_id": sid, "name": "代表",
             "title": "", "attended": True}
            for mid, sids in zip(meeting_ids, invited, strict=True) for sid in sids])
        agenda_rows = []
        for mid, sids in zip(meeting_ids, invited, strict=True):
            for p in range(AGENDA):
                agenda_rows.append({
                    "meeting_id": mid, "position": p + 1, "kind": "other",
                    "supplier_id": sids[p % len(sids)], "title": f"议题 {p + 1}",
                    "feedback_id": None, "carried_action_id": None, "figures": None,
                    "discussion": "讨论了服务质量问题，**供应商**承诺整改。",
                    "decisions": "限期整改"})
        agenda_ids = _insert(AgendaItem, agenda_rows, returning=True)
        echo(f"{len(meeting_ids)} meetings, {len(agenda_ids)} agenda items")

        action_rows = []
        for a in range(n_actions):
            m = a % len(meeting_ids)
            status = rng.choices(("open", "done", "verified"), (3, 2, 5))[0]
            meeting_day = meeting_rows[m]["starts_at"].date()
            action_rows.append({
                "meeting_id": meeting_ids[m], "agenda_item_id": agenda_ids[m * AGENDA],
                "description": f"整改事项 {a}", "supplier_id": invited[m][a % INVITED],
                "responsible_person": "项目经理",
                "due_on": meeting_day + timedelta(days=rng.randint(7, 60)), "status": status,
                "done_at": now if status != "open" else None,
                "verified_at": now if status == "verified" else None,
                "verified_by_id": staff_id if status == "verified" else None, "note": "",
                "created_at": now})
        _insert(ActionItem, action_rows)
        echo(f"{len(action_rows)} action items")
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                "VACUUM ANALYZE")
    return bench_state()


class _ServiceRow:
    __table__ = supplier_service


class _MeetingSupplierRow:
    __table__ = meeting_supplier


@click.command("bench-seed-meetings")
@click.option("--suppliers", default=500, show_default=True, type=click.IntRange(1))
@click.option("--contracts", default=2_000, show_default=True, type=click.IntRange(0))
@click.option("--meetings", default=1_000, show_default=True, type=click.IntRange(1))
@click.option("--actions", default=20_000, show_default=True, type=click.IntRange(0))
@click.option("--check", is_flag=True,
              help="Only report what is seeded (JSON); exit 0 when it has these sizes, else 3.")
@with_appcontext
def bench_seed_meetings(suppliers: int, contracts: int, meetings: int, actions: int,
                        check: bool) -> None:
    """Seed a large suppliers-and-meetings dataset for the benchmark (refused in production)."""
    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("benchmark data is refused in production")
    state = bench_state()
    sizes = (suppliers, contracts, meetings, actions)
    same = (state["suppliers"], state["contracts"], state["meetings"], state["actions"]) == sizes
    if check:
        click.echo(json.dumps(state, ensure_ascii=False))
        raise SystemExit(0 if same else 3)
    if same:
        click.echo("already seeded with these sizes; nothing to do")
    elif state["suppliers"] or state["meetings"]:
        raise click.ClickException(
            f"this database already holds a meetings bench dataset of another size ({state}); "
            "seed a fresh database")
    else:
        state = seed(*sizes)
    click.echo(json.dumps(state, ensure_ascii=False))


def init_meetings_bench_cli(app: Flask) -> None:
    """Add ``flask bench-seed-meetings`` to the app's command line (idempotent)."""
    if "bench-seed-meetings" not in app.cli.commands:
        app.cli.add_command(bench_seed_meetings)
