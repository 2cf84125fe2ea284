"""Survey figures: the satisfaction rate per round (trend), by category and by supplier.

A rate is ``satisfied ÷ valid`` scale answers, where *valid* answers chose a point of the scale
("cannot judge" is not valid) and *satisfied* are those on the points the round's definition
counts (by default 非常满意 + 满意 + 基本满意). Each figure carries its sample size, and each
round its response rate (answered invitations ÷ invitations).

Every function runs a fixed number of queries whatever the data size: answers are counted in
SQL grouped by round, category, snapshot supplier and scale point; rates are formed here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from ..catalogue.models import ServiceCategory
from ..charts import bar_chart, line_chart
from ..extensions import db
from ..i18n import local_today
from ..suppliers.models import Supplier
from .models import (
    Question,
    QuestionKind,
    RoundCategory,
    RoundFigure,
    RoundStatus,
    Scale,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
)


def percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


@dataclass
class Figure:
    """Scale answers counted by point, and the rate under one definition."""

    label: str
    satisfied_points: tuple[int, ...]
    counts: dict[int | None, int] = field(default_factory=dict)  # None: cannot judge
    key: int | None = None  # category or supplier id

    def add(self, value: int | None, n: int) -> None:
        self.counts[value] = self.counts.get(value, 0) + n

    @property
    def valid(self) -> int:
        return sum(n for value, n in self.counts.items() if value is not None)

    @property
    def satisfied(self) -> int:
        return sum(self.counts.get(point, 0) for point in self.satisfied_points)

    @property
    def cannot_judge(self) -> int:
        return self.counts.get(None, 0)

    @property
    def rate(self) -> float | None:
        return percent(self.satisfied, self.valid)

    def count(self, point: int) -> int:
        return self.counts.get(point, 0)


@dataclass
class TrendPoint:
    round_id: int
    title: str
    closes_on: date
    state: str
    anonymous: bool
    target: int
    figure: Figure
    responses: int
    invitations: int

    @property
    def rate(self) -> float | None:
        return self.figure.rate

    @property
    def response_rate(self) -> float | None:
        return percent(self.responses, self.invitations)


@dataclass
class RoundFigures:
    survey: SurveyRound
    state: str
    overall: Figure
    by_category: list[Figure]
    by_supplier: list[Figure]
    responses: int
    invitations: int

    @property
    def response_rate(self) -> float | None:
        return percent(self.responses, self.invitations)


@dataclass(frozen=True)
class SupplierSatisfaction:
    """One supplier's figure for one category in one round (for agendas and scorecards)."""

    round_id: int
    round_title: str
    closes_on: date
    category_label: str
    rate: float | None  # percent
    valid_responses: int


def _answer_counts(*group: str, rounds=(), categories=None):
    """Scale answers of ``rounds`` counted by ``group`` and point: rows of (*group, value, n),
    value None for "cannot judge". ``group`` names columns: ``"round"``, ``"category"`` and
    ``"supplier"`` (the round's snapshot supplier of the category). A round whose figures are
    stored (:mod:`.figures`) is read from them, the others are counted from their answers:
    one query (UNION ALL) either way."""
    parts = []
    for stored in (False, True):
        if stored:
            round_id, value, n = (RoundFigure.round_id, sa.func.nullif(RoundFigure.point, 0),
                                  sa.func.sum(RoundFigure.answers))
            stmt = (sa.select().select_from(RoundFigure)
                    .join(Question, Question.id == RoundFigure.question_id)
                    .join(SurveyRound, SurveyRound.id == RoundFigure.round_id)
                    .where(SurveyRound.figures_stored_at.is_not(None)))
            value_group = RoundFigure.point
        else:
            round_id, value, n = SurveyResponse.round_id, SurveyAnswer.value, sa.func.count()
            stmt = (sa.select().select_from(SurveyAnswer)
                    .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
                    .join(Question, Question.id == SurveyAnswer.question_id)
                    .join(SurveyRound, SurveyRound.id == SurveyResponse.round_id)
                    .where(SurveyRound.figures_stored_at.is_(None),
                           Question.kind == QuestionKind.SCALE))
            value_group = SurveyAnswer.value
        columns = {"round": round_id, "category": Question.category_id,
                   "supplier": RoundCategory.supplier_id}
        chosen = [columns[name] for name in group]
        if "supplier" in group:
            stmt = stmt.outerjoin(RoundCategory, sa.and_(
                RoundCategory.round_id == round_id,
                RoundCategory.category_id == Question.category_id))
        stmt = stmt.add_columns(*chosen, value, n).where(round_id.in_(list(rounds)))
        if categories is not None:
            stmt = stmt.where(Question.category_id.in_(list(categories)))
        parts.append(stmt.group_by(*chosen, value_group))
    return db.session.execute(sa.union_all(*parts)).all()


