"""Supplier figures for a span of days (the work report reads them; two queries, also for
several spans).

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
from ..reporting import count_when
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
    return contract_figures_of([(first, end)])[0]


def contract_figures_of(spans: list[tuple[date, date]]) -> list[ContractFigures]:
    """:func:`contract_figures` of each span ``(first, end)``, in two queries whatever the
    spans (the work report reads three): a column per span and figure."""
    predecessor = aliased(ServiceContract)
    renews = (sa.select(predecessor.id).where(predecessor.successor_id == ServiceContract.id)
              .exists())
    result = [ContractFigures() for _span in spans]
    signed = db.session.execute(sa.select(*(
        count_when(sa.and_(Supplier.integrity_signed_on >= first,
                           Supplier.integrity_signed_on < end)) for first, end in spans))).one()
    columns = []
    for first, end in spans:
        in_force = sa.and_(ServiceContract.starts_on < end, ServiceContract.ends_on >= first)
        starts = sa.and_(ServiceContract.starts_on >= first, ServiceContract.starts_on < end)
        columns += [count_when(in_force), count_when(sa.and_(starts, ~renews)),
                    count_when(sa.and_(starts, renews))]
    for figures, n_signed in zip(result, signed, strict=True):
        figures.integrity_signed = int(n_signed or 0)
    for category, *counts in db.session.execute(
            sa.select(ServiceCategory, *columns)
            .join(ServiceCategory, ServiceCategory.id == ServiceContract.category_id)
            .group_by(ServiceCategory.id)
            .order_by(ServiceCategory.sort_order, ServiceCategory.id)):
        for idx, figures in enumerate(result):
            n_force, n_new, n_renewed = (int(n or 0) for n in counts[3 * idx:3 * idx + 3])
            figures.in_force += n_force
            figures.new += n_new
            figures.renewed += n_renewed
            if n_force:
                figures.by_category.append((category.label, n_force))
    return result
