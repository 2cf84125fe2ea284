"""Demo: an account of the cleaning supplier (上海洁美物业服务有限公司), made from its primary
contact, with the demo password, so the supplier channel can be tried and photographed."""

from __future__ import annotations

import sqlalchemy as sa

from ..auth.models import User
from ..auth.passwords import hash_password
from ..database import utcnow, write_transaction
from ..demo import DEMO_PASSWORD, demo_loader
from ..extensions import db
from ..roles import Role
from ..suppliers.models import Supplier

DEMO_SUPPLIER = "上海洁美物业服务有限公司"
DEMO_SUPPLIER_EMAIL = "service1@supplier.example.com"  # its primary contact's address


@demo_loader(order=59)  # after the suppliers (45), feedback (55) and meetings (58)
def load_supplier_account(context: dict) -> None:
    supplier = db.session.scalar(sa.select(Supplier).where(Supplier.name == DEMO_SUPPLIER))
    if supplier is None or supplier.primary_contact is None:
        return
    contact = supplier.primary_contact
    with write_transaction():
        user = User(email=contact.email or DEMO_SUPPLIER_EMAIL, name=contact.name,
                    organisation=supplier.name, phone=contact.phone, role=Role.SUPPLIER,
                    password_hash=hash_password(DEMO_PASSWORD), email_verified_at=utcnow(),
                    supplier_id=supplier.id, supplier_contact_id=contact.id)
        db.session.add(user)
    context["logins"].append((Role.SUPPLIER, user.email))
