"""The supplier scorecard: what the bureau reads before renewing a contract.

Per supplier, for a report period (month or half-year, :mod:`portal.reporting`): the feedback
figures of the feedback module's one report (:func:`portal.feedback.reports.figures_with_total`
— volume, SLA compliance, open past the deadline, medians — by service category and in total),
the same counts split by contract (the feedback report has no contract dimension: a small
grouped query with the model's own SLA conditions, :meth:`Feedback.sla_decided` /
:meth:`Feedback.sla_missed`), its open and overdue action items from joint meetings, and
satisfaction by category over its latest survey rounds (through the meetings module's one
adapter). A fixed number of queries; CSV/XLSX export of the contract table.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ..authz import staff_required, visible_or_404
from ..exports import Column, Kind, export_response
from ..extensions import db
from ..feedback import models as catalogue  # (a module: feedback.models imports ours)
from ..page_cache import cached_page
from ..reporting import half_year_choices, period_from_request
from . import bp, services
from .models import ContractState, ServiceContract, Supplier


@dataclass
class ContractRow:
    contract: ServiceContract | None
    received: int = 0
    open: int = 0
    decided: int = 0
    missed: int = 0

    @property
    def compliance(self) -> Decimal | None:
        if not self.decided:
            return None
        return Decimal(self.decided - self.missed) / Decimal(self.decided)


def _count(condition):
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


def scorecard(supplier: Supplier, period, on=None) -> dict:
    """The scorecard's figures (a fixed number of queries and the satisfaction adapter)."""
    from ..feedback.reports import figures_with_total
    from ..meetings.models import ActionItem, ActionStatus, Meeting, MeetingStatus
    from ..meetings.satisfaction import SCORECARD_ROUNDS, supplier_satisfaction

    on = on or services.today()
    Feedback = catalogue.Feedback  # noqa: N806
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
                      _count(Feedback.status.in_(catalogue.FeedbackStatus.OPEN)),
                      _count(Feedback.sla_decided(on)), _count(Feedback.sla_missed(on)))
            .where(in_period).group_by(Feedback.contract_id)).all():
        row = rows.setdefault(contract_id, ContractRow(None))
        row.received, row.open, row.decided, row.missed = received, still_open, decided, missed
    per_category, figures = figures_with_total(period.first, period.end,
                                               supplier_id=supplier.id)
    provided = {category.id for category in supplier.services}
    by_category = [(category, found) for category, found in per_category
                   if found.volume or category.id in provided]
    live = sa.and_(ActionItem.supplier_id == supplier.id,
                   Meeting.status != MeetingStatus.CANCELLED)
    open_actions, overdue_actions, awaiting = db.session.execute(
        sa.select(_count(ActionItem.status == ActionStatus.OPEN),
                  _count(ActionItem.overdue(on)),
                  _count(ActionItem.status == ActionStatus.DONE))
        .join(Meeting, Meeting.id == ActionItem.meeting_id).where(live)).one()
    overdue_list = list(db.session.scalars(
        sa.select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(live, ActionItem.overdue(on)).options(selectinload(ActionItem.meeting))
        .order_by(ActionItem.due_on, ActionItem.id).limit(20)))
    satisfaction = supplier_satisfaction([supplier.id], rounds=SCORECARD_ROUNDS) \
        .get(supplier.id) or []
    total = ContractRow(None, received=figures.volume,
                        open=sum(row.open for row in rows.values()),
                        decided=figures.sla_decided, missed=figures.sla_missed)
    return {"rows": [row for row in rows.values() if row.contract or row.received],
            "total": total, "figures": figures, "by_category": by_category,
            "open_actions": open_actions,
            "overdue_actions": overdue_actions, "awaiting_actions": awaiting,
            "overdue_list": overdue_list, "satisfaction": satisfaction, "today": on}


@bp.route("/<int:supplier_id>/scorecard")
@staff_required
@cached_page("meetings", "suppliers", "feedback", "surveys")
def scorecard_page(supplier_id: int):
    supplier = visible_or_404(Supplier, supplier_id, selectinload(Supplier.services))
    period, period_error = period_from_request()
    figures = scorecard(supplier, period)
    return render_page(supplier, period, period_error, figures)


def render_page(supplier, period, period_error, figures):
    from ..htmx import render

    return render("suppliers/scorecard.html", supplier=supplier, period=period,
                  period_error=period_error, half_years=half_year_choices(period),
                  report_endpoint="suppliers.scorecard_page",
                  report_args={"supplier_id": supplier.id},
                  state_labels=ContractState.LABELS, **figures)


def _columns():
    return [Column(_("Contract")), Column(_("Service")), Column(_("State")),
            Column(_("Feedback received"), Kind.INT), Column(_("Still open"), Kind.INT),
            Column(_("SLA decided"), Kind.INT), Column(_("SLA missed"), Kind.INT),
            Column(_("SLA compliance"), Kind.PERCENT)]


@bp.route("/<int:supplier_id>/scorecard/export")
@staff_required
def scorecard_export(supplier_id: int):
    supplier = visible_or_404(Supplier, supplier_id, selectinload(Supplier.services))
    period, _error = period_from_request()
    figures = scorecard(supplier, period)
    on = figures["today"]
    rows = []
    for row in figures["rows"]:
        contract = row.contract
        rows.append([
            contract.number if contract else _("No contract"),
            contract.category.label if contract else "",
            str(ContractState.LABELS[contract.state(on)]) if contract else "",
            row.received, row.open, row.decided, row.missed, row.compliance])
    total = figures["total"]
    totals = [_("Total"), "", "", total.received, total.open, total.decided, total.missed,
              total.compliance]
    stem = _("scorecard-%(supplier)s-%(period)s", supplier=supplier.name, period=period.key)
    return export_response(stem, _columns(), rows, totals=totals)
