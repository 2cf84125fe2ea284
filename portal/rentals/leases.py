"""Lease pages: the list, drafting and editing, one lease with its rent schedule, payments,
transitions, renewal and deposit, and the tenant's own view of its leases.

Views are thin: the rules (rooms free and leasable, the rent and its override reason, who may
take which transition, payment allocation and idempotency) live in
:mod:`portal.rentals.services`; a refusal is shown beside its field with a 422.
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..alerts import days_left, is_expiring
from ..audit.services import history_for
from ..authz import role_required, staff_required, visible_or_404
from ..core.nav import nav_item
from ..errors import ServiceError, apply_to_form
from ..extensions import db
from ..htmx import is_htmx, is_partial, redirect_to, render, render_form_errors, trigger
from ..i18n import money, translated
from ..page_cache import cached_page
from ..pagination import paginate
from ..roles import Role
from ..workflow import StaleRecord
from . import bp, services
from .forms_leases import (
    DepositForm,
    LeaseActionForm,
    LeaseForm,
    PaymentForm,
    RenewForm,
    SettleDepositForm,
    to_fen,
    to_yuan,
)
from .models import (
    LEASES_KEY,
    ROOMS_KEY,
    DepositStatus,
    Lease,
    LeaseRoom,
    LeaseStatus,
    Payment,
    PaymentAllocation,
    PaymentCycle,
    PaymentMethod,
    Room,
    RoomStatus,
    Tenant,
)

nav_item("rentals.leases", _l("Leases"), Role.BUREAU, order=21)
nav_item("rentals.my_leases", _l("My leases"), (Role.CLIENT,), order=21)

L = LeaseStatus
STATUS_BADGE = {L.DRAFT: "", L.PENDING: "warning", L.ACTIVE: "good", L.ENDED: "",
                L.TERMINATED: "danger"}
ROOM_BADGE = {RoomStatus.LEASED: "good", RoomStatus.IDLE: "warning",
              RoomStatus.RESERVED_FOR_OFFICE: "", RoomStatus.UNDER_RENOVATION: "",
              RoomStatus.DISPOSED: "danger"}


def lease_page_options() -> tuple:
    """Everything one lease page shows, loaded with the lease in a fixed number of queries.
    (A function: building loader options configures the mappers, which must wait until every
    module's models are imported.)"""
    return (
        selectinload(Lease.tenant),
        selectinload(Lease.rooms).selectinload(LeaseRoom.room).selectinload(Room.building),
        selectinload(Lease.periods),
        selectinload(Lease.payments).selectinload(Payment.allocations)
        .selectinload(PaymentAllocation.period),
        selectinload(Lease.predecessor),
    )
OPEN = (L.DRAFT, L.PENDING, L.ACTIVE)
# The leases list's "needs attention" filter (services.attention_conditions).
NEEDS = {"expiring": _l("Expiring, not being renewed"), "overdue": _l("Rent overdue"),
         "deposit": _l("Deposit to return")}


def _user():
    return current_user._get_current_object()


def _is_staff(user) -> bool:
    return user.role in services.STAFF


def _expiry(lease: Lease, today: date) -> int | None:
    """Days left when an active lease is expiring (derived, never stored), else None."""
    if lease.status == L.ACTIVE and is_expiring(lease.end_date, today):
        return days_left(lease.end_date, today)
    return None


def _list_helpers(today: date, leases) -> dict:
    """The lists show each lease's overdue rent: one aggregate query for the page's leases
    (its schedule lines are not loaded)."""
    overdue = services.overdue_by_lease([lease.id for lease in leases], today)
    return {"status_labels": translated(L.LABELS), "status_badge": STATUS_BADGE, "today": today,
            "expiry_of": lambda lease: _expiry(lease, today),
            "balance_of": lambda lease: {"overdue": overdue.get(lease.id, 0)}}


# --- lists -----------------------------------------------------------------------------------


@bp.route("/leases")
@staff_required
@cached_page(rentals=lambda: [ROOMS_KEY, LEASES_KEY])
def leases():
    user = _user()
    status = request.args.get("status", "")
    if status not in L.ALL:
        status = ""
    query = request.args.get("q", "").strip()[:100]
    need = request.args.get("need", "")
    if need not in NEEDS:
        need = ""
    pager = paginate(services.leases_stmt(user, status=status, query=query, need=need))
    waiting = None
    if user.role == Role.ADMIN:
        waiting = db.session.scalar(sa.select(sa.func.count()).select_from(Lease).where(
            Lease.status == L.PENDING))
    return render("rentals/leases.html", "results", pager=pager, waiting=waiting,
                  filters={"status": status, "q": query, "need": need}, needs=NEEDS,
                  **_list_helpers(services.today(), pager.items))


@bp.route("/my")
@role_required(Role.CLIENT)
def my_leases():
    user = _user()
    tenant = db.session.scalar(sa.select(Tenant).where(Tenant.user_id == user.id))
    pager = paginate(services.leases_stmt(user))
    return render("rentals/my_leases.html", "results", pager=pager, tenant=tenant,
                  **_list_helpers(services.today(), pager.items))


# --- drafting and editing --------------------------------------------------------------------


def _room_label(room: Room, state: str) -> str:
    label = _("%(room)s · %(area)s m² · %(rent)s a month", room=room.label,
              area=f"{room.area_m2:,.2f}", rent=money(room.standard_rent_fen()))
    if state != RoomStatus.IDLE:
        label = _("%(name)s (%(detail)s)", name=label, detail=RoomStatus.LABELS[state])
    return label


def _lease_choices(form: LeaseForm, lease: Lease | None) -> None:
    """Tenants, and the rooms one may lease: idle ones (maybe leased now, for a later
    start) and those already on this lease.  Other ids are still passed to the service,
    which explains why they cannot be leased."""
    tenants = db.session.execute(sa.select(Tenant.id, Tenant.name).order_by(Tenant.name,
                                                                             Tenant.id))
    form.tenant_id.choices = [(0, "—")] + [(tid, name) for tid, name in tenants]
    current = [item.room_id for item in lease.rooms] if lease is not None else []
    rooms = list(db.session.scalars(
        services.rooms_stmt().where(sa.or_(Room.status == RoomStatus.IDLE,
                                           Room.id.in_(current)))))
    leased = services.leased_among([room.id for room in rooms])
    form.room_ids.choices = [(room.id, _room_label(room, services.room_status(room, leased)))
                             for room in rooms]


def _fill(form: LeaseForm, lease: Lease) -> None:
    form.tenant_id.data = lease.tenant_id
    form.room_ids.data = [item.room_id for item in lease.rooms]
    form.start.data, form.end.data = lease.start_date, lease.end_date
    form.payment_cycle.data = lease.payment_cycle
    form.monthly_rent.data = to_yuan(lease.monthly_rent_fen) if lease.rent_override_reason \
        else None
    form.rent_override_reason.data = lease.rent_override_reason
    form.deposit_due.data = to_yuan(lease.deposit_due_fen)
    form.rent_free_until.data = lease.rent_free_until
    form.yearly_increase_pct.data = lease.yearly_increase_pct
    form.note.data = lease.note


def _prefill(form: LeaseForm) -> None:
    """Arriving from a tenant's or a room's page: start with that tenant or room."""
    form.tenant_id.data = request.args.get("tenant_id", type=int) or 0
    room_id = request.args.get("room_id", type=int)
    form.room_ids.data = [room_id] if room_id else []


def _lease_input(form: LeaseForm) -> services.LeaseInput:
    return services.LeaseInput(
        tenant_id=form.tenant_id.data or 0, room_ids=list(form.room_ids.data or []),
        start=form.start.data, end=form.end.data, payment_cycle=form.payment_cycle.data,
        monthly_rent_fen=to_fen(form.monthly_rent.data),
        rent_override_reason=form.rent_override_reason.data or "",
        deposit_due_fen=to_fen(form.deposit_due.data) or 0,
        rent_free_until=form.rent_free_until.data,
        yearly_increase_pct=form.yearly_increase_pct.data or Decimal(0),
        note=form.note.data or "")


def _rent_hint(room_ids) -> dict | None:
    """Area × standard of the chosen rooms: what an empty rent field means."""
    ids = [room_id for room_id in room_ids or [] if isinstance(room_id, int)][:200]
    if not ids:
        return None
    rooms = list(db.session.scalars(sa.select(Room).where(Room.id.in_(ids))))
    if not rooms:
        return None
    return {"rooms": len(rooms), "area": sum(room.area_m2 for room in rooms),
            "rent": sum(room.standard_rent_fen() for room in rooms)}


def _lease_form_page(lease: Lease | None):
    form = LeaseForm()
    _lease_choices(form, lease)
    if request.method == "GET" and lease is not None:
        _fill(form, lease)
    elif request.method == "GET":
        _prefill(form)
    if form.validate_on_submit():
        try:
            saved = services.save_lease(_user(), lease, _lease_input(form))
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            message = (_("Lease %(ref)s is saved.", ref=saved.reference) if lease is not None
                       else _("Lease %(ref)s is drafted; submit it for approval when it is "
                              "complete.", ref=saved.reference))
            flash(message, "success")
            return redirect_to(url_for("rentals.lease", lease_id=saved.id))
    action = (url_for("rentals.lease_edit", lease_id=lease.id) if lease is not None
              else url_for("rentals.lease_new"))
    context = {"form": form, "lease": lease, "action": action,
               **_room_check(form.room_ids.data, form.start.data, form.end.data, lease)}
    if request.method == "POST":
        return render_form_errors("rentals/lease_form.html", "form", **context)
    return render("rentals/lease_form.html", **context)


@bp.route("/leases/new", methods=["GET", "POST"])
@staff_required
def lease_new():
    return _lease_form_page(None)


@bp.route("/leases/<int:lease_id>/edit", methods=["GET", "POST"])
@staff_required
def lease_edit(lease_id: int):
    lease = visible_or_404(Lease, lease_id, selectinload(Lease.rooms))
    if not services.can_edit(_user(), lease):
        flash(_("Lease %(ref)s can no longer be changed (%(status)s).", ref=lease.reference,
                status=L.LABELS[lease.status]), "warning")
        return redirect_to(url_for("rentals.lease", lease_id=lease.id))
    return _lease_form_page(lease)


def _room_check(room_ids, start, end, lease: Lease | None) -> dict:
    return {"hint": _rent_hint(room_ids),
            "check": services.room_warnings(room_ids, start, end,
                                            lease.id if lease is not None else None)}


@bp.route("/leases/room-check")
@staff_required
def lease_room_check():
    """While rooms and days are chosen (htmx): their rent at area × standard, and at once
    whether another lease holds them over those days, before the draft reaches the admin."""
    form = LeaseForm(request.args, meta={"csrf": False})
    lease_id = request.args.get("lease_id", type=int)
    lease = visible_or_404(Lease, lease_id) if lease_id else None
    return render("rentals/_lease_room_check.html",  # an unreadable date is None: no check
                  **_room_check(request.args.getlist("room_ids", type=int), form.start.data,
                                form.end.data, lease))


# --- one lease -------------------------------------------------------------------------------


def _payment_form(today: date) -> PaymentForm:
    """A fresh payment form: its own key, so submitting it twice records one payment."""
    return PaymentForm(formdata=None, paid_on=today, idempotency_key=secrets.token_hex(16))


def _lease_context(lease: Lease, **given) -> dict:
    """Everything the lease page shows; ``given`` replaces a form (with its errors) or adds
    a notice shown inside a block.  What a user may do comes from the services (the
    workflows' tables), never decided here."""
    user = _user()
    staff = _is_staff(user)
    today = services.today()
    leased = services.leased_among([item.room_id for item in lease.rooms])
    successors = list(db.session.scalars(sa.select(Lease).where(
        Lease.predecessor_id == lease.id).order_by(Lease.id)))
    renewable = services.can_renew(user, lease) and not any(
        s.status in OPEN for s in successors)
    deposit_steps = {step.name for step in services.DEPOSIT_FLOW.offered(lease, user)}
    return {
        "lease": lease, "today": today, "is_staff": staff,
        "balance": services.lease_balance(lease, today),
        "expiring_days": _expiry(lease, today),
        "room_states": {item.room_id: services.room_status(item.room, leased)
                        for item in lease.rooms},
        "successors": successors,
        "actions": services.offered(user, lease),
        "can_edit": services.can_edit(user, lease),
        "can_pay": services.can_record_payment(user, lease),
        "in_force": lease.status in (L.ACTIVE, L.ENDED, L.TERMINATED),
        "action_form": given.get("action_form") or LeaseActionForm(
            formdata=None, terminated_on=today),
        "failed_action": given.get("failed_action"),
        "renew_form": given.get("renew_form") or (RenewForm(formdata=None) if renewable
                                                  else None),
        "deposit_form": given.get("deposit_form") or (
            DepositForm(formdata=None, received_on=today,
                        deposit_received=to_yuan(lease.deposit_due_fen or None))
            if "receive" in deposit_steps else None),
        "settle_form": given.get("settle_form") or (
            SettleDepositForm(formdata=None, settled_on=today,
                              returned=to_yuan(lease.deposit_received_fen))
            if "settle" in deposit_steps else None),
        "payment_form": given.get("payment_form") or _payment_form(today),
        "notices": given.get("notices", {}),
        "history": history_for(lease) if staff else None,
        "status_labels": L.LABELS, "status_badge": STATUS_BADGE, "room_badge": ROOM_BADGE,
        "room_labels": RoomStatus.LABELS, "cycle_labels": PaymentCycle.LABELS,
        "method_labels": PaymentMethod.LABELS, "deposit_labels": DepositStatus.LABELS,
    }


def _refused(lease_id: int, error: ServiceError, form) -> tuple[Lease, int]:
    """A step refused: the lease as it is now (someone may have moved it on) and the
    answer's status: 409 when the record moved on or the step is no longer possible, 422
    for a value beside its field."""
    apply_to_form(form, error)
    db.session.rollback()
    lease = visible_or_404(Lease, lease_id, *lease_page_options())
    status = 409 if isinstance(error, StaleRecord) or error.field is None else 422
    return lease, status


def _in_place(response, target: str):
    """A 409 answer to htmx replaces the block it was about (the page's error handling
    would otherwise put it in the message area)."""
    if is_htmx():
        response.headers["HX-Retarget"] = target
        response.headers["HX-Reswap"] = "outerHTML"
    return response


def _lease_url(lease: Lease, anchor: str = "") -> str:
    return url_for("rentals.lease", lease_id=lease.id) + (f"#{anchor}" if anchor else "")


def _saved(lease: Lease, block: str, message: str, event: str):
    """A form of the lease page succeeded: its block again in place (htmx), with the news
    inside it, or the page again after a redirect (no JavaScript)."""
    if is_partial():
        context = _lease_context(lease, notices={block: message})
        return trigger(render("rentals/lease.html", block, **context), event,
                       {"lease": lease.id})
    flash(message, "success")
    return redirect_to(_lease_url(lease, block))


@bp.route("/leases/<int:lease_id>", endpoint="lease")
@role_required(Role.CLIENT, Role.STAFF, Role.ADMIN)
def lease_page(lease_id: int):
    lease = visible_or_404(Lease, lease_id, *lease_page_options())
    return render("rentals/lease.html", **_lease_context(lease))


@bp.route("/leases/<int:lease_id>/<action>", methods=["POST"])
@staff_required
def lease_act(lease_id: int, action: str):
    lease = visible_or_404(Lease, lease_id)
    if action not in services.WORKFLOW.transitions:
        abort(404)
    form = LeaseActionForm()
    status = 422
    if form.validate_on_submit():
        try:
            lease = services.transition(
                lease, action, _user(), reason=form.reason.data or "",
                on=form.terminated_on.data if action == "terminate" else None,
                expected=form.expected_status.data or None)
        except ServiceError as error:
            lease, status = _refused(lease_id, error, form)
        else:
            flash(_("Lease %(ref)s: %(status)s.", ref=lease.reference,
                    status=L.LABELS[lease.status]), "success")
            return redirect_to(_lease_url(lease))
    response = render("rentals/lease.html", "actions", status=status,
                      **_lease_context(lease, action_form=form, failed_action=action))
    return _in_place(response, "#lease-actions") if status == 409 else response


@bp.route("/leases/<int:lease_id>/renew", methods=["POST"])
@staff_required
def lease_renew(lease_id: int):
    lease = visible_or_404(Lease, lease_id)
    form = RenewForm()
    if form.validate_on_submit():
        try:
            successor = services.renew(_user(), lease, form.end.data,
                                       to_fen(form.monthly_rent.data),
                                       form.rent_override_reason.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
            db.session.rollback()
            lease = visible_or_404(Lease, lease_id, *lease_page_options())
        else:
            flash(_("Renewal %(ref)s is drafted; check it and submit it for approval.",
                    ref=successor.reference), "success")
            return redirect_to(_lease_url(successor))
    return render_form_errors("rentals/lease.html", "renew",
                              **_lease_context(lease, renew_form=form))


def _deposit_step(lease_id: int, form, step) -> object:
    """The deposit block's forms: ``step(lease, expected)`` takes the step; the block again
    with the news, or with the refusal (409 when someone moved the deposit on)."""
    lease = visible_or_404(Lease, lease_id)
    status = 422
    if form.validate_on_submit():
        try:
            lease = step(lease, form.expected_status.data or None)
        except ServiceError as error:
            lease, status = _refused(lease_id, error, form)
            if status == 409:  # the deposit as it is now, with the news; no stale form
                return _in_place(render("rentals/lease.html", "deposit", status=status,
                                        **_lease_context(lease, notices={
                                            "deposit_refused": str(error.message)})),
                                 "#deposit")
        else:
            message = (_("The deposit is settled.") if lease.deposit_status == "settled"
                       else _("The deposit received is recorded."))
            return _saved(lease, "deposit", message, "depositChanged")
    given = {"settle_form" if isinstance(form, SettleDepositForm) else "deposit_form": form}
    return render("rentals/lease.html", "deposit", status=status,
                  **_lease_context(lease, **given))


@bp.route("/leases/<int:lease_id>/deposit", methods=["POST"])
@staff_required
def lease_deposit(lease_id: int):
    form = DepositForm()
    return _deposit_step(lease_id, form, lambda lease, expected: services.record_deposit(
        _user(), lease, to_fen(form.deposit_received.data), form.received_on.data,
        expected=expected))


@bp.route("/leases/<int:lease_id>/deposit/settle", methods=["POST"])
@staff_required
def lease_deposit_settle(lease_id: int):
    form = SettleDepositForm()
    return _deposit_step(lease_id, form, lambda lease, expected: services.settle_deposit(
        _user(), lease, to_fen(form.returned.data), to_fen(form.deducted.data) or 0,
        form.deduction_reason.data or "", form.settled_on.data, expected=expected))


@bp.route("/leases/<int:lease_id>/payments", methods=["POST"])
@staff_required
def record_payment(lease_id: int):
    """A payment recorded inline under the schedule: the schedule and balances come back in
    place (htmx) with a fresh form; the same form posted twice records one payment."""
    lease = visible_or_404(Lease, lease_id)
    form = PaymentForm()
    if form.validate_on_submit():
        try:
            payment, created = services.record_payment(
                _user(), lease, form.paid_on.data, to_fen(form.amount.data), form.method.data,
                form.receipt_no.data or "", form.idempotency_key.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
            db.session.rollback()
            lease = visible_or_404(Lease, lease_id, *lease_page_options())
        else:
            message = (_("A payment of %(amount)s is recorded.", amount=money(payment.amount_fen))
                       if created else _("This payment was recorded already; it is counted "
                                         "once."))
            return _saved(lease, "schedule", message, "paymentRecorded")
    return render_form_errors("rentals/lease.html", "schedule",
                              **_lease_context(lease, payment_form=form))
