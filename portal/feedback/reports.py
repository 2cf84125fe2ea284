"""Feedback figures, for the dashboard and for any page that wants them with other filters
(a supplier's scorecard calls :func:`feedback_figures` with ``supplier_id``).

Every function takes a span of local days ``[start, end)`` (dates in Asia/Shanghai; a
:class:`portal.reporting.Period` gives ``first`` and ``end``) and counts the feedback
*submitted* in it, optionally of one supplier (the supplier it was transferred to at
acceptance) or one category:

* **volume**: items submitted;
* **median first response** and **median resolution**, in *calendar* hours from submission
  (to the first response — acceptance, rejection or duplicate — and to the latest
  resolution).  Calendar hours are what a supervisor waits; the SLA itself is judged in
  Chinese working days, separately;
* **SLA compliance** (resolution): of the items whose SLA is decided — resolved, or still open
  past the deadline — the share not missed, using the model's ``sla_decided`` /
  ``sla_missed`` conditions (the one definition; open overdue items count as missed);
* **first-response SLA compliance**: likewise of the items whose first response is decided —
  answered (accepted, rejected or marked duplicate), or still submitted past the response
  deadline — with ``response_decided`` / ``response_missed``;
* **open and overdue**: items past either deadline now (the model's ``overdue``);
* **reopen rate**: items reopened at least once, of the items resolved at least once;
* average ratings: of the service (at submission) and of the handling (when closed).

Medians are computed in SQL with window functions (both engines), all of them in one query;
every function runs a fixed number of queries whatever the data size.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time
from decimal import Decimal

import sqlalchemy as sa

from .. import stored_figures
from ..catalogue.models import ServiceCategory
from ..extensions import db
from ..i18n import local_today, local_zone
from ..reporting import count_when, hours_between, months_of
from .models import Feedback, FeedbackSource, FeedbackStatus
from .models import SupervisorAppointment as Appointment


@dataclass
class Figures:
    volume: int = 0
    open_overdue: int = 0
    sla_decided: int = 0
    sla_missed: int = 0
    response_decided: int = 0
    response_missed: int = 0
    resolved_ever: int = 0
    reopened: int = 0
    closed: int = 0
    service_rating_sum: int = 0
    handling_rating_sum: int = 0
    median_response_hours: float | None = None
    median_resolution_hours: float | None = None

    @property
    def sla_rate(self) -> Decimal | None:
        """Share of decided items that met the resolution deadline (None: none decided)."""
        if not self.sla_decided:
            return None
        return Decimal(self.sla_decided - self.sla_missed) / Decimal(self.sla_decided)

    @property
    def response_rate(self) -> Decimal | None:
        """Share of decided items answered by the first-response deadline (None: none)."""
        if not self.response_decided:
            return None
        return (Decimal(self.response_decided - self.response_missed)
                / Decimal(self.response_decided))

    @property
    def reopen_rate(self) -> Decimal | None:
        if not self.resolved_ever:
            return None
        return Decimal(self.reopened) / Decimal(self.resolved_ever)

    @property
    def avg_service_rating(self) -> Decimal | None:
        if not self.volume:
            return None
        return (Decimal(self.service_rating_sum) / self.volume).quantize(Decimal("0.1"))

    @property
    def avg_handling_rating(self) -> Decimal | None:
        if not self.closed:
            return None
        return (Decimal(self.handling_rating_sum) / self.closed).quantize(Decimal("0.1"))

    def as_dict(self) -> dict:
        keys = ("volume", "open_overdue", "sla_decided", "sla_missed", "response_decided",
                "response_missed", "resolved_ever", "reopened", "closed",
                "median_response_hours", "median_resolution_hours", "sla_rate",
                "response_rate", "reopen_rate", "avg_service_rating", "avg_handling_rating")
        return {key: getattr(self, key) for key in keys}


def _bound(day: date | datetime) -> datetime:
    if isinstance(day, datetime):
        return day
    return datetime.combine(day, time.min, tzinfo=local_zone())


SUPERVISORS_ONLY, ALL_SOURCES = FeedbackSource.SUPERVISOR, "all"


def _filters(start, end, supplier_id=None, category_id=None,
             source: str = SUPERVISORS_ONLY) -> list:
    """The items of a report.  ``source``: the supervisors' items only (the default: public
    ratings never enter the supervisors' satisfaction figures unless staff choose), the
    public's (``"public"``), or both (:data:`ALL_SOURCES`).  Spam is never counted."""
    conditions = [Feedback.submitted_at >= _bound(start), Feedback.submitted_at < _bound(end),
                  Feedback.status != FeedbackStatus.SPAM]
    if source in FeedbackSource.ALL:
        conditions.append(Feedback.source == source)
    if supplier_id is not None:
        conditions.append(Feedback.supplier_id == supplier_id)
    if category_id is not None:
        conditions.append(Feedback.category_id == category_id)
    return conditions


