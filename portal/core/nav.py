"""Navigation by role: each module registers its entries; the base template shows them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user

from ..auth.models import role_label

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string
    roles: tuple[str, ...]
    order: int = 50


_items: list[NavItem] = []


def nav_item(endpoint: str, label, roles: tuple[str, ...], order: int = 50) -> None:
    _items.append(NavItem(endpoint, label, roles, order))


def items_for(role: str) -> list[NavItem]:
    return sorted((item for item in _items if role in item.roles), key=lambda item: item.order)


def init_nav(app: Flask) -> None:
    @app.context_processor
    def navigation():
        role = current_user.role if current_user.is_authenticated else ANONYMOUS
        entries = [
            {"url": url_for(item.endpoint), "label": item.label,
             "active": request.endpoint == item.endpoint}
            for item in items_for(role)
        ]
        return {"nav_entries": entries, "role_label": role_label}

