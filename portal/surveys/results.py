"""Round results and the trend of the satisfaction rate, with CSV/XLSX exports.

Charts are drawn on the server (:mod:`portal.charts`), each with its table. In an anonymous
round nothing here names a respondent: free-text answers are listed sorted by their text (not
by when they came in) and the answers export has no person, time or response key.
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..authz import staff_required, visible_or_404
from ..core.nav import nav_item
from ..exports import Column, Kind, export_response, requested_format
from ..extensions import db
from ..feedback.dashboard import DASHBOARD
from ..htmx import render
from ..page_cache import cached_page
from ..pages import page_section
from . import bp, reports
from .models import (
    Question,
    QuestionKind,
    QuestionnaireVersion,
    RoundStatus,
    Scale,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
    round_key,
)
from .views import _labels

nav_item("surveys.trend", _l("Satisfaction trend"), ("staff", "admin"), order=41)

REPORTS = ("categories", "suppliers", "answers", "comments")


def _fraction(rate: float | None) -> Decimal | None:
    return None if rate is None else Decimal(str(rate)) / 100


def _figure_table(figures, first_heading):
    columns = [Column(first_heading)] + [
        Column(str(Scale.LABELS[point]), Kind.INT) for point in Scale.POINTS] + [
        Column(_("Cannot judge"), Kind.INT), Column(_("Valid answers"), Kind.INT),
        Column(_("Satisfaction rate"), Kind.PERCENT)]
    rows = [[f.label, *(f.count(point) for point in Scale.POINTS), f.cannot_judge, f.valid,
             _fraction(f.rate)] for f in figures]
    return columns, rows


def _comments(survey: SurveyRound) -> list[tuple[str, str, str]]:
    """Free-text answers: (question, text, respondent). Anonymous rounds: no respondent, and
    sorted by question and text so their order tells nothing."""
    stmt = (sa.select(Question.position, Question.prompt, SurveyAnswer.text,
                      SurveyInvitation.name, SurveyInvitation.unit)
            .select_from(SurveyAnswer)
            .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
            .join(Question, Question.id == SurveyAnswer.question_id)
            .outerjoin(SurveyInvitation, SurveyInvitation.id == SurveyResponse.invitation_id)
            .where(SurveyResponse.round_id == survey.id, Question.kind == QuestionKind.TEXT,
                   SurveyAnswer.text != "")
            .order_by(Question.position, SurveyAnswer.text))
    rows = []
    for _position, prompt, text, name, unit in db.session.execute(stmt):
        who = "" if survey.anonymous else " · ".join(p for p in (name, unit) if p)
        rows.append((prompt, text, who))
    return rows


@bp.route("/rounds/<int:round_id>/results")
@staff_required
@cached_page("suppliers", surveys=lambda round_id: [round_key(round_id)],
             feedback=lambda round_id: [])  # feedback: the categories (shared) only
def results(round_id: int):
    visible_or_404(SurveyRound, round_id)
    figures = reports.round_figures(round_id)
    target = figures.survey.target_rate
    return render_results(figures, target)


def render_results(figures, target):
    return render("surveys/results.html", figures=figures, survey=figures.survey,
                  category_chart=reports.figures_chart(figures.by_category, target),
                  supplier_chart=reports.figures_chart(figures.by_supplier, target),
                  comments=_comments(figures.survey), scale_points=Scale.POINTS,
                  satisfied_labels=" + ".join(str(Scale.LABELS[point])
                                              for point in figures.survey.satisfied_points),
                  **_labels())


def _answers_export(survey: SurveyRound):
    """One row per response: its scale answers (and, in a named round, who and when)."""
    version = db.session.scalar(
        sa.select(QuestionnaireVersion).where(QuestionnaireVersion.id == survey.version_id)
        .options(selectinload(QuestionnaireVersion.questions).selectinload(Question.category)))
    questions = version.questions if version is not None else []
    responses = db.session.scalars(
        sa.select(SurveyResponse).where(SurveyResponse.round_id == survey.id)
        .options(selectinload(SurveyResponse.answers),
                 selectinload(SurveyResponse.invitation))).all()
    columns = []
    if not survey.anonymous:
        columns += [Column(_("Respondent")), Column(_("Unit")), Column(_("Email")),
                    Column(_("Answered at"), Kind.DATETIME)]
    for question in questions:
        heading = question.prompt
        if question.category is not None:
            heading = _("%(label)s: %(text)s", label=question.category.label, text=heading)
        columns.append(Column(heading))
    rows = []
    for response in responses:
        answers = {a.question_id: a for a in response.answers}
        cells = []
        for question in questions:
            answer = answers.get(question.id)
            if question.kind == QuestionKind.SCALE:
                value = answer.value if answer is not None else None
                cells.append(str(Scale.LABELS[value]) if value else _("Cannot judge"))
            else:
                cells.append(answer.text if answer is not None else "")
        if not survey.anonymous:
            invitation = response.invitation
            cells = [invitation.name, invitation.unit, invitation.email,
                     response.submitted_at] + cells
        rows.append(cells)
    # Anonymous: sorted by the answers themselves, never by arrival or key.
    rows.sort(key=lambda row: [str(cell) for cell in row])
    return columns, rows


@bp.route("/rounds/<int:round_id>/results/export")
@staff_required
def results_export(round_id: int):
    survey = visible_or_404(SurveyRound, round_id)
    report = request.args.get("report", "categories")
    if report not in REPORTS:
        abort(404)
    fmt = requested_format()
    stem = f"{survey.title}-{report}"
    if report == "answers":
        columns, rows = _answers_export(survey)
        return export_response(stem, columns, rows, fmt=fmt)
    if report == "comments":
        columns = [Column(_("Question")), Column(_("Answer"))]
        if not survey.anonymous:
            columns.append(Column(_("Respondent")))
        rows = [list(row) if not survey.anonymous else list(row[:2])
                for row in _comments(survey)]
        return export_response(stem, columns, rows, fmt=fmt)
    figures = reports.round_figures(round_id)
    if report == "categories":
        columns, rows = _figure_table(figures.by_category, _("Service category"))
    else:
        columns, rows = _figure_table(figures.by_supplier, _("Supplier"))
    overall = figures.overall
    totals = [_("All categories"), *(overall.count(p) for p in Scale.POINTS),
              overall.cannot_judge, overall.valid, _fraction(overall.rate)]
    return export_response(stem, columns, rows, totals=totals, fmt=fmt)


def _trend_rows(trend):
    return [[point.title, point.closes_on, str(RoundStatus.LABELS[point.state]),
             _fraction(point.rate), _fraction(point.target), point.figure.valid,
             point.responses, point.invitations, _fraction(point.response_rate)]
            for point in trend]


TREND_COLUMNS = (
    (_l("Round"), Kind.TEXT), (_l("Closes on"), Kind.DATE), (_l("Status"), Kind.TEXT),
    (_l("Satisfaction rate"), Kind.PERCENT), (_l("Target"), Kind.PERCENT),
    (_l("Valid answers"), Kind.INT), (_l("Responses"), Kind.INT),
    (_l("Invitations"), Kind.INT), (_l("Response rate"), Kind.PERCENT))


TREND_ROUNDS_SHOWN = 8  # rounds in the by-category and by-supplier tables of the page


@bp.route("/trend")
@staff_required
@cached_page("surveys", "suppliers", feedback=lambda: [])  # every round; the categories
def trend():
    context = reports.satisfaction_section_context()
    recent = context["survey_trend"][-TREND_ROUNDS_SHOWN:]
    return render("surveys/trend.html", recent=recent,
                  by_category=reports.trend_by("category", recent),
                  by_supplier=reports.trend_by("supplier", recent), **context)


def _matrix_export(kind: str, trend, fmt: str):
    heading = _("Service category") if kind == "category" else _("Supplier")
    columns = [Column(heading)]
    for point in trend:
        columns += [
            Column(_("%(label)s: %(text)s", label=point.title, text=_("Satisfaction rate")),
                   Kind.PERCENT),
            Column(_("%(label)s: %(text)s", label=point.title, text=_("Valid answers")),
                   Kind.INT)]
    rows = []
    for row in reports.trend_by(kind, trend):
        cells = [row.label]
        for figure in row.figures:
            cells += [None, None] if figure is None else [_fraction(figure.rate), figure.valid]
        rows.append(cells)
    return export_response(_("satisfaction-trend-%(by)s", by=kind), columns, rows, fmt=fmt)


@bp.route("/trend/export")
@staff_required
def trend_export():
    fmt = requested_format()
    report = request.args.get("report", "rounds")
    if report in ("category", "supplier"):
        return _matrix_export(report, reports.rounds_trend(), fmt)
    if report != "rounds":
        abort(404)
    return export_response(_("satisfaction-trend"), [Column(str(h), k) for h, k in TREND_COLUMNS],
                           _trend_rows(reports.rounds_trend()), fmt=fmt)


# The feedback dashboard shows the satisfaction section beside the complaints.
page_section(DASHBOARD)(reports.satisfaction_section_context)
