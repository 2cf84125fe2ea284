"""The feedback part of the supplier scorecard (:mod:`portal.suppliers.scorecard`): the
feedback module's one report (:func:`portal.feedback.reports.figures_with_total`) by service
category and in total, and the same counts split by contract (a small grouped query with the
model's own SLA conditions, :meth:`Feedback.sla_decided` / :meth:`Feedback.sla_missed`)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..pages import page_section
from ..reporting import count_when
from ..suppliers.models import ServiceContract, Supplier
from ..suppliers.scorecard import SCORECARD, ContractRow
from .models import Feedback, FeedbackStatus
from .reports import figures_with_total


@page_section(SCORECARD)
def feedback_section(supplier: Supplier, period, on: date) -> dict:
    in_period = sa.and_(Feedback.supplier_id == supplier.id,
                        Feedback.submitted_at >= period.starts_at(),
                        Feedback.submitted_at < period.ends_at())
    contracts = list(db.session.scalars(
        sa.select(ServiceContract).where(ServiceContract.supplier_id == supplier.id)
        .options(selectinload(ServiceContract.category))
        .order_by(ServiceContract.starts_on.desc(), ServiceContract.id.desc())))
    rows = {contract.id: ContractRow(contract) for contract in contracts}
    for contract_id, received, still_open, decided, missed in db.session.execute(
            sa.select(Feedback.contract_id, sa.func.count(),
                      count_when(Feedback.status.in_(FeedbackStatus.OPEN)),
                      count_when(Feedback.sla_decided(on)), count_when(Feedback.sla_missed(on)))
            .where(in_period).group_by(Feedback.contract_id)).all():
        row = rows.setdefault(contract_id, ContractRow(None))
        row.received, row.open, row.decided, row.missed = received, still_open, decided, missed
    per_category, figures = figures_with_total(period.first, period.end,
                                               supplier_id=supplier.id)
    provided = {category.id for category in supplier.services}
    by_category = [(category, found) for category, found in per_category
                   if found.volume or category.id in provided]
    total = ContractRow(None, received=figures.volume,
                        open=sum(row.open for row in rows.values()),
                        decided=figures.sla_decided, missed=figures.sla_missed)
    return {"rows": [row for row in rows.values() if row.contract or row.received],
            "total": total, "figures": figures, "by_category": by_category}