def _responses_and_invitations():
    responses = (sa.select(sa.func.count()).select_from(SurveyResponse)
                 .where(SurveyResponse.round_id == SurveyRound.id).scalar_subquery())
    invitations = (sa.select(sa.func.count()).select_from(SurveyInvitation)
                   .where(SurveyInvitation.round_id == SurveyRound.id).scalar_subquery())
    return responses, invitations


def rounds_trend() -> list[TrendPoint]:
    """The rate of every published round (open or closed), oldest first, with its target,
    sample size and response rate. Two queries."""
    today = local_today()
    responses, invitations = _responses_and_invitations()
    rows = db.session.execute(
        sa.select(SurveyRound, responses, invitations)
        .where(SurveyRound.status != RoundStatus.DRAFT)
        .order_by(SurveyRound.closes_on, SurveyRound.id)).all()
    points = {
        survey.id: TrendPoint(survey.id, survey.title, survey.closes_on, survey.state(today),
                              survey.anonymous, survey.target_rate,
                              Figure(survey.title, survey.satisfied_points), n, invited)
        for survey, n, invited in rows}
    if points:
        for round_id, value, n in _answer_counts("round", rounds=points):
            points[round_id].figure.add(value, n)
    return list(points.values())


def round_figures(round_id: int) -> RoundFigures | None:
    """One round's figures: overall, by category and by the supplier responsible for each
    category when the round was published. Four queries."""
    responses, invitations = _responses_and_invitations()
    row = db.session.execute(sa.select(SurveyRound, responses, invitations)
                             .where(SurveyRound.id == round_id)).first()
    if row is None:
        return None
    survey, n, invited = row
    points = survey.satisfied_points
    overall = Figure(_("All categories"), points)
    categories: dict[int, Figure] = {}
    suppliers: dict[int | None, Figure] = {}
    counts = _answer_counts("category", "supplier", rounds=(round_id,))
    category_ids = {c for c, _s, _v, _n in counts} | set(db.session.scalars(
        sa.select(RoundCategory.category_id).where(RoundCategory.round_id == round_id)))
    labels = {c.id: c for c in db.session.scalars(
        sa.select(ServiceCategory).where(ServiceCategory.id.in_(category_ids)))}
    supplier_names = dict(db.session.execute(
        sa.select(Supplier.id, Supplier.name).join(
            RoundCategory, RoundCategory.supplier_id == Supplier.id)
        .where(RoundCategory.round_id == round_id)).all())
    for category_id in sorted(category_ids, key=lambda c: (labels[c].sort_order, labels[c].id)):
        categories[category_id] = Figure(labels[category_id].label, points, key=category_id)
    for category_id, supplier_id, value, number in counts:
        overall.add(value, number)
        categories[category_id].add(value, number)
        if supplier_id not in suppliers:
            name = supplier_names.get(supplier_id) if supplier_id else None
            suppliers[supplier_id] = Figure(name or _("Bureau staff (not outsourced)"), points,
                                            key=supplier_id)
        suppliers[supplier_id].add(value, number)
    by_supplier = sorted(suppliers.values(), key=lambda f: (f.key is None, f.label))
    return RoundFigures(survey, survey.state(local_today()), overall,
                        list(categories.values()), by_supplier, n, invited)


def supplier_satisfaction(supplier_ids, rounds: int = 2) -> dict[int, list[SupplierSatisfaction]]:
    """Per supplier: its figures per category in the latest ``rounds`` published rounds that
    asked about a category it was responsible for, newest first (within a round, in catalogue
    order). The agenda pre-fill takes the default two rounds; the scorecard's satisfaction over
    time asks for more (``rounds=8``). Two queries whatever ``rounds`` and the history: the
    latest rounds are picked in SQL (a window function) and only their answers are counted."""
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    supplier_ids = list(supplier_ids)
    result: dict[int, list[SupplierSatisfaction]] = {sid: [] for sid in supplier_ids}
    if not supplier_ids:
        return result
    recency = sa.func.dense_rank().over(
        partition_by=RoundCategory.supplier_id,
        order_by=(SurveyRound.closes_on.desc(), SurveyRound.id.desc())).label("recency")
    ranked = (sa.select(RoundCategory.supplier_id, RoundCategory.category_id,
                        RoundCategory.round_id, recency)
              .join(SurveyRound, SurveyRound.id == RoundCategory.round_id)
              .where(RoundCategory.supplier_id.in_(supplier_ids),
                     SurveyRound.status != RoundStatus.DRAFT)
              .subquery())
    wanted = db.session.execute(
        sa.select(ranked.c.supplier_id, SurveyRound, ServiceCategory)
        .join(SurveyRound, SurveyRound.id == ranked.c.round_id)
        .join(ServiceCategory, ServiceCategory.id == ranked.c.category_id)
        .where(ranked.c.recency <= rounds)
        .order_by(ranked.c.supplier_id, SurveyRound.closes_on.desc(), SurveyRound.id.desc(),
                  ServiceCategory.sort_order, ServiceCategory.id)).all()
    if not wanted:
        return result
    figures: dict[tuple[int, int], Figure] = {}
    round_ids = {survey.id for _s, survey, _c in wanted}
    category_ids = {category.id for _s, _r, category in wanted}
    for round_id, category_id, value, number in _answer_counts(
            "round", "category", rounds=round_ids, categories=category_ids):
        figures.setdefault((round_id, category_id), Figure("", ())).add(value, number)
    for supplier_id, survey, category in wanted:
        counted = figures.get((survey.id, category.id), Figure("", ()))
        figure = Figure(category.label, survey.satisfied_points, counted.counts)
        result[supplier_id].append(SupplierSatisfaction(
            survey.id, survey.title, survey.closes_on, category.label, figure.rate,
            figure.valid))
    return result


