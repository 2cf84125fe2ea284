"""Suppliers and service contracts: the rules, each change in one write transaction.

* A supplier's unified social credit code must pass its check character; name and code are
  unique (the database decides, the message is friendly).
* A supplier has several contacts (:func:`add_contact`, :func:`remove_contact`); the first is
  its primary contact, listed as its representative when a meeting invites it.
* A contract ends on or after the day it starts; amounts are integer fen; SLA hours positive.
* **Renewal**: :func:`renewal_defaults` pre-fills the successor (same supplier, service,
  amount, terms and SLA; starting the day after the contract ends, for the same length);
  :func:`save_contract` with ``renews`` links it (``successor_id``), which makes the old
  contract "renewed". A service category whose ``contract_id`` names the renewed contract is
  moved to the successor **on the day the successor starts** — by :func:`move_categories`,
  which the renewal itself runs (a successor that has already started moves them at once) and
  the daily tick runs (``flask --app portal tick``), so feedback accepted before that day is
  still routed under the contract then in force.
* Documents (contract, integrity agreement) go through :func:`portal.uploads.store_document`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import aliased, selectinload

from ..catalogue import models as catalogue
from ..catalogue.services import ContractSource, contract_source
from ..database import is_unique_violation, write_transaction
from ..errors import Conflict, Problems, ServiceError
from ..extensions import db
from ..forms import too_long
from ..i18n import local_today
from ..uploads import delete_document, store_document
from ..validators import is_valid_uscc, normalise_code
from ..workflow import locked
from .models import ServiceContract, Supplier, SupplierContact

DOCUMENT_FOLDER = "supplier-documents"


def today() -> date:
    return local_today()


# --- suppliers --------------------------------------------------------------------------------


@dataclass
class SupplierInput:
    name: str
    uscc: str
    address: str = ""
    notes: str = ""
    integrity_signed_on: date | None = None
    category_ids: list[int] = field(default_factory=list)


def save_supplier(supplier: Supplier | None, data: SupplierInput) -> Supplier:
    problems = Problems()  # every problem at once, each beside its field
    if not data.name.strip():
        problems.add(_l("This field is required."), "name")
    code = normalise_code(data.uscc)
    if not is_valid_uscc(code):
        problems.add(_l("Not a valid unified social credit code: 18 characters whose last "
                        "one is the check character."), "uscc")
    problems.raise_any()
    categories = list(db.session.scalars(
        sa.select(catalogue.ServiceCategory)
        .where(catalogue.ServiceCategory.id.in_(data.category_ids or [0]))))
    try:
        with write_transaction():
            if supplier is None:
                supplier = Supplier()
                db.session.add(supplier)
            supplier.name = data.name.strip()
            supplier.uscc = code
            supplier.address = data.address.strip()
            supplier.notes = data.notes.strip()
            supplier.integrity_signed_on = data.integrity_signed_on
            supplier.services = categories
            db.session.flush()
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):
            raise Conflict(_l("Another supplier has this name or credit code."),
                           field="name") from None
        raise
    return supplier


CONTACT_LIMITS = {"name": 100, "title": 100, "phone": 20, "email": 254}  # the columns' sizes


@dataclass
class ContactInput:
    name: str
    title: str = ""
    phone: str = ""
    email: str = ""


def add_contact(supplier: Supplier, data: ContactInput) -> SupplierContact:
    """Another contact person of the supplier (listed after those it has)."""
    values = {name: getattr(data, name).strip() for name in CONTACT_LIMITS}
    problems = Problems()  # every problem at once, each beside its field
    if not values["name"]:
        problems.add(_l("Enter the contact's name."), "name")
    for name, limit in CONTACT_LIMITS.items():
        if len(values[name]) > limit:
            problems.add(too_long(limit, len(values[name])), name)
    problems.raise_any()
    with write_transaction():
        contact = SupplierContact(
            **values,
            position=max((c.position for c in supplier.contacts), default=0) + 1)
        supplier.contacts.append(contact)
        db.session.flush()
    return contact


def remove_contact(contact: SupplierContact) -> None:
    """Remove a contact person; meeting attendance already recorded keeps the name."""
    with write_transaction():
        contact.supplier.contacts.remove(contact)


def attach_document(record, upload, column: str = "document_file") -> None:
    """Store an uploaded PDF or image as ``record``'s document, replacing the previous one."""
    stored = store_document(upload, DOCUMENT_FOLDER)
    previous = getattr(record, column)
    try:
        with write_transaction():
            setattr(record, column, stored.name)
            setattr(record, f"{column}_label", stored.label)
    except Exception:
        delete_document(DOCUMENT_FOLDER, stored.name)
        raise
    delete_document(DOCUMENT_FOLDER, previous)


# --- contracts --------------------------------------------------------------------------------


@dataclass
class ContractInput:
    supplier_id: int
    category_id: int
    number: str
    title: str
    starts_on: date | None
    ends_on: date | None
    amount_fen: int = 0
    payment_terms: str = ""
    response_hours: int | None = None
    fix_hours: int | None = None


