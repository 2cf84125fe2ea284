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
