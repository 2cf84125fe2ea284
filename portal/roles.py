"""The four roles; kept free of imports so every layer can use them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l


class Role:
    ADMIN = "admin"
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    CLIENT = "client"
    ALL = (ADMIN, STAFF, SUPERVISOR, CLIENT)
    # Accounts only an admin may create; clients register themselves.
    INTERNAL = (ADMIN, STAFF, SUPERVISOR)
    # The bureau's own people, who run every module (admins can do what staff do).
    BUREAU = (ADMIN, STAFF)


def role_choices():
    return [
        (Role.ADMIN, _l("Administrator")),
        (Role.STAFF, _l("Logistics staff")),
        (Role.SUPERVISOR, _l("Service-quality supervisor")),
        (Role.CLIENT, _l("Client")),
    ]


def role_label(role: str):
    return dict(role_choices()).get(role, role)