def _check_contract(data: ContractInput) -> None:
    """Every problem of a contract's input at once, each beside its field."""
    problems = Problems()
    if data.starts_on is None:
        problems.add(_l("Enter the first day."), "starts_on")
    if data.ends_on is None:
        problems.add(_l("Enter the last day."), "ends_on")
    elif data.starts_on is not None and data.ends_on < data.starts_on:
        problems.add(_l("A contract cannot end before it starts."), "ends_on")
    if data.amount_fen < 0:
        problems.add(_l("Enter an amount of zero or more."), "amount")
    for name in ("response_hours", "fix_hours"):
        value = getattr(data, name)
        if value is not None and value <= 0:
            problems.add(_l("Enter a number of hours greater than zero."), name)
    if not data.number.strip():
        problems.add(_l("This field is required."), "number")
    if db.session.get(Supplier, data.supplier_id) is None:
        problems.add(_l("Choose a supplier."), "supplier_id")
    if db.session.get(catalogue.ServiceCategory, data.category_id) is None:
        problems.add(_l("Choose a service."), "category_id")
    problems.raise_any()


def save_contract(contract: ServiceContract | None, data: ContractInput,
                  renews: ServiceContract | None = None) -> ServiceContract:
    """Create or update a contract; with ``renews``, the new contract is its successor."""
    _check_contract(data)
    if renews is not None:
        if renews.successor_id is not None:
            raise Conflict(_l("This contract has already been renewed."))
        if data.starts_on <= renews.starts_on:
            raise ServiceError(_l("The renewal must start after the contract it renews "
                                  "starts."), field="starts_on")
    try:
        with write_transaction():
            if renews is not None:
                # Renew once: decided on the renewed contract re-read under its row lock, so
                # of two renewals at once the second waits and finds the successor linked.
                renews = locked(renews)
                if renews.successor_id is not None:
                    raise Conflict(_l("This contract has already been renewed."))
            if contract is None:
                contract = ServiceContract()
                db.session.add(contract)
            contract.supplier_id = data.supplier_id
            contract.category_id = data.category_id
            contract.number = data.number.strip()
            contract.title = data.title.strip()
            contract.starts_on = data.starts_on
            contract.ends_on = data.ends_on
            contract.amount_fen = data.amount_fen
            contract.payment_terms = data.payment_terms.strip()
            contract.response_hours = data.response_hours
            contract.fix_hours = data.fix_hours
            db.session.flush()
            if renews is not None:
                renews.successor_id = contract.id
                db.session.flush()
                move_categories(today(), only=[renews.id])
    except sa.exc.IntegrityError as error:
        if not is_unique_violation(error):
            raise
        if renews is not None and db.session.scalar(
                sa.select(ServiceContract.successor_id).where(
                    ServiceContract.id == renews.id)) is not None:
            raise Conflict(_l("This contract has already been renewed.")) from None
        raise Conflict(_l("Another contract has this number."), field="number") from None
    return contract


def renewal_defaults(contract: ServiceContract) -> ContractInput:
    """The successor, pre-filled: same terms, from the day after the end, for as long."""
    length = contract.ends_on - contract.starts_on
    starts = contract.ends_on + timedelta(days=1)
    try:
        ends = contract.ends_on.replace(year=contract.ends_on.year + 1) \
            if length.days >= 364 else starts + length
    except ValueError:  # 29 February
        ends = starts + length
    return ContractInput(
        supplier_id=contract.supplier_id, category_id=contract.category_id,
        number=f"{contract.number}-R", title=contract.title, starts_on=starts, ends_on=ends,
        amount_fen=contract.amount_fen, payment_terms=contract.payment_terms,
        response_hours=contract.response_hours, fix_hours=contract.fix_hours)


def move_categories(on: date | None = None, only: list[int] | None = None) -> int:
    """Categories covered by a renewed contract move to its successor once that has started.

    Follows a chain of renewals to the latest successor already started. Runs inside the
    caller's write transaction, or in its own. Returns the number of categories moved.
    """
    on = on or today()
    successor = aliased(ServiceContract)
    stmt = (sa.select(catalogue.ServiceCategory)
            .join(ServiceContract, ServiceContract.id == catalogue.ServiceCategory.contract_id)
            .join(successor, successor.id == ServiceContract.successor_id)
            .where(successor.starts_on <= on))
    if only is not None:
        stmt = stmt.where(ServiceContract.id.in_(only))
    moved = 0
    with write_transaction():
        for category in db.session.scalars(stmt).all():
            # Hand over on the category re-read under its row lock: a tick and a renewal
            # moving it at once do it once, from the contract it is under now.
            category = locked(category)
            if category is None or category.contract_id is None:
                continue
            contract = db.session.get(ServiceContract, category.contract_id).in_force_on(on)
            if category.contract_id != contract.id:
                category.contract_id = contract.id
                moved += 1
    return moved


# --- the service catalogue's contracts ---------------------------------------------------------
# The catalogue sits below this module and never imports it: it learns of contracts here.


def _contract_exists(contract_id: int) -> bool:
    return db.session.get(ServiceContract, contract_id) is not None


def _contract_choices() -> list[tuple[int, str]]:
    contracts = db.session.scalars(
        sa.select(ServiceContract).options(selectinload(ServiceContract.supplier))
        .order_by(ServiceContract.ends_on.desc(), ServiceContract.id.desc()).limit(500)).all()
    return [(c.id, f"{c.supplier.name} · {c.number} · {c.starts_on.isoformat()} – "
                   f"{c.ends_on.isoformat()}") for c in contracts]


def _category_list_options() -> tuple:
    return (selectinload(catalogue.ServiceCategory.contract)
            .selectinload(ServiceContract.supplier),)


contract_source(ContractSource(exists=_contract_exists, choices=_contract_choices,
                               list_options=_category_list_options))
