"""Rentals inventory pages: buildings, rooms (list, inline status, form, page), the occupancy
view, and tenants.  Staff and admins only.

The rules stay in :mod:`portal.rentals.services` (derived 'leased' status, room status
changes, tenant codes); this module adds the two small writes it owns, saving a building and
saving a room, each in one write transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask import flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import selectinload

from ..audit.services import history_for
from ..auth.models import User
from ..authz import staff_required, visible_or_404
from ..core.nav import nav_item
from ..database import is_unique_violation, write_transaction
from ..errors import Conflict, Problems, ServiceError, apply_to_form
from ..extensions import db
from ..forms import select_choices
from ..htmx import is_htmx, redirect_to, render, render_form_errors, trigger
from ..i18n import translated
from ..page_cache import cached_page
from ..pagination import paginate
from ..roles import Role
from ..security import safe_next
from . import bp, services
from .forms_inventory import (
    TENANT_KINDS,
    BuildingForm,
    RoomForm,
    RoomStatusForm,
    TenantForm,
)
from .models import (
    ROOMS_KEY,
    Building,
    Lease,
    LeaseRoom,
    LeaseStatus,
    Room,
    RoomStatus,
    Tenant,
    UseType,
)

nav_item("rentals.rooms", lazy_pgettext("room list", "Rooms"), ("staff", "admin"), order=20)
nav_item("rentals.tenants", _l("Tenants"), ("staff", "admin"), order=22)

# How each (derived) room status looks in a badge.
STATUS_BADGE = {RoomStatus.LEASED: "good", RoomStatus.IDLE: "warning",
                RoomStatus.RESERVED_FOR_OFFICE: "", RoomStatus.UNDER_RENOVATION: "",
                RoomStatus.DISPOSED: "danger"}


def fen(yuan: Decimal) -> int:
    """Yuan (as typed) to integer fen, rounded half-even to the fen."""
    return int((Decimal(yuan) * 100).quantize(Decimal(1)))


# --- services ---------------------------------------------------------------------------------


def save_building(building: Building | None, name: str, address: str = "") -> Building:
    if not name.strip():
        raise ServiceError(_l("This field is required."), field="name")
    try:
        with write_transaction():
            if building is None:
                building = Building()
                db.session.add(building)
            building.name = name.strip()
            building.address = address.strip()
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):
            raise Conflict(_l("Another building has this name."), field="name") from None
        raise
    return building


@dataclass
class RoomInput:
    building_id: int
    code: str
    area_m2: Decimal
    use_type: str = "office"
    rent_standard_fen: int = 0
    floor: str = ""
    facilities: str = ""
    status: str = RoomStatus.IDLE
    office_department: str = ""


def save_room(room: Room | None, data: RoomInput) -> Room:
    """Create or update a room in one transaction; its status goes through
    :func:`services.set_room_status` (office space names its department, a leased room keeps
    its lease)."""
    problems = Problems()  # every problem at once, each beside its field
    if data.area_m2 is None or not data.area_m2.is_finite() or \
            data.area_m2.quantize(Decimal("0.01")) <= 0:
        problems.add(_l("The area must be greater than zero."), "area")
    if data.rent_standard_fen < 0:
        problems.add(_l("Enter an amount of zero or more."), "rent_standard")
    if data.use_type not in UseType.ALL:
        problems.add(_l("Choose a use."), "use_type")
    if not data.code.strip():
        problems.add(_l("This field is required."), "code")
    if db.session.get(Building, data.building_id) is None:
        problems.add(_l("Choose a building."), "building_id")
    problems.raise_any()
    try:
        with write_transaction():
            if room is None:
                room = Room(status=RoomStatus.IDLE, office_department="")
                db.session.add(room)
            room.building_id = data.building_id
            room.code = data.code.strip()
            room.floor = data.floor.strip()
            room.area_m2 = data.area_m2.quantize(Decimal("0.01"))
            room.use_type = data.use_type
            room.rent_standard_fen = data.rent_standard_fen
            room.facilities = data.facilities.strip()
            db.session.flush()  # the code's uniqueness is checked here, by the database
            services.set_room_status(room, data.status, data.office_department)
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):
            raise Conflict(_l("This building already has a room with this number."),
                           field="code") from None
        raise
    return room


def tenants_stmt(query: str = "", kind: str = ""):
    stmt = sa.select(Tenant).order_by(Tenant.name, Tenant.id)
    if kind in TENANT_KINDS:
        stmt = stmt.where(Tenant.kind == kind)
    if query:
        like = f"%{query.strip()}%"
        stmt = stmt.where(sa.or_(Tenant.name.ilike(like), Tenant.uscc.ilike(like),
                                 Tenant.id_number.ilike(like), Tenant.contact_name.ilike(like),
                                 Tenant.phone.ilike(like)))
    return stmt


# --- helpers for the pages --------------------------------------------------------------------


def _labels() -> dict:
    return {"status_labels": translated(RoomStatus.LABELS),
            "use_labels": translated(UseType.LABELS),
            "lease_labels": translated(LeaseStatus.LABELS), "tenant_kinds": TENANT_KINDS,
            "status_badge": STATUS_BADGE, "stored_statuses": RoomStatus.STORED,
            "room_status": services.room_status}


def _buildings() -> list[Building]:
    return list(db.session.scalars(sa.select(Building).order_by(Building.name)))


# --- rooms ------------------------------------------------------------------------------------


def _room_filters() -> dict:
    args = request.args
    status = args.get("status", "")
    use = args.get("use", "")
    return {"building": args.get("building", type=int) or None,
            "status": status if status in RoomStatus.LABELS else "",
            "use": use if use in UseType.ALL else "",
            "q": args.get("q", "").strip()[:100]}


@bp.route("/rooms")
@staff_required
@cached_page(rentals=lambda: [ROOMS_KEY])
def rooms():
    filters = _room_filters()
    pager = paginate(services.rooms_stmt(filters["building"], filters["status"], filters["use"],
                                         filters["q"]))
    leased = services.leased_among([room.id for room in pager.items])
    return render("rentals/rooms.html", "results", pager=pager, leased=leased,
                  filters=filters, buildings=_buildings(), back=request.full_path,
                  **_labels())


def _room_row(room: Room, status: int = 200, errors=(), form=None):
    back = safe_next(request.form.get("next"), url_for("rentals.rooms"))
    return render("rentals/_room_row.html", room=room, leased=services.leased_among([room.id]),
                  back=back, row_errors=list(errors), row_form=form, status=status,
                  **_labels())


@bp.route("/rooms/<int:room_id>/status", methods=["POST"])
@staff_required
def room_status(room_id: int):
    """Change a room's stored status: the list's row is swapped (htmx), or the page reloads."""
    room = visible_or_404(Room, room_id, selectinload(Room.building))
    form = RoomStatusForm()
    if form.validate_on_submit():
        try:
            services.set_room_status(room, form.status.data, form.office_department.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            status = services.room_status(room, services.leased_among([room.id]))
            if is_htmx():
                return trigger(_room_row(room), "roomChanged", {"id": room.id})
            flash(_("Room %(room)s: %(status)s.", room=room.label,
                    status=RoomStatus.LABELS[status]), "success")
            return redirect_to(safe_next(request.form.get("next"), url_for("rentals.rooms")))
    errors = [*form.form_errors, *(error for item in form for error in item.errors)]
    if is_htmx():
        return _room_row(room, status=422, errors=errors, form=form)
    return _room_page(room, form, status=422)


def _room_page(room: Room, status_form: RoomStatusForm | None = None, status: int = 200,
               photo_form=None):
    holdings = list(db.session.scalars(
        sa.select(LeaseRoom).where(LeaseRoom.room_id == room.id)
        .options(selectinload(LeaseRoom.lease).selectinload(Lease.tenant))
        .order_by(LeaseRoom.starts_on.desc(), LeaseRoom.id.desc())))
    leased = services.leased_among([room.id])
    if status_form is None:
        status_form = RoomStatusForm(formdata=None, status=room.status,
                                     office_department=room.office_department)
    return render("rentals/room.html", room=room, holdings=holdings, leased=leased,
                  derived=services.room_status(room, leased), status_form=status_form,
                  history=history_for(room), back=url_for("rentals.room", room_id=room.id),
                  status=status, photo_form=photo_form, **_labels())


@bp.route("/rooms/<int:room_id>")
@staff_required
def room(room_id: int):
    return _room_page(visible_or_404(Room, room_id, selectinload(Room.building)))


def _room_form_page(room: Room | None):
    form = RoomForm(obj=room) if room is not None else RoomForm()
    form.building_id.choices = select_choices(
        [(0, "—"), *((building.id, building.name) for building in _buildings())])
    if request.method == "GET":
        if room is not None:
            form.area.data = Decimal(room.area_m2)
            form.rent_standard.data = Decimal(room.rent_standard_fen) / 100
        else:
            form.building_id.data = request.args.get("building_id", type=int) or 0
    if form.validate_on_submit():
        data = RoomInput(
            building_id=form.building_id.data, code=form.code.data or "",
            area_m2=form.area.data, use_type=form.use_type.data,
            rent_standard_fen=fen(form.rent_standard.data), floor=form.floor.data or "",
            facilities=form.facilities.data or "", status=form.status.data,
            office_department=form.office_department.data or "")
        try:
            saved = save_room(room, data)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The room is saved."), "success")
            return redirect_to(url_for("rentals.room", room_id=saved.id))
    context = {"form": form, "room": room}
    if request.method == "POST":
        return render_form_errors("rentals/room_form.html", "form", **context)
    return render("rentals/room_form.html", **context)


@bp.route("/rooms/new", methods=["GET", "POST"])
@staff_required
def room_new():
    return _room_form_page(None)


@bp.route("/rooms/<int:room_id>/edit", methods=["GET", "POST"])
@staff_required
def room_edit(room_id: int):
    return _room_form_page(visible_or_404(Room, room_id, selectinload(Room.building)))


@bp.route("/buildings/new", methods=["GET", "POST"])
@staff_required
def building_new():
    form = BuildingForm()
    if form.validate_on_submit():
        try:
            building = save_building(None, form.name.data or "", form.address.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The building is saved; now add its rooms."), "success")
            return redirect_to(url_for("rentals.room_new", building_id=building.id))
    if request.method == "POST":
        return render_form_errors("rentals/building_form.html", "form", form=form)
    return render("rentals/building_form.html", form=form)


@bp.route("/occupancy")
@staff_required
def occupancy():
    rows = services.occupancy()
    totals = {key: sum((row[key] for row in rows), Decimal(0))
              for key in ("office", "leased", "idle", "other", "total")}
    totals["rooms"] = sum(row["rooms"] for row in rows)
    lettable = totals["leased"] + totals["idle"]
    totals["occupancy"] = totals["leased"] / lettable if lettable else None
    return render("rentals/occupancy.html", rows=rows, totals=totals)


# --- tenants ----------------------------------------------------------------------------------


@bp.route("/tenants")
@staff_required
def tenants():
    kind = request.args.get("kind", "")
    filters = {"q": request.args.get("q", "").strip()[:100],
               "kind": kind if kind in TENANT_KINDS else ""}
    pager = paginate(tenants_stmt(filters["q"], filters["kind"]))
    ids = [tenant.id for tenant in pager.items]
    active, accounts = {}, {}
    if ids:
        active = dict(db.session.execute(
            sa.select(Lease.tenant_id, sa.func.count()).where(
                Lease.tenant_id.in_(ids), Lease.status == LeaseStatus.ACTIVE)
            .group_by(Lease.tenant_id)).all())
        user_ids = [tenant.user_id for tenant in pager.items if tenant.user_id]
        if user_ids:
            accounts = {user.id: user for user in db.session.scalars(
                sa.select(User).where(User.id.in_(user_ids)))}
    return render("rentals/tenants.html", "results", pager=pager, filters=filters,
                  active=active, accounts=accounts, **_labels())


def _client_choices(tenant: Tenant | None):
    """Client accounts not yet linked to another tenant."""
    taken = sa.select(Tenant.user_id).where(Tenant.user_id.is_not(None))
    if tenant is not None:
        taken = taken.where(Tenant.id != tenant.id)
    users = db.session.scalars(
        sa.select(User).where(User.role == Role.CLIENT, User.id.not_in(taken))
        .order_by(User.name, User.id))
    return select_choices([
        (0, _("None")),
        *((user.id, _("%(name)s (%(detail)s)", name=user.name, detail=user.organisation)
           + f" · {user.email}" if user.organisation else f"{user.name} · {user.email}")
          for user in users)])


def _tenant_form_page(tenant: Tenant | None):
    form = TenantForm(obj=tenant) if tenant is not None else TenantForm()
    form.user_id.choices = _client_choices(tenant)
    if tenant is not None and request.method == "GET":
        form.code.data = tenant.uscc or tenant.id_number
        form.user_id.data = tenant.user_id or 0
    if form.validate_on_submit():
        data = services.TenantInput(
            kind=form.kind.data, name=form.name.data or "", code=form.code.data or "",
            contact_name=form.contact_name.data or "", phone=form.phone.data or "",
            email=form.email.data or "", address=form.address.data or "",
            user_id=form.user_id.data or None)
        try:
            saved = services.save_tenant(tenant, data)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The tenant is saved."), "success")
            return redirect_to(url_for("rentals.tenant", tenant_id=saved.id))
    context = {"form": form, "tenant": tenant}
    if request.method == "POST":
        return render_form_errors("rentals/tenant_form.html", "form", **context)
    return render("rentals/tenant_form.html", **context)


@bp.route("/tenants/new", methods=["GET", "POST"])
@staff_required
def tenant_new():
    return _tenant_form_page(None)


@bp.route("/tenants/<int:tenant_id>/edit", methods=["GET", "POST"])
@staff_required
def tenant_edit(tenant_id: int):
    return _tenant_form_page(visible_or_404(Tenant, tenant_id))


@bp.route("/tenants/<int:tenant_id>")
@staff_required
def tenant(tenant_id: int):
    item = visible_or_404(Tenant, tenant_id)
    leases = list(db.session.scalars(
        sa.select(Lease).where(Lease.tenant_id == item.id)
        .options(selectinload(Lease.rooms).selectinload(LeaseRoom.room)
                 .selectinload(Room.building))
        .order_by(Lease.start_date.desc(), Lease.id.desc())))
    account = db.session.get(User, item.user_id) if item.user_id else None
    owed = services.arrears(tenant_id=item.id)
    return render("rentals/tenant.html", tenant=item, leases=leases, account=account,
                  arrears=owed[0] if owed else None, history=history_for(item),
                  **_labels())
