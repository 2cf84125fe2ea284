"""Rental rules: inventory, tenants, the lease lifecycle, schedules, payments and arrears.

The database guard on ``lease_room`` makes two active leases of one room impossible; these
services check first so the conflict is explained, and turn the guard's refusal in a race into
the same answer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from flask import current_app
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager, selectinload

from ..database import is_unique_violation, utcnow, write_transaction
from ..errors import Conflict, NotAllowed, Problems, ServiceError
from ..extensions import db
from ..forms import too_long
from ..i18n import local_today, money
from ..outbox.services import queue_email
from ..periods import is_overlap_violation, overlaps
from ..roles import Role
from ..validators import is_valid_resident_id, is_valid_uscc, normalise_code
from ..workflow import Transition, Workflow, locked
from . import schedule as rent_schedule
from .models import (
    Building,
    DepositStatus,
    Lease,
    LeaseRoom,
    LeaseStatus,
    Payment,
    PaymentAllocation,
    PaymentCycle,
    PaymentMethod,
    ReceiptCounter,
    ReceiptStatus,
    RentPeriod,
    Room,
    RoomStatus,
    Tenant,
)

log = logging.getLogger("portal.rentals")
L = LeaseStatus
D = DepositStatus
STAFF = Role.BUREAU
SYSTEM = "system"
MAX_RECEIPT = 50  # a receipt number (the column's size)

def today() -> date:
    return local_today()


def _runs_out_first(lease: Lease, actor, details) -> None:
    """"Record as ended" only once the last day has passed."""
    if lease.end_date >= today():
        raise NotAllowed(_l("The lease runs until %(date)s; to end it sooner, terminate it "
                            "early.", date=format_date(lease.end_date, "medium")))


def _last_day_within(lease: Lease, actor, details) -> None:
    """A termination names its last day, within the lease (a page offering the step has
    not chosen it yet)."""
    if "on" not in details:
        return
    on = details["on"]
    if on is None:
        raise ServiceError(_l("Choose the last day of the lease."), field="terminated_on")
    if not lease.start_date <= on <= lease.end_date:
        raise ServiceError(_l("The last day must lie within the lease (%(start)s to %(end)s).",
                              start=format_date(lease.start_date, "medium"),
                              end=format_date(lease.end_date, "medium")),
                           field="terminated_on")


WORKFLOW = Workflow(
    L.ALL,
    [
        Transition("submit", (L.DRAFT,), L.PENDING, STAFF, _l("Submit for approval")),
        Transition("approve", (L.PENDING,), L.ACTIVE, (Role.ADMIN,), _l("Approve")),
        Transition("send_back", (L.PENDING,), L.DRAFT, (Role.ADMIN,), _l("Send back"),
                   needs_reason=True),
        Transition("terminate", (L.ACTIVE,), L.TERMINATED, STAFF, _l("Terminate early"),
                   needs_reason=True, rule=_last_day_within),
        Transition("end", (L.ACTIVE,), L.ENDED, (*STAFF, SYSTEM), _l("Record as ended"),
                   rule=_runs_out_first),
    ],
    labels=L.LABELS, noun=_l("This lease"),
)


def _deposit_returnable(lease: Lease, actor, details) -> None:
    if lease.status not in (L.ACTIVE, L.ENDED, L.TERMINATED):
        raise NotAllowed(_l("The deposit is settled on an approved lease."), field="returned")


# A lease's deposit: received (a correction of the amount stays "received"), then settled.
DEPOSIT_FLOW = Workflow(
    D.ALL,
    [
        Transition("receive", (D.NONE, D.RECEIVED), D.RECEIVED, STAFF,
                   _l("Record the deposit received")),
        Transition("settle", (D.RECEIVED,), D.SETTLED, STAFF, _l("Settle the deposit"),
                   rule=_deposit_returnable),
    ],
    labels=D.LABELS, noun=_l("The deposit"), status_attr="deposit_status",
)


# --- inventory -------------------------------------------------------------------------------


def leased_room_ids(on: date | None = None):
    """SQL: rooms an active lease holds on a day (the derived 'leased' status)."""
    on = on or today()
    return sa.select(LeaseRoom.room_id).where(
        LeaseRoom.active, LeaseRoom.starts_on <= on, LeaseRoom.ends_before > on)


def room_status(room: Room, leased: set[int]) -> str:
    if room.status == RoomStatus.IDLE and room.id in leased:
        return RoomStatus.LEASED
    return room.status


def rooms_stmt(building_id=None, status="", use_type="", query=""):
    # The building is joined for the order anyway: read from that join (no second query).
    stmt = (sa.select(Room).join(Building).options(contains_eager(Room.building))
            .order_by(Building.name, Room.code))
    if building_id:
        stmt = stmt.where(Room.building_id == building_id)
    if status == RoomStatus.LEASED:
        stmt = stmt.where(Room.id.in_(leased_room_ids()))
    elif status == RoomStatus.IDLE:
        stmt = stmt.where(Room.status == RoomStatus.IDLE, Room.id.not_in(leased_room_ids()))
    elif status:
        stmt = stmt.where(Room.status == status)
    if use_type:
        stmt = stmt.where(Room.use_type == use_type)
    if query:
        like = f"%{query.strip()}%"
        stmt = stmt.where(sa.or_(Room.code.ilike(like), Building.name.ilike(like),
                                 Room.office_department.ilike(like),
                                 Room.facilities.ilike(like)))
    return stmt


def leased_among(room_ids) -> set[int]:
    if not room_ids:
        return set()
    return set(db.session.scalars(leased_room_ids().where(LeaseRoom.room_id.in_(room_ids))))


def set_room_status(room: Room, status: str, office_department: str = "") -> Room:
    """Staff change a room's stored status; a leased room keeps its lease."""
    if status not in RoomStatus.STORED:
        raise ServiceError(_l("Unknown status."), field="status")
    if status == RoomStatus.RESERVED_FOR_OFFICE and not office_department.strip():
        raise ServiceError(_l("Name the department that uses this office."),
                           field="office_department")
    with write_transaction():
        room = locked(room)
        if status != RoomStatus.IDLE and room.id in leased_among([room.id]):
            raise Conflict(_l("The room is leased; end or terminate the lease first."),
                           field="status")
        room.status = status
        room.office_department = office_department.strip() if status == \
            RoomStatus.RESERVED_FOR_OFFICE else ""
    return room


