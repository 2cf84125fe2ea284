"""The five roles; kept free of imports so every layer can use them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class Role:
    ADMIN = "admin"
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    CLIENT = "client"
    # A supplier's (合作单位) person: sees and answers only its own supplier's work.
    SUPPLIER = "supplier"
    ALL = (ADMIN, STAFF, SUPERVISOR, CLIENT, SUPPLIER)
    # Accounts only an admin may create; clients register themselves.
    INTERNAL = (ADMIN, STAFF, SUPERVISOR)
    # Accounts staff create from a supplier's contact (never by choosing the role alone).
    FROM_CONTACT = (SUPPLIER,)
    # The bureau's own people, who run every module (admins can do what staff do).
    BUREAU = (ADMIN, STAFF)


def role_choices():
    return [
        (Role.ADMIN, _l("Administrator")),
        (Role.STAFF, _l("Logistics staff")),
        (Role.SUPERVISOR, _l("Service-quality supervisor")),
        (Role.CLIENT, _l("Client")),
        (Role.SUPPLIER, _l("Supplier")),
    ]


def assignable_role_choices():
    """The roles an admin may give by choosing them (supplier accounts come from a contact)."""
    return [(role, label) for role, label in role_choices() if role not in Role.FROM_CONTACT]


def role_label(role: str):
    return dict(role_choices()).get(role, role)
