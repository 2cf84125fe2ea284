"""Supplier and service-contract pages (staff and admins only)."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..audit.services import history_for
from ..authz import staff_required, visible_or_404
from ..catalogue import models as catalogue
from ..core.nav import nav_item
from ..errors import ServiceError, apply_to_form
from ..extensions import db
from ..forms import select_choices
from ..htmx import is_htmx, redirect_to, render, render_form_errors
from ..pages import sections_for
from ..pagination import paginate
from ..uploads import send_document
from . import bp, services
from .forms import ContactForm, ContractForm, DocumentForm, SupplierForm
from .models import ContractState, ServiceContract, Supplier, SupplierContact

nav_item("suppliers.suppliers", _l("Suppliers"), ("staff", "admin"), order=40)
nav_item("suppliers.contracts", _l("Service contracts"), ("staff", "admin"), order=41)

STATE_BADGE = {ContractState.UPCOMING: "", ContractState.ACTIVE: "good",
               ContractState.EXPIRING: "warning", ContractState.ENDED: "danger",
               ContractState.RENEWED: ""}


def _labels() -> dict:
    return {"state_labels": ContractState.LABELS, "state_badge": STATE_BADGE,
            "today": services.today()}


def _categories():
    category = catalogue.ServiceCategory
    return list(db.session.scalars(sa.select(category)
                                   .order_by(category.sort_order, category.id)))


# --- suppliers --------------------------------------------------------------------------------


@bp.route("/")
@staff_required
def suppliers():
    q = request.args.get("q", "").strip()[:100]
    stmt = sa.select(Supplier).options(selectinload(Supplier.services),
                                       selectinload(Supplier.contacts)) \
        .order_by(Supplier.name, Supplier.id)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(sa.or_(Supplier.name.ilike(like), Supplier.uscc.ilike(like),
                                 Supplier.contacts.any(SupplierContact.name.ilike(like))))
    pager = paginate(stmt)
    ids = [supplier.id for supplier in pager.items]
    in_force = {}
    if ids:
        on = services.today()
        in_force = dict(db.session.execute(
            sa.select(ServiceContract.supplier_id, sa.func.count()).where(
                ServiceContract.supplier_id.in_(ids), ServiceContract.starts_on <= on,
                ServiceContract.ends_on >= on).group_by(ServiceContract.supplier_id)).all())
    return render("suppliers/suppliers.html", "results", pager=pager, q=q, in_force=in_force)


def _supplier_form_page(supplier: Supplier | None):
    form = SupplierForm(obj=supplier) if supplier is not None else SupplierForm()
    form.category_ids.choices = select_choices((c.id, c.label) for c in _categories())
    if supplier is not None and request.method == "GET":
        form.category_ids.data = [c.id for c in supplier.services]
    if form.validate_on_submit():
        data = services.SupplierInput(
            name=form.name.data or "", uscc=form.uscc.data or "",
            address=form.address.data or "",
            notes=form.notes.data or "", integrity_signed_on=form.integrity_signed_on.data,
            category_ids=form.category_ids.data or [])
        try:
            saved = services.save_supplier(supplier, data)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The supplier is saved."), "success")
            return redirect_to(url_for("suppliers.supplier", supplier_id=saved.id))
    context = {"form": form, "supplier": supplier}
    if request.method == "POST":
        return render_form_errors("suppliers/supplier_form.html", "form", **context)
    return render("suppliers/supplier_form.html", **context)


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def supplier_new():
    return _supplier_form_page(None)


@bp.route("/<int:supplier_id>/edit", methods=["GET", "POST"])
@staff_required
def supplier_edit(supplier_id: int):
    return _supplier_form_page(visible_or_404(Supplier, supplier_id,
                                              selectinload(Supplier.services)))


def _supplier(supplier_id: int) -> Supplier:
    return visible_or_404(Supplier, supplier_id, selectinload(Supplier.services),
                          selectinload(Supplier.contacts),
                          selectinload(Supplier.contracts).selectinload(ServiceContract.category))


def _supplier_page(item: Supplier, status: int = 200, block: str | None = None, **forms):
    forms.setdefault("document_form", DocumentForm())
    forms.setdefault("contact_form", ContactForm(formdata=None))
    return render("suppliers/supplier.html", block=block, status=status, supplier=item,
                  history=history_for(item),
                  **sections_for("suppliers.supplier", item, current_user), **forms,
                  **_labels())


@bp.route("/<int:supplier_id>")
@staff_required
def supplier(supplier_id: int):
    return _supplier_page(_supplier(supplier_id))


def _after_contact_change(supplier_id: int):
    if is_htmx():
        return _supplier_page(_supplier(supplier_id), block="contacts")
    return redirect_to(url_for("suppliers.supplier", supplier_id=supplier_id) + "#contacts")


@bp.route("/<int:supplier_id>/contacts", methods=["POST"])
@staff_required
def contact_add(supplier_id: int):
    """Add a contact person (htmx swaps the contacts card; without JS, back to the page)."""
    item = _supplier(supplier_id)
    form = ContactForm()
    if form.validate_on_submit():
        try:
            services.add_contact(item, services.ContactInput(
                name=form.name.data or "", title=form.title.data or "",
                phone=form.phone.data or "", email=form.email.data or ""))
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            if not is_htmx():
                flash(_("The contact is added."), "success")
            return _after_contact_change(supplier_id)
    return _supplier_page(item, status=422, block="contacts" if is_htmx() else None,
                          contact_form=form)


@bp.route("/contacts/<int:contact_id>/delete", methods=["POST"])
@staff_required
def contact_delete(contact_id: int):
    contact = db.session.get(SupplierContact, contact_id)
    if contact is None:
        abort(404)
    supplier_id = visible_or_404(Supplier, contact.supplier_id).id
    ContactForm().validate_on_submit()  # the CSRF token
    services.remove_contact(contact)
    if not is_htmx():
        flash(_("The contact is removed."), "success")
    return _after_contact_change(supplier_id)


def _upload(record, column: str, back: str, template: str, **context):
    form = DocumentForm()
    if form.validate_on_submit():
        try:
            services.attach_document(record, request.files.get("document"), column)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The document is stored."), "success")
            return redirect_to(back)
    if not form.document.errors and not form.form_errors:
        form.document.errors = [_("Choose a file.")]
    return render(template, status=422, document_form=form, **context)


@bp.route("/<int:supplier_id>/integrity", methods=["POST"])
@staff_required
def integrity_upload(supplier_id: int):
    item = visible_or_404(Supplier, supplier_id)
    return _upload(item, "integrity_file", url_for("suppliers.supplier", supplier_id=item.id),
                   "suppliers/supplier.html", supplier=item, history=history_for(item),
                   contact_form=ContactForm(formdata=None), **_labels())


@bp.route("/<int:supplier_id>/integrity/document")
@staff_required
def integrity_document(supplier_id: int):
    item = visible_or_404(Supplier, supplier_id)
    return send_document(services.DOCUMENT_FOLDER, item.integrity_file,
                         item.integrity_file_label)


# --- contracts --------------------------------------------------------------------------------


@bp.route("/contracts")
@staff_required
def contracts():
    state = request.args.get("state", "")
    state = state if state in ContractState.ALL else ""
    stmt = sa.select(ServiceContract).options(
        selectinload(ServiceContract.supplier), selectinload(ServiceContract.category)) \
        .order_by(ServiceContract.ends_on, ServiceContract.id)
    if state:
        stmt = stmt.where(ServiceContract.state_condition(state, services.today()))
    pager = paginate(stmt)
    return render("suppliers/contracts.html", "results", pager=pager, state=state,
                  **_labels())


def _contract_form(contract: ServiceContract | None, defaults=None) -> ContractForm:
    form = ContractForm(obj=contract) if contract is not None else ContractForm()
    form.supplier_id.choices = select_choices(
        [(0, _("Choose…")), *db.session.execute(
            sa.select(Supplier.id, Supplier.name).order_by(Supplier.name)).all()])
    form.category_id.choices = select_choices(
        [(0, _("Choose…")), *((c.id, c.label) for c in _categories())])
    if request.method == "GET":
        source = defaults or contract
        if defaults is not None:
            for name in ("supplier_id", "category_id", "number", "title", "starts_on",
                         "ends_on", "payment_terms", "response_hours", "fix_hours"):
                getattr(form, name).data = getattr(defaults, name)
        elif contract is None:
            form.supplier_id.data = request.args.get("supplier", type=int) or 0
        if source is not None:
            form.amount.data = Decimal(source.amount_fen) / 100
    return form


def _contract_input(form: ContractForm) -> services.ContractInput:
    return services.ContractInput(
        supplier_id=form.supplier_id.data, category_id=form.category_id.data,
        number=form.number.data or "", title=form.title.data or "",
        starts_on=form.starts_on.data, ends_on=form.ends_on.data,
        amount_fen=int((form.amount.data or Decimal(0)) * 100),
        payment_terms=form.payment_terms.data or "", response_hours=form.response_hours.data,
        fix_hours=form.fix_hours.data)


def _contract_form_page(contract: ServiceContract | None, renews: ServiceContract | None = None):
    form = _contract_form(contract, services.renewal_defaults(renews) if renews else None)
    if form.validate_on_submit():
        try:
            saved = services.save_contract(contract, _contract_input(form), renews=renews)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The contract is saved."), "success")
            return redirect_to(url_for("suppliers.contract", contract_id=saved.id))
    context = {"form": form, "contract": contract, "renews": renews}
    if request.method == "POST":
        return render_form_errors("suppliers/contract_form.html", "form", **context)
    return render("suppliers/contract_form.html", **context)


@bp.route("/contracts/new", methods=["GET", "POST"])
@staff_required
def contract_new():
    return _contract_form_page(None)


@bp.route("/contracts/<int:contract_id>/edit", methods=["GET", "POST"])
@staff_required
def contract_edit(contract_id: int):
    return _contract_form_page(visible_or_404(ServiceContract, contract_id))


@bp.route("/contracts/<int:contract_id>/renew", methods=["GET", "POST"])
@staff_required
def contract_renew(contract_id: int):
    """The successor's form, pre-filled from this contract."""
    contract = visible_or_404(ServiceContract, contract_id)
    if contract.successor_id is not None:
        flash(_("This contract has already been renewed."), "warning")
        return redirect_to(url_for("suppliers.contract", contract_id=contract.successor_id))
    return _contract_form_page(None, renews=contract)


