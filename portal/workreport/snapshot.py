"""The report as shown, in one language: the period, each section's title, generated
sentences and figures (as text, with their comparisons and links).

The page, the documents and the XLSX draw a snapshot; a draft's is computed now, an issued
report's was frozen at issue in both languages (``WorkReport.frozen``), so later data changes
do not alter it.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

from ..i18n import money
from ..surveys.reports import trend_chart
from .figures import SECTIONS, Figures, compute
from .narrative import percent, sentences, shown
from .periods import ReportPeriod

LOCALES = ("zh_Hans_CN", "en")


def _change(value, delta) -> dict:
    return {"text": "—" if delta is None else ("=" if not delta else
                                                ("+" if delta > 0 else "−") + percent(abs(delta))),
            "direction": value.direction(delta)}


def build(figures: Figures) -> dict:
    """The snapshot of computed figures, in the current language."""
    lines = sentences(figures)
    sections = []
    for key, title in SECTIONS.items():
        rows = []
        for value in figures.section(key):
            today = value.definition.as_of_today
            rows.append({
                "key": value.key, "label": str(value.definition.label), "link": value.link,
                "unit": value.definition.unit, "today": today,
                "current": shown(value), "raw": _raw(value.current),
                "previous": "—" if today else shown(value, "previous"),
                "year_ago": "—" if today else shown(value, "year_ago"),
                "vs_previous": _change(value, value.vs_previous),
                "vs_year_ago": _change(value, value.vs_year_ago),
            })
        sections.append({"key": key, "title": str(title), "sentences": lines[key],
                         "figures": rows})
    return {"period_key": figures.period.key, "period": figures.period.label,
            "empty": figures.empty, "sections": sections, "charts": chart_data(figures)}


def chart_data(figures: Figures) -> dict:
    """The series the charts draw (frozen with the figures): the satisfaction rate of the
    last rounds up to the period's end as the surveys' trend chart labels them (closing month;
    title, sample and response rate as the note; the latest round's target), feedback by
    service, income by month (the conference center's and the rent collected; a report
    frozen before it has the rent alone)."""
    sources = figures.sources
    rounds = [point for point in sources.trend if point.closes_on < sources.period.end][-8:]
    trend = trend_chart(rounds)
    return {
        "satisfaction": [[point.label, point.value, point.note] for point in trend.points],
        "satisfaction_target": trend.target,
        "feedback_by_service": [[category.label, item.volume]
                                for category, item in sources.feedback_by_service],
        "income_by_month": [[label, round((venues + rent) / 100, 2),
                             _("Conference center %(venues)s · rent %(rent)s",
                               venues=money(venues), rent=money(rent))]
                            for label, venues, rent in sources.income_months],
    }


def _raw(value):
    return None if value is None else (value if isinstance(value, int) else str(value))


def live(period: ReportPeriod) -> dict:
    return build(compute(period))


def freeze(period: ReportPeriod) -> dict:
    """The snapshot in every language (the figures computed once per language)."""
    frozen = {}
    for locale in LOCALES:
        with force_locale(locale):
            frozen[locale] = live(period)
    return frozen


def charts(snapshot: dict) -> dict:
    """The charts of a snapshot, drawn by ``templates/_chart.html`` (portal.charts), per
    section: ``{section: [(chart, title, label heading, value heading, id)]}``."""
    from ..charts import bar_chart, line_chart

    data = snapshot.get("charts") or {}
    drawn: dict[str, list] = {}
    # A period without data still has its charts, which say so ("No data yet.").
    if "satisfaction" in data:
        points = data["satisfaction"]  # [label, rate, note]; [title, rate] before notes
        drawn.setdefault("supervision", []).append((
            line_chart([(point[0], point[1]) for point in points], unit="%", y_max=100,
                       target=data.get("satisfaction_target"),
                       notes=[point[2] if len(point) > 2 else "" for point in points]),
            _("Satisfaction rate per survey round"), _("Survey round"), _("Satisfaction rate"),
            "chart-satisfaction"))
    if "feedback_by_service" in data:
        drawn.setdefault("supervision", []).append((
            bar_chart([tuple(point) for point in data["feedback_by_service"]]),
            _("Feedback received per service"), _("Service"), _("Items"), "chart-feedback"))
    if "income_by_month" in data:
        points = data["income_by_month"]  # [label, yuan, note]
        drawn.setdefault("income", []).append((
            bar_chart([(point[0], point[1]) for point in points],
                      notes=[point[2] for point in points]),
            _("Income per month (yuan)"), _("Month"), _("Income"), "chart-income"))
    elif "rent_by_month" in data:  # frozen before the conference center's income was in it
        drawn.setdefault("income", []).append((
            bar_chart([tuple(point) for point in data["rent_by_month"]]),
            _("Rent collected per month (yuan)"), _("Month"), _("Rent collected"),
            "chart-rent"))
    return drawn