def _counts(group=None):
    today = local_today()

    columns = [
        sa.func.count(Feedback.id),
        count_when(Feedback.overdue(today)),
        count_when(Feedback.sla_decided(today)),
        count_when(Feedback.sla_missed(today)),
        count_when(Feedback.response_decided(today)),
        count_when(Feedback.response_missed(today)),
        count_when(sa.or_(Feedback.resolved_at.is_not(None), Feedback.reopen_count > 0)),
        count_when(Feedback.reopen_count > 0),
        count_when(Feedback.status == FeedbackStatus.CLOSED),
        sa.func.coalesce(sa.func.sum(Feedback.service_rating), 0),
        sa.func.coalesce(sa.func.sum(Feedback.handling_rating), 0),
    ]
    return ([group] if group is not None else []) + columns


RESPONSE, RESOLUTION = "response", "resolution"
OVERALL = -1  # the group key of the medians over every category


def _medians(conditions, per_category: bool = False, overall: bool = True) -> dict:
    """Median calendar hours from submission to the first response and to the resolution,
    overall and/or per category, in ONE query: ``{(metric, category id or OVERALL): h}``.

    The rows are read once (a CTE); each median is the average of the one or two middle
    values of its group, found with window functions (both engines)."""
    base = (sa.select(Feedback.category_id.label("g"),
                      *(_hours(metric).label(metric) for metric in (RESPONSE, RESOLUTION)))
            .where(*conditions).cte("timed"))
    if db.session.get_bind().dialect.name == "postgresql":
        return _medians_postgresql(base, per_category, overall)
    branches = []
    for metric in (RESPONSE, RESOLUTION):
        hours = base.c[metric]
        for grouped in ([True] if per_category else []) + ([False] if overall else []):
            key = base.c.g if grouped else sa.literal(OVERALL)
            partition = [base.c.g] if grouped else []
            ranked = (sa.select(key.label("g"), hours.label("h"),
                                sa.func.row_number().over(partition_by=partition,
                                                          order_by=hours).label("rn"),
                                sa.func.count().over(partition_by=partition).label("n"))
                      .where(hours.is_not(None)).subquery())
            branches.append(
                sa.select(sa.literal(metric).label("metric"), ranked.c.g,
                          sa.func.avg(ranked.c.h).label("median"))
                .where(ranked.c.rn * 2 >= ranked.c.n, ranked.c.rn * 2 <= ranked.c.n + 2)
                .group_by(ranked.c.g))
    if not branches:
        return {}
    rows = db.session.execute(sa.union_all(*branches)).all()
    return {(metric, g): _rounded(value) for metric, g, value in rows}


def _hours(metric: str):
    """SQL: an item's calendar hours from submission to its first response or resolution."""
    done = Feedback.first_response_at if metric == RESPONSE else Feedback.resolved_at
    return hours_between(done, Feedback.submitted_at)


def _rounded(hours) -> float | None:
    """Hours as the figures show them (one decimal)."""
    return None if hours is None else round(float(hours), 1)


def _median(hours):
    """SQL (PostgreSQL): the median of ``hours``, an aggregate: ``percentile_cont(0.5)``, the
    mean of the two middle values when there are two, as the window form on SQLite."""
    return sa.func.percentile_cont(0.5).within_group(hours)


def _medians_postgresql(base, per_category: bool, overall: bool) -> dict:
    """:func:`_medians` on PostgreSQL: :func:`_median`, one sort per group instead of two
    window passes over every row."""
    def medians(key):
        return sa.select(key.label("g"), *(
            _median(base.c[metric]).label(metric) for metric in (RESPONSE, RESOLUTION)))

    branches = ([medians(base.c.g).group_by(base.c.g)] if per_category else []) + (
        [medians(sa.literal(OVERALL))] if overall else [])
    if not branches:
        return {}
    result = {}
    for g, *values in db.session.execute(sa.union_all(*branches)).all():
        for metric, value in zip((RESPONSE, RESOLUTION), values, strict=True):
            if value is not None:
                result[(metric, g)] = _rounded(value)
    return result


def _figures_from(row) -> Figures:
    return Figures(*[int(value or 0) for value in row])


def feedback_figures(start, end, supplier_id: int | None = None,
                     category_id: int | None = None, source: str = SUPERVISORS_ONLY) -> Figures:
    """The figures of the feedback submitted in ``[start, end)`` (2 queries; on PostgreSQL
    one: the medians are aggregates there, read in the same pass as the counts)."""
    conditions = _filters(start, end, supplier_id, category_id, source)
    if db.session.get_bind().dialect.name == "postgresql":
        *counts, response, resolution = db.session.execute(
            sa.select(*_counts(), _median(_hours(RESPONSE)), _median(_hours(RESOLUTION)))
            .where(*conditions)).one()
        figures = _figures_from(counts)
        figures.median_response_hours = _rounded(response)
        figures.median_resolution_hours = _rounded(resolution)
        return figures
    figures = _figures_from(db.session.execute(sa.select(*_counts()).where(*conditions)).one())
    medians = _medians(conditions)
    figures.median_response_hours = medians.get((RESPONSE, OVERALL))
    figures.median_resolution_hours = medians.get((RESOLUTION, OVERALL))
    return figures


