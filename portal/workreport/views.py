"""The work report pages: the figures of a period (staff and admins), the drafts with their
narratives, and issuing (admins only)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..authz import admin_required, staff_required, visible_or_404
from ..errors import NotAllowed, ServiceError
from ..htmx import render
from . import bp, periods, services
from .figures import SECTIONS
from .models import REPORT_FLOW, ReportStatus, WorkReport
from .snapshot import LOCALES, charts, live

CHINESE_NUMERALS = "一二三四五六七八九十"


def section_number(index: int) -> str:
    """一、 in Chinese, 1. in English (the seed's numbering of sections)."""
    if str(get_locale() or "").startswith("zh"):
        return CHINESE_NUMERALS[index] + "、"
    return f"{index + 1}. "


def asked_period(values=None):
    values = values if values is not None else request.args
    return periods.parse(values.get("period", ""), values.get("start", ""),
                         values.get("end", ""))


def _common() -> dict:
    return {"section_number": section_number, "choices": periods.choices(),
            "statuses": ReportStatus.LABELS, "section_titles": SECTIONS,
            "report_charts": charts}


@bp.route("/")
@staff_required
def report():
    args = request.args
    try:
        period = asked_period()
    except ServiceError as error:
        return render("workreport/report.html", status=400, errors=error.fields, period=None,
                      asked=args, **_common())
    return render("workreport/report.html", errors={}, asked=args, period=period,
                  snapshot=live(period), versions=services.versions(period.key), **_common())


@bp.route("/drafts", methods=["POST"])
@staff_required
def draft():
    try:
        period = asked_period(request.form)
    except ServiceError as error:
        abort(400, description=" ".join(str(m) for ms in error.fields.values() for m in ms))
    report = services.open_draft(period, current_user)
    return redirect(url_for("workreport.document", report_id=report.id))


def snapshot_of(report: WorkReport) -> dict:
    """An issued report's frozen snapshot (in the reader's language), a draft's live one."""
    if report.issued:
        locale = str(get_locale() or LOCALES[0])
        return report.frozen.get(locale) or report.frozen[LOCALES[0]]
    return live(periods.from_key(report.period_key))


def _document_page(report: WorkReport, status: int = 200, error: str = ""):
    return render("workreport/document.html", status=status, report=report,
                  snapshot=snapshot_of(report), narratives=report.narratives or {},
                  can_issue=REPORT_FLOW.can(report, current_user, "issue"),
                  revisions=services.revisions(report), error=error, **_common())


@bp.route("/<int:report_id>")
@staff_required
def document(report_id: int):
    return _document_page(visible_or_404(WorkReport, report_id))


@bp.route("/<int:report_id>/sections/<section>", methods=["POST"])
@staff_required
def save_section(report_id: int, section: str):
    report = visible_or_404(WorkReport, report_id)
    if section not in SECTIONS:
        abort(404)
    try:
        services.save_narrative(report, section, request.form.get("text", ""), current_user)
    except ServiceError as error:
        return _document_page(report, status=getattr(error, "status_code", 422),
                              error=str(error.message))
    flash(_("The section is saved."), "success")
    return redirect(url_for("workreport.document", report_id=report.id,
                            _anchor=f"section-{section}"))


@bp.route("/<int:report_id>/issue", methods=["POST"])
@admin_required
def issue(report_id: int):
    report = visible_or_404(WorkReport, report_id)
    try:
        report = services.issue(report, periods.from_key(report.period_key), current_user,
                                expected=request.form.get("expected") or ReportStatus.DRAFT)
    except NotAllowed as error:
        return _document_page(report, status=409, error=str(error.message))
    flash(_("Version %(version)d of the report is issued.", version=report.version), "success")
    return redirect(url_for("workreport.document", report_id=report.id))