def occupancy(building_id: int | None = None) -> list[dict]:
    """Per building: area used by departments, leased, idle and other (2 queries)."""
    leased = leased_room_ids()
    kind = sa.case(
        (Room.status == RoomStatus.RESERVED_FOR_OFFICE, "office"),
        (Room.id.in_(leased), "leased"),
        (Room.status == RoomStatus.IDLE, "idle"),
        else_="other",
    )
    stmt = (sa.select(Room.building_id, kind.label("kind"), sa.func.sum(Room.area_m2),
                      sa.func.count())
            .where(Room.status != RoomStatus.DISPOSED).group_by(Room.building_id, kind))
    if building_id:
        stmt = stmt.where(Room.building_id == building_id)
    buildings = {b.id: b for b in db.session.scalars(sa.select(Building).order_by(Building.name))}
    rows: dict[int, dict] = {}
    for bid, kind_name, area, count in db.session.execute(stmt):
        entry = rows.setdefault(bid, {"building": buildings[bid], "office": Decimal(0),
                                      "leased": Decimal(0), "idle": Decimal(0),
                                      "other": Decimal(0), "rooms": 0})
        entry[kind_name] += Decimal(area or 0)
        entry["rooms"] += count
    result = []
    for entry in sorted(rows.values(), key=lambda e: e["building"].name):
        total = entry["office"] + entry["leased"] + entry["idle"] + entry["other"]
        lettable = entry["leased"] + entry["idle"]
        entry["total"] = total
        entry["occupancy"] = (entry["leased"] / lettable) if lettable else None
        result.append(entry)
    return result


# --- tenants ---------------------------------------------------------------------------------


@dataclass
class TenantInput:
    kind: str
    name: str
    code: str  # credit code or resident ID, by kind
    contact_name: str = ""
    phone: str = ""
    email: str = ""
    address: str = ""
    user_id: int | None = None


def save_tenant(tenant: Tenant | None, data: TenantInput) -> Tenant:
    code = normalise_code(data.code)
    if data.kind == "organisation" and not is_valid_uscc(code):
        raise ServiceError(_l("Not a valid unified social credit code: 18 characters whose "
                              "last one is the check character."), field="code")
    if data.kind == "person" and not is_valid_resident_id(code):
        raise ServiceError(_l("Not a valid resident ID number: 18 characters with a valid "
                              "birth date and check digit."), field="code")
    try:
        with write_transaction():
            if tenant is None:
                tenant = Tenant()
                db.session.add(tenant)
            tenant.kind = data.kind
            tenant.name = data.name.strip()
            tenant.uscc = code if data.kind == "organisation" else None
            tenant.id_number = code if data.kind == "person" else None
            tenant.contact_name = data.contact_name.strip()
            tenant.phone = data.phone.strip()
            tenant.email = data.email.strip().lower()
            tenant.address = data.address.strip()
            tenant.user_id = data.user_id
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):
            raise Conflict(_l("A tenant with this code, or linked to this account, exists."),
                           field="code") from None
        raise
    return tenant


# --- leases ----------------------------------------------------------------------------------


