"""Supplier figures for a span of days (the work report reads them; two queries).

For local days ``[first, end)``:

* **in force**: contracts whose term meets the span, per service category;
* **new**: contracts starting in the span that renew none;
* **renewed**: contracts starting in the span that follow another (its ``successor_id``);
* **integrity agreements** (廉政协议): suppliers whose agreement was signed in the span.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from ..catalogue.models import ServiceCategory
from ..extensions import db
from .models import ServiceContract, Supplier


@dataclass
class ContractFigures:
    in_force: int = 0
    new: int = 0
    renewed: int = 0
    integrity_signed: int = 0
    by_category: list[tuple[str, int]] = field(default_factory=list)  # (label, in force)


def contract_figures(first: date, end: date) -> ContractFigures:
    """The contracts in force, new and renewed in ``[first, end)``, and the integrity
    agreements signed (two queries)."""
    predecessor = aliased(ServiceContract)
    renews = (sa.select(predecessor.id).where(predecessor.successor_id == ServiceContract.id)
              .exists())
    in_force = sa.and_(ServiceContract.starts_on < end, ServiceContract.ends_on >= first)
    starts = sa.and_(ServiceContract.starts_on >= first, ServiceContract.starts_on < end)
    figures = ContractFigures()
    figures.integrity_signed = int(db.session.scalar(
        sa.select(sa.func.count()).select_from(Supplier)
        .where(Supplier.integrity_signed_on >= first, Supplier.integrity_signed_on < end)) or 0)
    for category, n_force, n_new, n_renewed in db.session.execute(
            sa.select(ServiceCategory,
                      sa.func.sum(sa.case((in_force, 1), else_=0)),
                      sa.func.sum(sa.case((sa.and_(starts, ~renews), 1), else_=0)),
                      sa.func.sum(sa.case((sa.and_(starts, renews), 1), else_=0)))
            .join(ServiceCategory, ServiceCategory.id == ServiceContract.category_id)
            .group_by(ServiceCategory.id)
            .order_by(ServiceCategory.sort_order, ServiceCategory.id)):
        figures.in_force += int(n_force or 0)
        figures.new += int(n_new or 0)
        figures.renewed += int(n_renewed or 0)
        if n_force:
            figures.by_category.append((category.label, int(n_force)))
    return figures