# The supervisors' figures of a period that has ended, stored (portal/stored_figures.py) for
# the day: an item still open changes its on-time counts with the date, so today is part of
# what the result depends on; and any change to the feedback scope (every item, appointment,
# category) replaces the scope's token, which the stored result also names.
FEEDBACK_FIGURES = stored_figures.Source(
    "feedback.figures", "feedback", keys=lambda first, end: ["feedback"],
    settings=lambda: [local_today().isoformat()])


def feedback_figures_of(periods: list) -> list[Figures]:
    """:func:`feedback_figures` (the supervisors' items) of each period (the work report
    reads three): those that have ended read stored while no feedback changed today."""
    results = stored_figures.results(
        FEEDBACK_FIGURES, periods,
        lambda missing: [asdict(feedback_figures(period.first, period.end))
                         for period in missing])
    return [Figures(**result) for result in results]


def figures_by_category(start, end, supplier_id: int | None = None
                        ) -> list[tuple[ServiceCategory, Figures]]:
    """The same figures per category, every active category listed (3 queries)."""
    return _by_category(start, end, supplier_id, with_total=False)[0]


def figures_with_total(start, end, supplier_id: int | None = None,
                       source: str = SUPERVISORS_ONLY
                       ) -> tuple[list[tuple[ServiceCategory, Figures]], Figures]:
    """:func:`figures_by_category` and the overall :class:`Figures` (3 queries)."""
    return _by_category(start, end, supplier_id, with_total=True, source=source)


def figures_by_source(start, end, category_id: int | None = None
                      ) -> list[tuple[str, Figures]]:
    """The figures of each source side by side, supervisors first (one query, no medians)."""
    rows = db.session.execute(sa.select(*_counts(Feedback.source)).where(
        *_filters(start, end, category_id=category_id, source=ALL_SOURCES))
        .group_by(Feedback.source)).all()
    found = {row[0]: _figures_from(row[1:]) for row in rows}
    return [(source, found.get(source, Figures())) for source in FeedbackSource.ALL]


def _by_category(start, end, supplier_id, with_total: bool, source: str = SUPERVISORS_ONLY):
    conditions = _filters(start, end, supplier_id, source=source)
    rows = db.session.execute(sa.select(*_counts(Feedback.category_id)).where(*conditions)
                              .group_by(Feedback.category_id)).all()
    found = {row[0]: _figures_from(row[1:]) for row in rows}
    medians = _medians(conditions, per_category=True, overall=with_total)
    categories = db.session.scalars(
        sa.select(ServiceCategory).where(sa.or_(ServiceCategory.active.is_(True),
                                                ServiceCategory.id.in_(list(found))))
        .order_by(ServiceCategory.sort_order, ServiceCategory.id)).all()
    result = []
    for category in categories:
        figures = found.get(category.id, Figures())
        figures.median_response_hours = medians.get((RESPONSE, category.id))
        figures.median_resolution_hours = medians.get((RESOLUTION, category.id))
        result.append((category, figures))
    total = None
    if with_total:
        total = Figures()
        for _category, figures in result:
            for name in ("volume", "open_overdue", "sla_decided", "sla_missed",
                         "response_decided", "response_missed", "resolved_ever",
                         "reopened", "closed", "service_rating_sum", "handling_rating_sum"):
                setattr(total, name, getattr(total, name) + getattr(figures, name))
        total.median_response_hours = medians.get((RESPONSE, OVERALL))
        total.median_resolution_hours = medians.get((RESOLUTION, OVERALL))
    return result, total


def volume_by_month(start: date, end: date, supplier_id: int | None = None,
                    category_id: int | None = None,
                    source: str = SUPERVISORS_ONLY) -> list[tuple[date, int]]:
    """Items submitted per calendar month of ``[start, end)`` (one query)."""
    months = months_of(start, end)
    if not months:
        return []
    columns = [sa.func.coalesce(sa.func.sum(sa.case(
        (sa.and_(Feedback.submitted_at >= _bound(m.first), Feedback.submitted_at < _bound(m.end)),
         1), else_=0)), 0) for m in months]
    row = db.session.execute(sa.select(*columns).where(
        *_filters(start, end, supplier_id, category_id, source))).one()
    return [(m.first, int(value or 0)) for m, value in zip(months, row, strict=True)]


@dataclass
class RosterFigures:
    in_office: int = 0  # appointments whose term meets the span
    appointed: int = 0  # terms starting in the span
    ended: int = 0  # terms whose last day (ended early or not) falls in the span


def roster_figures(first: date, end: date) -> RosterFigures:
    """Service-quality supervisors in office, appointed and ended in ``[first, end)``
    (one query)."""
    A = Appointment  # noqa: N806
    last_day = sa.func.coalesce(A.ended_on, A.term_end)

    row = db.session.execute(sa.select(
        count_when(sa.and_(A.term_start < end, last_day >= first)),
        count_when(sa.and_(A.term_start >= first, A.term_start < end)),
        count_when(sa.and_(last_day >= first, last_day < end)))).one()
    return RosterFigures(*(int(value) for value in row))