@dataclass
class LeaseInput:
    tenant_id: int
    room_ids: list[int]
    start: date
    end: date
    payment_cycle: str = "monthly"
    monthly_rent_fen: int | None = None  # None: area × standard
    rent_override_reason: str = ""
    deposit_due_fen: int = 0
    rent_free_until: date | None = None
    yearly_increase_pct: Decimal = Decimal(0)
    note: str = ""


def terms_of(lease: Lease) -> rent_schedule.Terms:
    return rent_schedule.Terms(
        lease.start_date, lease.end_date, lease.monthly_rent_fen,
        PaymentCycle.MONTHS[lease.payment_cycle], lease.rent_free_until,
        Decimal(lease.yearly_increase_pct or 0))


def _clashes(room_ids, start: date, ends_before: date, exclude_lease: int | None = None,
             statuses=None):
    """The rooms' lease periods meeting [start, ends_before): active ones (what the database
    guard refuses), or those of leases in ``statuses`` (pending ones, for a warning)."""
    stmt = (sa.select(LeaseRoom).join(Lease, Lease.id == LeaseRoom.lease_id).where(
        LeaseRoom.room_id.in_(room_ids),
        Lease.status.in_(statuses) if statuses else LeaseRoom.active,
        overlaps(LeaseRoom.starts_on, LeaseRoom.ends_before, start, ends_before))
        .options(selectinload(LeaseRoom.lease), selectinload(LeaseRoom.room))
        .order_by(LeaseRoom.starts_on, LeaseRoom.id))
    if exclude_lease is not None:
        stmt = stmt.where(LeaseRoom.lease_id != exclude_lease)
    return list(db.session.scalars(stmt))


def room_problems(rooms: list[Room], start: date, end: date, exclude_lease=None) -> list[str]:
    """Why these rooms cannot be leased from ``start`` to ``end`` (inclusive): not lettable,
    or held by a lease over some of those days (one of its remaining days, for a lease that
    ends early).  Empty when they can."""
    problems = []
    for room in rooms:
        if room.status == RoomStatus.RESERVED_FOR_OFFICE:
            problems.append(_l("%(room)s is office space of %(department)s and cannot be "
                               "leased.", room=room.label, department=room.office_department))
        elif room.status != RoomStatus.IDLE:
            problems.append(_l("%(room)s is not available for leasing (%(status)s).",
                               room=room.label, status=RoomStatus.LABELS[room.status]))
    for clash in _clashes([r.id for r in rooms], start, end + timedelta(days=1), exclude_lease):
        problems.append(_l("%(room)s is leased by %(ref)s until %(date)s.",
                           room=clash.room.label, ref=clash.lease.reference,
                           date=format_date(clash.ends_before - timedelta(days=1), "medium")))
    return problems


def room_warnings(room_ids, start: date | None, end: date | None,
                  exclude_lease: int | None = None) -> dict:
    """What the lease form tells staff while they choose rooms and dates (htmx), before the
    draft reaches the admin: ``problems`` that will refuse it, and ``pending`` leases awaiting
    approval that ask for the same rooms and days (the first approved wins)."""
    ids = [room_id for room_id in room_ids or [] if isinstance(room_id, int)][:200]
    if not ids or start is None or end is None or end < start:
        return {"problems": [], "pending": []}
    rooms = list(db.session.scalars(sa.select(Room).where(Room.id.in_(ids))))
    pending = [_l("%(room)s is also asked for by %(ref)s, awaiting approval.",
                  room=clash.room.label, ref=clash.lease.reference)
               for clash in _clashes(ids, start, end + timedelta(days=1), exclude_lease,
                                     statuses=(L.PENDING,))]
    return {"problems": room_problems(rooms, start, end, exclude_lease), "pending": pending}


def _check_rooms(rooms: list[Room], start: date, end: date, exclude_lease=None) -> None:
    problems = room_problems(rooms, start, end, exclude_lease)
    if problems:
        raise Conflict(problems[0], field="room_ids")


def _apply(lease: Lease, data: LeaseInput, rooms: list[Room]) -> None:
    standard = sum(room.standard_rent_fen() for room in rooms)
    if data.monthly_rent_fen is not None and data.monthly_rent_fen != standard:
        # _validate made sure a different rent has its reason
        lease.monthly_rent_fen = data.monthly_rent_fen
        lease.rent_override_reason = data.rent_override_reason.strip()
    else:
        lease.monthly_rent_fen = standard
        lease.rent_override_reason = ""
    lease.tenant_id = data.tenant_id
    lease.start_date, lease.end_date = data.start, data.end
    lease.payment_cycle = data.payment_cycle
    lease.deposit_due_fen = data.deposit_due_fen
    lease.rent_free_until = data.rent_free_until
    lease.yearly_increase_pct = data.yearly_increase_pct
    lease.note = data.note.strip()
    wanted = {room.id for room in rooms}
    for item in list(lease.rooms):
        if item.room_id not in wanted:
            lease.rooms.remove(item)
    have = {item.room_id for item in lease.rooms}
    for item in lease.rooms:
        item.starts_on, item.ends_before = data.start, data.end + timedelta(days=1)
    for room_id in sorted(wanted - have):
        lease.rooms.append(LeaseRoom(room_id=room_id, starts_on=data.start,
                                     ends_before=data.end + timedelta(days=1),
                                     active=lease.status in L.HOLDING))


