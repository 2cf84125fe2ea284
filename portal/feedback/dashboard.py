"""The feedback dashboard (staff and admins): volume per month and per category, median
first-response and resolution times (calendar hours), SLA compliance (first response and
resolution) and the reopen rate, for a month or a half-year and optionally one category, with
charts, tables and CSV/XLSX.

The figures come from :mod:`portal.feedback.reports`; the page runs a fixed number of queries
whatever the data size.  ``{% block satisfaction_section %}`` shows the satisfaction surveys'
trend and latest round (:func:`portal.surveys.reports.satisfaction_section_context`): the
issue's one dashboard, complaints and satisfaction side by side.  The surveys module sits above
feedback (its rounds go to the supervisors of the roster), so it adds that context itself
through ``page_section(DASHBOARD)`` (portal/pages.py); this module imports none of it.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..authz import staff_required
from ..catalogue.models import ServiceCategory
from ..charts import bar_chart
from ..core.nav import nav_item
from ..exports import Column, Kind, export_response, requested_format
from ..extensions import db
from ..htmx import render
from ..i18n import number, percent
from ..page_cache import cached_page
from ..pages import sections_for
from ..reporting import half_year_choices, period_from_request
from ..roles import Role
from . import bp, reports
from .models import FeedbackSource

nav_item("feedback.dashboard", _l("Feedback dashboard"), Role.BUREAU, order=34)
SLA_TARGET = 90  # per cent of decided items resolved in time


def _percent(value) -> float | None:
    return None if value is None else round(float(value) * 100, 1)


def _category_filter() -> ServiceCategory | None:
    category_id = request.args.get("category_id", type=int)
    return db.session.get(ServiceCategory, category_id) if category_id else None


def _columns() -> list[Column]:
    return [Column(_("Service")), Column(_("Items"), Kind.INT),
            Column(_("Median first response (hours)"), Kind.DECIMAL),
            Column(_("Median resolution (hours)"), Kind.DECIMAL),
            Column(_("First response decided"), Kind.INT),
            Column(_("First response missed"), Kind.INT),
            Column(_("First-response SLA compliance"), Kind.PERCENT),
            Column(_("SLA decided"), Kind.INT), Column(_("SLA missed"), Kind.INT),
            Column(_("SLA compliance"), Kind.PERCENT), Column(_("Reopen rate"), Kind.PERCENT),
            Column(_("Open and overdue"), Kind.INT),
            Column(_("Average service rating"), Kind.DECIMAL),
            Column(_("Average handling rating"), Kind.DECIMAL)]


def _row(label: str, f: reports.Figures) -> list:
    def dec(value):
        return None if value is None else round(value, 1)

    return [label, f.volume, dec(f.median_response_hours), dec(f.median_resolution_hours),
            f.response_decided, f.response_missed, f.response_rate,
            f.sla_decided, f.sla_missed, f.sla_rate, f.reopen_rate, f.open_overdue,
            f.avg_service_rating, f.avg_handling_rating]


def _source() -> str:
    """The figures' items: the supervisors' only, unless staff choose to include the public's
    (``public=1``, the dashboard's toggle)."""
    return reports.ALL_SOURCES if request.args.get("public") == "1" else \
        reports.SUPERVISORS_ONLY


def _tables(period, category):
    """The rows per service (one when a service is chosen), the total, the months."""
    source = _source()
    by_category, total = reports.figures_with_total(period.first, period.end, source=source)
    if category is not None:  # its one row is the total
        by_category = [(c, f) for c, f in by_category if c.id == category.id]
        total = by_category[0][1] if by_category else reports.Figures()
    months = reports.volume_by_month(period.first, period.end,
                                     category_id=category.id if category else None,
                                     source=source)
    return by_category, total, months


def cell(value, kind: str = Kind.DECIMAL) -> str:
    """A figure as the page shows it (the exports format their own)."""
    if value is None:
        return "—"
    if kind == Kind.PERCENT:
        return percent(value, 1)
    if isinstance(value, int):
        return number(value)
    return number(value, 1)


# Context that other modules add to the dashboard page: ``page_section(DASHBOARD)``
# functions of no arguments (each a fixed number of queries).
DASHBOARD = "feedback.dashboard"


@bp.route("/dashboard")
@staff_required
@cached_page("feedback", "surveys", "suppliers")
def dashboard():
    period, error = period_from_request()
    category = _category_filter()
    by_category, figures, months = _tables(period, category)
    charts = {
        "months": bar_chart([(f"{m.year}-{m.month:02d}", n) for m, n in months]),
        "categories": bar_chart([(c.label, f.volume) for c, f in by_category]),
        "sla": bar_chart([(c.label, _percent(f.sla_rate)) for c, f in by_category], unit="%",
                         target=SLA_TARGET, y_max=100,
                         notes=[_("decided: %(n)d", n=f.sla_decided) for _c, f in by_category]),
    }
    categories = _all_categories()
    by_source = reports.figures_by_source(period.first, period.end,
                                          category_id=category.id if category else None)
    return render("feedback/dashboard.html", "report", period=period, period_error=error,
                  by_source=by_source, source_labels=FeedbackSource.LABELS,
                  include_public=_source() == reports.ALL_SOURCES,
                  half_years=half_year_choices(period), figures=figures, charts=charts,
                  by_category=by_category, months=months, category=category,
                  categories=categories, sla_target=SLA_TARGET, cell=cell, Kind=Kind,
                  percent=_percent, **sections_for(DASHBOARD))


def _all_categories():
    return db.session.scalars(sa.select(ServiceCategory).order_by(
        ServiceCategory.sort_order, ServiceCategory.id)).all()


@bp.route("/dashboard/export")
@staff_required
def dashboard_export():
    fmt = requested_format()
    report = request.args.get("report", "categories")
    if report not in ("categories", "months", "sources"):
        abort(400, description="report must be categories, months or sources")
    period, error = period_from_request()
    if error:
        abort(400, description=error)
    category = _category_filter()
    by_category, total, months = _tables(period, category)
    if report == "months":
        columns = [Column(_("Month")), Column(_("Items"), Kind.INT)]
        rows = [[f"{m.year}-{m.month:02d}", n] for m, n in months]
        return export_response(f"{_('feedback-volume')}-{period.key}", columns, rows,
                               totals=[_("Total"), sum(n for _m, n in months)], fmt=fmt)
    if report == "sources":
        by_source = reports.figures_by_source(period.first, period.end,
                                              category_id=category.id if category else None)
        rows = [_row(str(FeedbackSource.LABELS[s]), f) for s, f in by_source]
        return export_response(f"{_('feedback-by-source')}-{period.key}", _columns(), rows,
                               fmt=fmt)
    rows = [_row(c.label, f) for c, f in by_category]
    return export_response(f"{_('feedback-by-service')}-{period.key}", _columns(), rows,
                           totals=_row(_("Total"), total), fmt=fmt)
