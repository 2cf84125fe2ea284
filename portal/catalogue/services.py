"""The service catalogue's rules: saving a category (its SLA, its default assignee, the
contract that covers it when outsourced).

Service contracts belong to the suppliers module, which sits above the catalogue (its suppliers
and contracts name categories).  So the catalogue never imports it: the suppliers module gives
the catalogue what its pages need of contracts through :func:`contract_source`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..auth.models import User
from ..database import write_transaction
from ..errors import Conflict, ServiceError
from ..extensions import db
from ..roles import Role
from .models import ServiceCategory

STAFF = Role.BUREAU


@dataclass(frozen=True)
class ContractSource:
    """What the catalogue needs of service contracts, from the module that owns them."""

    exists: Callable[[int], bool]  # a contract with this id exists
    choices: Callable[[], list[tuple[int, str]]]  # the category form's options
    list_options: Callable[[], tuple]  # loader options: a category's contract and its supplier


_contracts = [ContractSource(exists=lambda _id: False, choices=list, list_options=tuple)]


def contract_source(source: ContractSource) -> None:
    """Register the contracts' source (:mod:`portal.suppliers.services` does, at import)."""
    _contracts[:] = [source]


def contracts() -> ContractSource:
    return _contracts[0]


@dataclass
class CategoryInput:
    code: str
    name: str
    name_en: str
    team: str
    default_assignee_id: int | None
    contract_id: int | None
    response_days: int
    resolution_days: int
    sort_order: int = 0
    active: bool = True


def save_category(category: ServiceCategory | None, data: CategoryInput) -> ServiceCategory:
    if data.response_days is None or data.response_days < 1:
        raise ServiceError(_l("At least one working day."), field="response_days")
    if data.resolution_days is None or data.resolution_days < data.response_days:
        raise ServiceError(_l("Resolution cannot be due before the first response."),
                           field="resolution_days")
    with write_transaction():
        if data.default_assignee_id:
            assignee = db.session.get(User, data.default_assignee_id)
            if assignee is None or assignee.role not in STAFF or not assignee.active:
                raise ServiceError(_l("Choose an active staff account."),
                                   field="default_assignee_id")
        if data.contract_id and not contracts().exists(data.contract_id):
            raise ServiceError(_l("Choose an existing service contract."), field="contract_id")
        taken = db.session.scalar(sa.select(ServiceCategory.id).where(
            ServiceCategory.code == data.code.strip()))
        if taken is not None and (category is None or taken != category.id):
            raise Conflict(_l("This code is already used by another category."), field="code")
        if category is None:
            category = ServiceCategory()
            db.session.add(category)
        category.code = data.code.strip()
        category.name = data.name.strip()
        category.name_en = data.name_en.strip()
        category.team = data.team.strip()
        category.default_assignee_id = data.default_assignee_id or None
        category.contract_id = data.contract_id or None
        category.response_days = data.response_days
        category.resolution_days = data.resolution_days
        category.sort_order = data.sort_order or 0
        category.active = data.active
    return category