def _validate(data: LeaseInput) -> list[Room]:
    """Every problem of a lease's input at once, each beside its field."""
    problems = Problems()
    if data.end < data.start:
        problems.add(_l("The last day cannot be before the first day."), "end")
    if data.payment_cycle not in PaymentCycle.MONTHS:
        problems.add(_l("Unknown payment cycle."), "payment_cycle")
    if data.rent_free_until is not None and not data.start <= data.rent_free_until <= data.end:
        problems.add(_l("The rent-free period must lie within the lease."), "rent_free_until")
    if not data.room_ids:
        problems.add(_l("Choose at least one room."), "room_ids")
    if data.deposit_due_fen < 0:
        problems.add(_l("Enter an amount of zero or more."), "deposit_due")
    if data.monthly_rent_fen is not None and data.monthly_rent_fen < 0:
        problems.add(_l("Enter an amount of zero or more."), "monthly_rent")
    if not 0 <= data.yearly_increase_pct <= 100:
        problems.add(_l("Enter a percentage from 0 to 100."), "yearly_increase_pct")
    rooms = list(db.session.scalars(sa.select(Room).where(Room.id.in_(data.room_ids))
                                    .options(selectinload(Room.building))))
    if len(rooms) != len(set(data.room_ids)):
        problems.add(_l("That room does not exist."), "room_ids")
    elif rooms and data.monthly_rent_fen is not None and data.monthly_rent_fen >= 0:
        standard = sum(room.standard_rent_fen() for room in rooms)
        if data.monthly_rent_fen != standard and not data.rent_override_reason.strip():
            problems.add(_l("The rent differs from area × standard (%(standard)s); give the "
                            "reason.", standard=money(standard)),
                         "rent_override_reason")
    if db.session.get(Tenant, data.tenant_id) is None:
        problems.add(_l("Choose a tenant."), "tenant_id")
    problems.raise_any()
    return rooms


def save_lease(user, lease: Lease | None, data: LeaseInput,
               predecessor_id: int | None = None) -> Lease:
    """Create or edit a draft lease (staff); the schedule is (re)generated with it."""
    rooms = _validate(data)
    with write_transaction():
        if lease is not None:
            lease = locked(lease)
            if lease.status not in (L.DRAFT, L.ACTIVE):
                raise NotAllowed(_l("This action is not possible in the record's current "
                                    "state."))
        _check_rooms(rooms, data.start, data.end, exclude_lease=lease.id if lease else None)
        if lease is None:
            lease = Lease(status=L.DRAFT, created_by_id=user.id, predecessor_id=predecessor_id)
            db.session.add(lease)
        try:
            _apply(lease, data, rooms)
            db.session.flush()
        except sa.exc.IntegrityError as error:
            # An active lease's new dates or rooms collided with a lease approved meanwhile.
            if is_overlap_violation(error):
                raise Conflict(_l("Another lease of one of these rooms was approved a moment "
                                  "ago."), field="room_ids") from None
            raise
        regenerate_schedule(lease)
    return lease


def regenerate_schedule(lease: Lease) -> None:
    """Replace the schedule lines that are neither billed nor paid (inside a transaction)."""
    locked = [period for period in lease.periods if period.locked]
    for period in list(lease.periods):
        if not period.locked:
            lease.periods.remove(period)
    db.session.flush()
    keep_after = max((p.ends_on for p in locked), default=None)
    for line in rent_schedule.schedule(terms_of(lease)):
        if keep_after is not None and line.starts_on <= keep_after:
            continue
        lease.periods.append(RentPeriod(starts_on=line.starts_on, ends_on=line.ends_on,
                                        due_on=line.due_on, amount_fen=line.amount_fen))


def offered(user, lease: Lease) -> list[Transition]:
    """The lease steps a page offers this user now (state, role and each step's rule)."""
    return WORKFLOW.offered(lease, user)


def can_edit(user, lease: Lease) -> bool:
    """Staff edit a draft, and correct an active lease's terms."""
    return user.role in STAFF and lease.status in (L.DRAFT, L.ACTIVE)


def can_renew(user, lease: Lease) -> bool:
    return user.role in STAFF and lease.status == L.ACTIVE


def can_record_payment(user, lease: Lease) -> bool:
    return user.role in STAFF and lease.status == L.ACTIVE


def renewal_of(lease: Lease) -> Lease | None:
    """The renewal being drafted, awaiting approval or in force, if any."""
    return db.session.scalar(sa.select(Lease).where(
        Lease.predecessor_id == lease.id, Lease.status.in_((L.DRAFT, L.PENDING, L.ACTIVE)))
        .order_by(Lease.id).limit(1))


