"""Records of the supplier channel: a supplier with a contract in force and its accounts."""

from __future__ import annotations

import sqlalchemy as sa

from portal.extensions import db
from portal.suppliers.models import SupplierContact
from tests.conftest import make_user, request_context
from tests.feedback.factories import make_category, make_contract, make_supplier


def first_contact(app, supplier_id: int) -> int:
    with request_context(app):
        return db.session.scalar(sa.select(SupplierContact.id).where(
            SupplierContact.supplier_id == supplier_id).order_by(SupplierContact.id))


def make_supplier_account(app, supplier_id: int | None = None, *, contract: bool = True,
                          contact: bool = True, **fields):
    """An account of ``supplier_id`` (a new supplier with a contract in force when None),
    made for its first contact."""
    if supplier_id is None:
        supplier_id = make_supplier(app, email="b-contact@example.com")
        if contract:
            make_contract(app, supplier_id, make_category(app))
    contact_id = first_contact(app, supplier_id) if contact else None
    return make_user(app, "supplier", supplier_id=supplier_id,
                     supplier_contact_id=contact_id, **fields)


def link_contract(app, category_id: int, contract_id: int) -> None:
    from portal.catalogue.models import ServiceCategory
    from portal.database import write_transaction

    with request_context(app), write_transaction():
        db.session.get(ServiceCategory, category_id).contract_id = contract_id


def make_two_suppliers(app) -> dict:
    """Suppliers A and B, each with a category routed to its contract in force, a contact
    with an email and an account made from it; staff; a supervisor in an active term."""
    from tests.feedback.factories import make_appointment

    world = {"staff": make_user(app, "staff", name="物业科小李"),
             "supervisor": make_user(app, "supervisor")}
    make_appointment(app, world["supervisor"].id)
    for key in ("a", "b"):
        category = make_category(app, name=f"保洁{key}", name_en=f"Cleaning {key}")
        supplier = make_supplier(app, category_ids=(category,),
                                 email=f"contact-{key}@example.com")
        contract = make_contract(app, supplier, category)
        link_contract(app, category, contract)
        world[key] = {"supplier": supplier, "category": category, "contract": contract,
                      "account": make_supplier_account(app, supplier,
                                                       email=f"user-{key}@example.com")}
    return world