@bp.route("/contracts/<int:contract_id>")
@staff_required
def contract(contract_id: int):
    item = visible_or_404(ServiceContract, contract_id, selectinload(ServiceContract.supplier),
                          selectinload(ServiceContract.category),
                          selectinload(ServiceContract.successor))
    predecessor = db.session.scalar(sa.select(ServiceContract).where(
        ServiceContract.successor_id == item.id))
    category = catalogue.ServiceCategory
    covered = list(db.session.scalars(sa.select(category).where(
        category.contract_id == item.id).order_by(category.sort_order)))
    return render("suppliers/contract.html", contract=item, predecessor=predecessor,
                  covered=covered, history=history_for(item), document_form=DocumentForm(),
                  **_labels())


@bp.route("/contracts/<int:contract_id>/upload", methods=["POST"])
@staff_required
def contract_upload(contract_id: int):
    item = visible_or_404(ServiceContract, contract_id)
    return _upload(item, "document_file", url_for("suppliers.contract", contract_id=item.id),
                   "suppliers/contract.html", contract=item, predecessor=None, covered=[],
                   history=history_for(item), **_labels())


@bp.route("/contracts/<int:contract_id>/document")
@staff_required
def contract_document(contract_id: int):
    item = visible_or_404(ServiceContract, contract_id)
    return send_document(services.DOCUMENT_FOLDER, item.document_file, item.document_file_label)