def transition(lease: Lease, name: str, user=None, reason: str = "", on: date | None = None,
               expected: str | None = None) -> Lease:
    """Take a step of the lease's lifecycle (the one mechanism: lock, re-check, write, audit,
    mail); the fresh lease.  ``on``: the last day, for "terminate"."""

    def change(lease: Lease, step: Transition) -> None:
        if name == "approve":
            _check_rooms([item.room for item in lease.rooms], lease.start_date,
                         lease.end_date, exclude_lease=lease.id)
            for item in lease.rooms:
                item.active = True
            lease.approved_by_id = user.id
            lease.approved_at = utcnow()
        if name == "terminate":
            lease.terminated_on = on
            for period in list(lease.periods):  # rent stops after the last day
                if period.starts_on > on and not period.locked:
                    lease.periods.remove(period)
            # The rooms stay leased until the last day: the period is shortened, never
            # switched off, so the guard still refuses a lease of the remaining days.
            for item in lease.rooms:
                item.ends_before = min(item.ends_before, on + timedelta(days=1))
        lease.reason = reason.strip()

    def after(lease: Lease, step: Transition, before: str) -> None:
        _notify(lease, step)

    details = {"on": on} if name == "terminate" else {}
    try:
        return WORKFLOW.apply(lease, name, user, reason=reason, expected=expected,
                              change=change, after=after, **details)
    except sa.exc.IntegrityError as error:
        if is_overlap_violation(error):
            db.session.rollback()
            raise Conflict(_l("Another lease of one of these rooms was approved a moment ago."),
                           field="room_ids") from None
        raise


def _notify(lease: Lease, step: Transition) -> None:
    """Tell the tenant (in its account's language) and the rentals desk of a decision that
    concerns them; drafting and sending back stay between staff.  The same recipients as
    the rentals alerts."""
    if step.name not in ("approve", "terminate"):
        return
    from .tasks import lease_link, recipients  # tasks builds on these services

    account = lease.tenant.user
    context = {"lease": lease, "link": lease_link(lease.id),
               "status_label": L.LABELS[lease.status],
               "rooms": "、".join(sorted(item.room.label for item in lease.rooms))}
    for address, locale in recipients(lease.tenant.email, account.email if account else None,
                                      account.locale if account else None):
        queue_email(address, "lease_status", locale=locale, **context)


def renew(user, lease: Lease, end: date, monthly_rent_fen: int | None = None,
          reason: str = "") -> Lease:
    """A successor draft lease from the day after this one ends, linked to it; once, even
    when two staff renew at the same moment (decided on the locked lease)."""
    with write_transaction():
        lease = locked(lease)
        if not can_renew(user, lease):
            raise NotAllowed(_l("Only an active lease can be renewed."), field="end")
        successor = renewal_of(lease)
        if successor is not None:
            raise Conflict(_l("This lease is already renewed by %(ref)s.",
                              ref=successor.reference), field="end")
        start = lease.end_date + timedelta(days=1)
        if end < start:
            raise ServiceError(_l("The new last day must be after %(date)s, the current last "
                                  "day.", date=format_date(lease.end_date, "medium")),
                               field="end")
        data = LeaseInput(
            tenant_id=lease.tenant_id, room_ids=[item.room_id for item in lease.rooms],
            start=start, end=end, payment_cycle=lease.payment_cycle,
            monthly_rent_fen=monthly_rent_fen, rent_override_reason=reason,
            deposit_due_fen=lease.deposit_due_fen,
            yearly_increase_pct=Decimal(lease.yearly_increase_pct or 0))
        return save_lease(user, None, data, predecessor_id=lease.id)


# --- deposits --------------------------------------------------------------------------------


def record_deposit(user, lease: Lease, received_fen: int, on: date,
                   expected: str | None = None) -> Lease:
    """The deposit received (or a correction of it, until it is settled)."""
    problems = Problems()  # every problem at once, each beside its field
    if not received_fen or received_fen <= 0:
        problems.add(_l("Enter an amount greater than zero."), "deposit_received")
    if on is None or on > today():
        problems.add(_l("The day received cannot be in the future."), "received_on")
    problems.raise_any()

    def change(lease: Lease, step: Transition) -> None:
        lease.deposit_received_fen = received_fen
        lease.deposit_received_on = on

    return DEPOSIT_FLOW.apply(lease, "receive", user, expected=expected, change=change)


def _must_add_up(received_fen: int):
    return _l("Returned and deducted must add up to the deposit received (%(amount)s).",
              amount=money(received_fen))