@dataclass
class TrendRow:
    """One category or supplier across rounds: a figure per round (None: not asked then)."""

    label: str
    figures: list[Figure | None]


def trend_by(kind: str, trend: list[TrendPoint]) -> list[TrendRow]:
    """The rate of each category (``kind="category"``) or snapshot supplier (``"supplier"``)
    in each round of ``trend``, with its sample size. Three queries."""
    if not trend:
        return []
    index = {point.round_id: n for n, point in enumerate(trend)}
    definitions = {point.round_id: point.figure.satisfied_points for point in trend}
    asked = db.session.execute(
        sa.select(RoundCategory.round_id, RoundCategory.category_id, RoundCategory.supplier_id)
        .where(RoundCategory.round_id.in_(index))).all()
    counts = _answer_counts("round", kind, rounds=index)
    keys = {(c if kind == "category" else s) for _r, c, s in asked} | {
        key for _r, key, _v, _n in counts}
    if kind == "category":
        found = db.session.scalars(sa.select(ServiceCategory).where(ServiceCategory.id.in_(
            {k for k in keys if k is not None}))).all()
        found.sort(key=lambda c: (c.sort_order, c.id))
        labels = {c.id: c.label for c in found}
    else:
        labels = dict(db.session.execute(sa.select(Supplier.id, Supplier.name).where(
            Supplier.id.in_({k for k in keys if k is not None}))).all())
        labels = dict(sorted(labels.items(), key=lambda item: item[1]))
        if None in keys:
            labels[None] = _("Bureau staff (not outsourced)")
    rows = {key: TrendRow(label, [None] * len(trend)) for key, label in labels.items()}
    for round_id, category_id, supplier_id in asked:
        key = category_id if kind == "category" else supplier_id
        if key in rows and rows[key].figures[index[round_id]] is None:
            rows[key].figures[index[round_id]] = Figure(rows[key].label,
                                                        definitions[round_id], key=key)
    for round_id, key, value, number in counts:
        if key in rows:
            cell = rows[key].figures[index[round_id]]
            if cell is None:
                cell = rows[key].figures[index[round_id]] = Figure(
                    rows[key].label, definitions[round_id], key=key)
            cell.add(value, number)
    return list(rows.values())


# --- charts ------------------------------------------------------------------------------------


def trend_chart(trend: list[TrendPoint]):
    """The rate per round, labelled by closing month (titles are long), with the latest
    round's target as the target line; the table's notes give title, sample and response."""
    target = trend[-1].target if trend else None
    return line_chart(
        [(f"{point.closes_on:%Y-%m}", point.rate) for point in trend], unit="%",
        target=target, y_max=100,
        notes=[_("%(title)s · n = %(n)d · response rate %(rate)s", title=point.title,
                 n=point.figure.valid, rate=_format_percent(point.response_rate))
               for point in trend])


def figures_chart(figures: list[Figure], target: int | None):
    return bar_chart([(f.label, f.rate) for f in figures], unit="%", target=target, y_max=100,
                     notes=[_("n = %(n)d", n=f.valid) for f in figures])


def _format_percent(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"


def satisfaction_section_context() -> dict:
    """The context of ``templates/surveys/_satisfaction_section.html``: the trend of every
    published round with the target line, and the latest round by category and by supplier."""
    trend = rounds_trend()
    # The latest round with answers (a round just opened has none yet), else the latest.
    answered = [point for point in trend if point.figure.valid] or trend
    latest = round_figures(answered[-1].round_id) if answered else None
    target = latest.survey.target_rate if latest is not None else None
    return {
        "survey_trend": trend,
        "survey_trend_chart": trend_chart(trend),
        "survey_latest": latest,
        "survey_category_chart": figures_chart(latest.by_category, target) if latest else None,
        "survey_supplier_chart": figures_chart(latest.by_supplier, target) if latest else None,
        "scale_points": Scale.POINTS,
    }
