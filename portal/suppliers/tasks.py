"""Suppliers' periodic work, run by ``flask --app portal tick``.

* ``contract_expiring``: a contract that is not renewed and ends within 90 days gets the
  warnings 90d, 60d and 30d — the one expiry mechanism of :mod:`portal.alerts` that leases use
  (only the most urgent mark reached is sent, each once). They go to the contracts desk
  (``CONTRACTS_DESK_EMAIL`` when configured), else to every active member of staff.
* Service categories covered by a renewed contract move to its successor once it has started
  (:func:`portal.suppliers.services.move_categories`).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy.orm import selectinload

from ..alerts import ExpiryCandidate, send_expiry_warnings
from ..auth.models import User
from ..extensions import db
from ..roles import Role
from ..tasks import tick_task
from ..urls import base_url
from . import services
from .models import ContractState, ServiceContract

EXPIRING = "contract_expiring"


def desk_recipients() -> list[tuple[str, str | None]]:
    desk = current_app.config.get("CONTRACTS_DESK_EMAIL")
    if desk:
        return [(desk, None)]
    return [(email, locale) for email, locale in db.session.execute(
        sa.select(User.email, User.locale).where(User.role == Role.STAFF, User.active)
        .order_by(User.id)).all()]


def send_contract_expiry_alerts(on: date | None = None) -> int:
    on = on or services.today()
    contracts = list(db.session.scalars(
        sa.select(ServiceContract).where(
            ServiceContract.state_condition(ContractState.EXPIRING, on))
        .options(selectinload(ServiceContract.supplier), selectinload(ServiceContract.category))
        .order_by(ServiceContract.ends_on, ServiceContract.id)))
    if not contracts:
        return 0
    emails = desk_recipients()
    base = base_url()
    candidates = [ExpiryCandidate(
        contract.id, contract.ends_on, emails,
        {"contract": contract, "supplier_name": contract.supplier.name,
         "link": base + url_for("suppliers.contract", contract_id=contract.id)})
        for contract in contracts]
    return send_expiry_warnings(EXPIRING, "service_contract", "contract_expiring", candidates,
                                on)


def move_categories_to_successors(on: date | None = None) -> int:
    return services.move_categories(on)


tick_task("service categories moved to renewed contracts")(move_categories_to_successors)
tick_task("contract expiry alerts")(send_contract_expiry_alerts)