def settle_deposit(user, lease: Lease, returned_fen: int, deducted_fen: int, reason: str,
                   on: date, expected: str | None = None) -> Lease:
    """The deposit returned and/or deducted (with the reason), once."""
    returned_fen, deducted_fen = returned_fen or 0, deducted_fen or 0
    problems = Problems()  # every problem at once, each beside its field
    if returned_fen < 0 or deducted_fen < 0:
        problems.add(_l("Enter an amount of zero or more."),
                     "returned" if returned_fen < 0 else "deducted")
    elif lease.deposit_received_fen and returned_fen + deducted_fen != lease.deposit_received_fen:
        problems.add(_must_add_up(lease.deposit_received_fen), "returned")
    if deducted_fen and not reason.strip():
        problems.add(_l("Give the reason for the deduction."), "deduction_reason")
    if on is None or on > today():
        problems.add(_l("The day settled cannot be in the future."), "settled_on")
    problems.raise_any()

    def change(lease: Lease, step: Transition) -> None:
        # Checked against the amount as it is now, under the lock.
        if returned_fen + deducted_fen != lease.deposit_received_fen:
            raise ServiceError(_must_add_up(lease.deposit_received_fen), field="returned")
        lease.deposit_returned_fen = returned_fen
        lease.deposit_deducted_fen = deducted_fen
        lease.deposit_deduction_reason = reason.strip()
        lease.deposit_settled_on = on

    return DEPOSIT_FLOW.apply(lease, "settle", user, expected=expected, change=change)


# --- payments --------------------------------------------------------------------------------


def _allocate(payment: Payment, periods: list[RentPeriod], amount: int, upto: date) -> int:
    """Apply ``amount`` to the oldest unpaid periods due by ``upto``; return what is left."""
    for period in sorted(periods, key=lambda p: (p.due_on, p.id)):
        if amount <= 0:
            break
        if period.due_on > upto or period.open_fen <= 0:
            continue
        share = min(amount, period.open_fen)
        period.paid_fen += share
        payment.allocations.append(PaymentAllocation(period_id=period.id, amount_fen=share))
        amount -= share
    return amount


def record_payment(user, lease: Lease, paid_on: date, amount_fen: int, method: str,
                   receipt_no: str, idempotency_key: str) -> tuple[Payment, bool]:
    """Record a payment once; (payment, created).  The oldest unpaid periods are paid first;
    what is left is kept as credit (a prepayment) for the periods that come due later."""
    receipt_no = (receipt_no or "").strip()
    problems = Problems()  # every problem at once, each beside its field
    if not idempotency_key or len(idempotency_key) > 64:
        problems.add(_l("This form has expired; reload the page."), "amount")
    elif not amount_fen or amount_fen <= 0:
        problems.add(_l("Enter an amount greater than zero."), "amount")
    if method not in PaymentMethod.ALL:
        problems.add(_l("Choose how it was paid."), "method")
    if paid_on is None or paid_on > today():
        problems.add(_l("The payment date cannot be in the future."), "paid_on")
    if len(receipt_no) > MAX_RECEIPT:
        problems.add(too_long(MAX_RECEIPT, len(receipt_no)), "receipt_no")
    problems.raise_any()
    existing = _payment_by_key(idempotency_key)
    if existing is not None:
        return existing, False
    try:
        with write_transaction():
            # The lease locked: two payments, or a payment and the tick's credit run, must
            # not both spend the same open amount.
            lease = locked(lease)
            existing = _payment_by_key(idempotency_key)  # the same form, a moment ago
            if existing is not None:
                return existing, False
            if lease.status != L.ACTIVE:
                raise NotAllowed(_l("Payments are recorded on active leases only."),
                                 field="amount")
            _check_receipt_free(receipt_no)
            year, number, code = issue_receipt_number(today().year)
            payment = Payment(lease_id=lease.id, paid_on=paid_on, amount_fen=amount_fen,
                              method=method, receipt_no=receipt_no, receipt_year=year,
                              receipt_number=number, receipt_code=code,
                              idempotency_key=idempotency_key, recorded_by_id=user.id)
            db.session.add(payment)
            db.session.flush()
            payment.credit_fen = _allocate(payment, lease.periods, amount_fen,
                                           max(paid_on, today()))
    except sa.exc.IntegrityError as error:
        if not is_unique_violation(error):
            raise
        db.session.rollback()
        existing = _payment_by_key(idempotency_key)
        if existing is not None:  # the same form submitted twice at the same instant
            return existing, False
        _check_receipt_free(receipt_no)  # a receipt number recorded at the same instant
        raise
    return payment, True


def receipt_code(year: int, number: int, prefix: str | None = None) -> str:
    """The receipt number as printed: the prefix from the settings, the year, six digits
    (ZJ2026-000123; 2026-000123 without a prefix)."""
    if prefix is None:
        prefix = current_app.config.get("RENTALS_RECEIPT_PREFIX") or ""
    return f"{prefix}{year}-{number:06d}"


