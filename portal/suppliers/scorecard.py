"""The supplier scorecard: what the bureau reads before renewing a contract.

Per supplier, for a report period (month or half-year, :mod:`portal.reporting`): the feedback
figures of the feedback module's one report (:func:`portal.feedback.reports.figures_with_total`
— volume, SLA compliance, open past the deadline, medians — by service category and in total),
the same counts split by contract (the feedback report has no contract dimension: a small
grouped query with the model's own SLA conditions, :meth:`Feedback.sla_decided` /
:meth:`Feedback.sla_missed`), its open and overdue action items from joint meetings, and
satisfaction by category over its latest survey rounds (through the meetings module's one
adapter). A fixed number of queries; CSV/XLSX export of the contract table.

The figures come from the modules that own them, which sit above suppliers: each registers its
section (``page_section(SCORECARD)``; :mod:`portal.feedback.scorecard`,
:mod:`portal.meetings.scorecard`); this module keeps the page, the export and the contract row.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from ..authz import staff_required, visible_or_404
from ..exports import Column, Kind, export_response
from ..page_cache import cached_page
from ..pages import sections_for
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


# Each module that holds figures about a supplier adds its part of the scorecard: a function
# ``(supplier, period, on) -> dict`` of the page's context, registered as
# ``page_section(SCORECARD)`` (feedback: the contract table and the figures by category;
# meetings: the action items and satisfaction).  This module sits below them and imports none.
SCORECARD = "suppliers.scorecard"


def scorecard(supplier: Supplier, period, on=None) -> dict:
    """The scorecard's figures: every registered section's (each a fixed number of queries)."""
    on = on or services.today()
    figures: dict = {"today": on}
    figures.update(sections_for(SCORECARD, supplier, period, on))
    return figures


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