def _counter_insert(year: int):
    """INSERT the year's counter row unless it exists (both engines' ON CONFLICT DO NOTHING),
    so two first payments of a year do not both try to create it."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(ReceiptCounter).values(year=year, last_number=0).on_conflict_do_nothing(
        index_elements=["year"])


def issue_receipt_number(year: int) -> tuple[int, int, str]:
    """The next receipt number of ``year``: (year, number, code as printed).

    Must run inside the write transaction of the payment it numbers: the year's counter row
    is locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transactions run one at
    a time) until that transaction ends, so concurrent payments take consecutive numbers, and
    a payment that rolls back rolls its number back with it: no gaps, no duplicates (the
    unique (year, number) constraint guards the rest)."""
    if not db.session.info.get("portal_write"):
        raise RuntimeError("issue_receipt_number() belongs inside write_transaction()")
    db.session.execute(_counter_insert(year))
    counter = db.session.scalar(
        sa.select(ReceiptCounter).where(ReceiptCounter.year == year).with_for_update()
        .execution_options(populate_existing=True))
    counter.last_number += 1
    db.session.flush()
    return year, counter.last_number, receipt_code(year, counter.last_number)


def _payment_by_key(idempotency_key: str) -> Payment | None:
    return db.session.scalar(sa.select(Payment).where(
        Payment.idempotency_key == idempotency_key))


def _check_receipt_free(receipt_no: str) -> None:
    """A receipt number names one payment (the database guards it; this explains it)."""
    if not receipt_no:
        return
    taken = db.session.scalar(sa.select(Payment).where(Payment.receipt_no == receipt_no)
                              .options(selectinload(Payment.lease)))
    if taken is not None:
        raise Conflict(_l("Receipt %(number)s is already recorded (lease %(ref)s, paid on "
                          "%(date)s).", number=receipt_no, ref=taken.lease.reference,
                          date=format_date(taken.paid_on, "medium")), field="receipt_no")


R = ReceiptStatus

# A payment's receipt: issued with it; voided by staff with a reason, keeping its number.
RECEIPT_FLOW = Workflow(
    R.ALL,
    [Transition("void", (R.ISSUED,), R.VOIDED, STAFF, _l("Void the receipt"),
                needs_reason=True)],
    labels=R.LABELS, noun=_l("This receipt"), status_attr="receipt_status",
)


def void_receipt(user, payment: Payment, reason: str,
                 expected: str | None = None) -> Payment:
    """Void a payment's receipt (staff, with the reason): the payment recorded in error or
    returned.  The receipt keeps its number (never issued again); the money it had paid
    towards the rent periods is taken back from them, and its unused credit is dropped, so
    the lease owes again what the receipt had covered.  A receipt voided a moment ago by
    someone else is a 409 that says so (:class:`StaleRecord`)."""
    if len(reason or "") > 2000:
        raise ServiceError(too_long(2000, len(reason)), field="reason")
    with write_transaction():
        # The lease first, as record_payment and the credit run lock it: one order of locks.
        locked(payment.lease)

        def change(fresh: Payment, step: Transition) -> None:
            for allocation in fresh.allocations:
                allocation.period.paid_fen -= allocation.amount_fen
            fresh.credit_fen = 0
            fresh.void_reason = reason.strip()
            fresh.voided_at = utcnow()
            fresh.voided_by_id = user.id

        return RECEIPT_FLOW.apply(payment, "void", user, reason=reason, expected=expected,
                                  change=change)


def can_void(user, payment: Payment) -> bool:
    return RECEIPT_FLOW.can(payment, user, "void")


def apply_credits(on: date | None = None) -> int:
    """Use prepayments for periods that have come due (run by ``tick``); amount applied."""
    on = on or today()
    applied = 0
    lease_ids = db.session.scalars(sa.select(Payment.lease_id).where(
        Payment.credit_fen > 0).distinct()).all()
    for lease_id in lease_ids:
        with write_transaction():
            lease = locked(db.session.get(Lease, lease_id))
            for payment in sorted((p for p in lease.payments if p.credit_fen > 0),
                                  key=lambda p: p.paid_on):
                left = _allocate(payment, lease.periods, payment.credit_fen, on)
                applied += payment.credit_fen - left
                payment.credit_fen = left
    return applied


# --- arrears ---------------------------------------------------------------------------------

AGING_BUCKETS = ((0, 30), (31, 90), (91, None))


def arrears_total(on: date | None = None) -> int:
    """All rent overdue on ``on`` (today), in fen: the total of :func:`arrears` (1 query,
    summed in SQL: the work report shows the total alone)."""
    from .tasks import overdue_condition

    return int(db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(RentPeriod.amount_fen - RentPeriod.paid_fen), 0))
        .join(Lease, Lease.id == RentPeriod.lease_id)
        .where(overdue_condition(on or today()))) or 0)


def arrears(on: date | None = None, tenant_id: int | None = None) -> list[dict]:
    """Overdue rent per tenant with aging buckets (days overdue), largest first (1 query)."""
    from .tasks import overdue_condition

    on = on or today()
    stmt = (sa.select(Tenant.id, Tenant.name, RentPeriod.due_on,
                      (RentPeriod.amount_fen - RentPeriod.paid_fen).label("open"))
            .join(Lease, Lease.id == RentPeriod.lease_id).join(Tenant, Tenant.id == Lease.tenant_id)
            .where(overdue_condition(on)))
    if tenant_id:
        stmt = stmt.where(Tenant.id == tenant_id)
    rows: dict[int, dict] = {}
    for tid, name, due_on, open_fen in db.session.execute(stmt):
        entry = rows.setdefault(tid, {"tenant_id": tid, "tenant": name, "total": 0,
                                      "buckets": [0, 0, 0], "oldest_days": 0})
        overdue_days = (on - due_on).days
        entry["total"] += open_fen
        entry["oldest_days"] = max(entry["oldest_days"], overdue_days)
        for index, (low, high) in enumerate(AGING_BUCKETS):
            if overdue_days >= low and (high is None or overdue_days <= high):
                entry["buckets"][index] += open_fen
    return sorted(rows.values(), key=lambda e: (-e["total"], e["tenant"]))


def lease_balance(lease: Lease, on: date | None = None) -> dict:
    """What a lease's tenant owes on a day; a lease not yet approved owes nothing (its
    schedule is a proposal), as in :func:`arrears`."""
    on = on or today()
    in_force = lease.status in (L.ACTIVE, L.ENDED, L.TERMINATED)
    due = sum(p.amount_fen for p in lease.periods if p.due_on <= on) if in_force else 0
    paid = sum(p.paid_fen for p in lease.periods)
    credit = sum(p.credit_fen for p in lease.payments)
    overdue = sum(p.open_fen for p in lease.periods if p.due_on < on) if in_force else 0
    return {"due": due, "paid": paid, "credit": credit, "overdue": overdue,
            "total": sum(p.amount_fen for p in lease.periods)}


def overdue_by_lease(lease_ids, on: date | None = None) -> dict[int, int]:
    """Each listed lease's overdue rent on a day (``lease_balance(...)["overdue"]``) in one
    aggregate query, for the lease lists (not every schedule line loaded as an object)."""
    on = on or today()
    if not lease_ids:
        return {}
    lease_ids = list(lease_ids)
    rows = db.session.execute(
        sa.select(RentPeriod.lease_id, sa.func.sum(RentPeriod.amount_fen - RentPeriod.paid_fen))
        .join(Lease, Lease.id == RentPeriod.lease_id)
        # The ids on both sides of the join: PostgreSQL does not carry them over, and hashed
        # every lease to join the page's 25 (4 ms instead of 0.2).
        .where(RentPeriod.lease_id.in_(lease_ids), Lease.id.in_(lease_ids),
               RentPeriod.due_on < on, Lease.status.in_((L.ACTIVE, L.ENDED, L.TERMINATED)))
        .group_by(RentPeriod.lease_id))
    return {lease_id: int(total or 0) for lease_id, total in rows}


def end_finished_leases(on: date | None = None) -> int:
    """Active leases whose last day has passed become ended (run by ``tick``)."""
    on = on or today()
    count = 0
    for lease_id in db.session.scalars(sa.select(Lease.id).where(
            Lease.status == L.ACTIVE, Lease.end_date < on)).all():
        try:
            transition(db.session.get(Lease, lease_id), "end")
            count += 1
        except NotAllowed:
            continue
    return count


def attention_conditions(on: date) -> dict:
    """What a lease may need from the desk (the leases list's ``need`` filter and the work
    list): the conditions of the alerts (:mod:`portal.rentals.tasks`)."""
    from .tasks import deposit_open_condition, expiring_condition, overdue_condition

    overdue = sa.select(RentPeriod.id).where(RentPeriod.lease_id == Lease.id,
                                              overdue_condition(on)).exists()
    return {"expiring": expiring_condition(on), "overdue": overdue,
            "deposit": deposit_open_condition()}


def leases_stmt(user, status: str = "", query: str = "", need: str = ""):
    stmt = (sa.select(Lease).where(Lease.visible_to(user))
            .options(selectinload(Lease.tenant),
                     selectinload(Lease.rooms).selectinload(LeaseRoom.room)
                     .selectinload(Room.building))
            .order_by(Lease.end_date.desc(), Lease.id.desc()))
    if status:
        stmt = stmt.where(Lease.status == status)
    if need:
        stmt = stmt.where(attention_conditions(today())[need])
    if query:
        like = f"%{query.strip()}%"
        stmt = stmt.where(Lease.tenant_id.in_(sa.select(Tenant.id).where(Tenant.name.ilike(like))))
    return stmt
