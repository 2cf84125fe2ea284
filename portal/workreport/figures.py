"""The work report's figures: ONE registry of definitions, each computed from a module's own
report function (never a second copy of a figure's SQL).

A :class:`FigureDef` names its key, section, label (lazy, both languages), unit, whether more
is better, how to compute it from the :class:`Sources` of a period, and the page that
explains it.  :func:`compute` evaluates every definition for a period, the previous period
(环比) and the same period a year before (同比); each source's module function reads the three
periods in one go, so the queries grow neither with the data nor with the periods compared.
The venue figures of the months that have ended, and the supervisors' feedback figures of the
periods that have ended (for the day), are read from their stored results while their data has
not changed (``bookings.reports.VENUE_FIGURES``, ``feedback.reports.FEEDBACK_FIGURES``,
``portal/stored_figures.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property

from flask import url_for
from flask_babel import lazy_gettext as _l

from ..bookings.reports import venue_report, venue_reports
from ..feedback.reports import (
    feedback_figures,
    feedback_figures_of,
    figures_by_category,
    roster_figures,
)
from ..meetings.reports import meeting_figures, meeting_figures_of
from ..rentals.reports import income_table, income_tables, lease_movements, lease_movements_of
from ..rentals.services import arrears_total
from ..reporting import months_of
from ..suppliers.reports import contract_figures, contract_figures_of
from ..surveys.reports import rounds_trend
from .periods import ReportPeriod

# Units: how a value is shown and compared.
COUNT, MONEY, PERCENT, HOURS, AREA, RATING = "count", "money", "percent", "hours", "area", \
    "rating"

VENUES, RENTALS, SUPERVISION, SUPPLIERS, INCOME = "venues", "rentals", "supervision", \
    "suppliers", "income"
SECTIONS = {
    VENUES: _l("Conference center and canteen"),
    RENTALS: _l("Renting out rooms"),
    SUPERVISION: _l("Service-quality supervision"),
    SUPPLIERS: _l("Contracted services"),
    INCOME: _l("Income generated"),
}


class Sources:
    """The modules' report results for one period, each read once, on first use, unless
    given (``known``: read with the other periods' in one go, by :func:`compute`)."""

    def __init__(self, period: ReportPeriod, trend=None, venue_months=None, **known):
        self.report_period = period
        self.period = period.period
        self._trend = trend
        self._venue_months = venue_months
        self._known = known

    def _given(self, name: str, read: Callable[[], object]):
        return self._known[name] if name in self._known else read()

    @cached_property
    def venues(self):
        return self._given("venues", lambda: venue_report(self.period))

    @cached_property
    def rent_table(self):
        return self._given("rent_table", lambda: income_table(self.period))

    @cached_property
    def rent(self):
        return self.rent_table.totals

    @cached_property
    def leases(self):
        return self._given("leases", lambda: lease_movements(self.period))

    @cached_property
    def feedback(self):
        return self._given("feedback",
                           lambda: feedback_figures(self.period.first, self.period.end))

    @cached_property
    def feedback_by_service(self):
        return figures_by_category(self.period.first, self.period.end)

    @cached_property
    def rent_months(self):
        """(month label, rent collected in fen) per month of the period."""
        return [(row[0], row[2]) for row in self.rent_table.rows]

    @cached_property
    def income_months(self):
        """(month label, venue income in fen, rent collected in fen) per month of the period:
        the income chart (the same definitions as ``income_venues`` and ``income_rentals``)."""
        months = self._venue_months
        if months is None:
            months = venue_reports(months_of(self.period.first, self.period.end), catering=False)
        return [(label, report.total_income_fen, rent)
                for (label, rent), report in zip(self.rent_months, months, strict=True)]

    @cached_property
    def roster(self):
        return roster_figures(self.period.first, self.period.end)

    @cached_property
    def contracts(self):
        return self._given("contracts",
                           lambda: contract_figures(self.period.first, self.period.end))

    @cached_property
    def meetings(self):
        return self._given("meetings",
                           lambda: meeting_figures(self.period.first, self.period.end))

    @cached_property
    def trend(self):
        return self._trend if self._trend is not None else rounds_trend()

    @cached_property
    def rounds(self):
        """The survey rounds that closed in the period, oldest first."""
        return [point for point in self.trend
                if self.period.first <= point.closes_on < self.period.end]

    @cached_property
    def round_before(self):
        """The last round that closed before the period's latest round (for "did it rise")."""
        if not self.rounds:
            return None
        latest = self.rounds[-1]
        earlier = [point for point in self.trend
                   if point.closes_on < latest.closes_on and point.round_id != latest.round_id]
        return earlier[-1] if earlier else None

    @cached_property
    def arrears(self) -> int:
        """All rent overdue today, in fen."""
        return arrears_total()


def _catering(kind: str) -> Callable[[Sources], int]:
    def servings(s: Sources) -> int:
        return sum(item.servings for item in s.venues.catering if item.kind == kind)
    return servings


def _rate(value) -> Decimal | None:
    """A fraction as a percentage (one decimal)."""
    return None if value is None else (Decimal(value) * 100).quantize(Decimal("0.1"))


def _survey_rate(s: Sources):
    return None if not s.rounds or s.rounds[-1].rate is None else Decimal(
        str(s.rounds[-1].rate))


def _survey_response_rate(s: Sources):
    return None if not s.rounds or s.rounds[-1].response_rate is None else Decimal(
        str(s.rounds[-1].response_rate))


def _link(endpoint: str, with_period: bool = True, **args) -> Callable[[ReportPeriod], str]:
    def url(period: ReportPeriod) -> str:
        key = period.module_period_key()
        extra = {"period": key} if with_period and key else {}
        return url_for(endpoint, **args, **extra)
    return url


@dataclass(frozen=True)
class FigureDef:
    key: str
    section: str
    label: object  # lazy string
    unit: str
    compute: Callable[[Sources], object]
    link: Callable[[ReportPeriod], str]
    better: int = 1  # 1: more is better, -1: less is better, 0: neither
    as_of_today: bool = False  # a state today, not a figure of the period (no comparison)


FIGURES: tuple[FigureDef, ...] = (
    # 一、会议中心与餐厅
    FigureDef("meetings_total", VENUES, _l("Meetings served"), COUNT,
              lambda s: s.venues.total.internal_meetings + s.venues.total.external_meetings,
              _link("bookings.reports")),
    FigureDef("meetings_internal", VENUES, _l("Internal meetings"), COUNT,
              lambda s: s.venues.total.internal_meetings, _link("bookings.reports")),
    FigureDef("meetings_external", VENUES, _l("External meetings"), COUNT,
              lambda s: s.venues.total.external_meetings, _link("bookings.reports")),
    FigureDef("government_sessions", VENUES, _l("Government sessions served"), COUNT,
              lambda s: s.venues.total.government_sessions, _link("bookings.reports")),
    FigureDef("venue_utilisation", VENUES, _l("Venue utilisation"), PERCENT,
              lambda s: _rate(s.venues.total.utilisation), _link("bookings.reports")),
    FigureDef("meals", VENUES, _l("Meals served"), COUNT, _catering("meal"),
              _link("bookings.reports")),
    FigureDef("banquet_tables", VENUES, _l("Banquet tables served"), COUNT,
              _catering("banquet"), _link("bookings.reports")),
    FigureDef("venue_income", VENUES, _l("External income of the conference center"), MONEY,
              lambda s: s.venues.total_income_fen, _link("bookings.reports")),
    # 二、房屋租赁
    FigureDef("rooms_leased", RENTALS, _l("Rooms leased"), COUNT,
              lambda s: s.leases.rooms_leased, _link("rentals.reports")),
    FigureDef("area_leased", RENTALS, _l("Area leased (m²)"), AREA,
              lambda s: s.leases.area_leased, _link("rentals.reports")),
    FigureDef("new_leases", RENTALS, _l("New leases"), COUNT,
              lambda s: s.leases.new, _link("rentals.leases", with_period=False)),
    FigureDef("renewals", RENTALS, _l("Leases renewed"), COUNT,
              lambda s: s.leases.renewed, _link("rentals.leases", with_period=False)),
    FigureDef("terminations", RENTALS, _l("Leases terminated early"), COUNT,
              lambda s: s.leases.terminated, _link("rentals.leases", with_period=False),
              better=0),
    FigureDef("rent_due", RENTALS, _l("Rent due"), MONEY, lambda s: s.rent[1],
              _link("rentals.reports")),
    FigureDef("rent_collected", RENTALS, _l("Rent collected"), MONEY, lambda s: s.rent[2],
              _link("rentals.reports")),
    FigureDef("collection_rate", RENTALS, _l("Collection rate"), PERCENT,
              lambda s: _rate(s.rent[4]), _link("rentals.reports")),
    FigureDef("arrears", RENTALS, _l("Rent overdue today"), MONEY,
              lambda s: s.arrears,
              _link("rentals.reports", with_period=False), better=-1, as_of_today=True),
    # 三、服务质量监督
    FigureDef("supervisors", SUPERVISION, _l("Supervisors in office"), COUNT,
              lambda s: s.roster.in_office, _link("feedback.roster", with_period=False)),
    FigureDef("supervisors_appointed", SUPERVISION, _l("Supervisors appointed"), COUNT,
              lambda s: s.roster.appointed, _link("feedback.roster", with_period=False)),
    FigureDef("feedback", SUPERVISION, _l("Feedback received"), COUNT,
              lambda s: s.feedback.volume, _link("feedback.dashboard"), better=0),
    FigureDef("response_sla", SUPERVISION, _l("First responses on time"), PERCENT,
              lambda s: _rate(s.feedback.response_rate), _link("feedback.dashboard")),
    FigureDef("resolution_sla", SUPERVISION, _l("Resolved on time"), PERCENT,
              lambda s: _rate(s.feedback.sla_rate), _link("feedback.dashboard")),
    FigureDef("median_resolution", SUPERVISION, _l("Median hours to resolve"), HOURS,
              lambda s: s.feedback.median_resolution_hours, _link("feedback.dashboard"),
              better=-1),
    FigureDef("reopen_rate", SUPERVISION, _l("Reopened"), PERCENT,
              lambda s: _rate(s.feedback.reopen_rate), _link("feedback.dashboard"), better=-1),
    FigureDef("service_rating", SUPERVISION, _l("Average service rating"), RATING,
              lambda s: s.feedback.avg_service_rating, _link("feedback.dashboard")),
    FigureDef("survey_rounds", SUPERVISION, _l("Satisfaction survey rounds"), COUNT,
              lambda s: len(s.rounds), _link("surveys.trend", with_period=False)),
    FigureDef("satisfaction", SUPERVISION, _l("Satisfaction rate"), PERCENT, _survey_rate,
              _link("surveys.trend", with_period=False)),
    FigureDef("survey_response_rate", SUPERVISION, _l("Survey response rate"), PERCENT,
              _survey_response_rate, _link("surveys.trend", with_period=False)),
    # 四、委托服务
    FigureDef("contracts", SUPPLIERS, _l("Service contracts in force"), COUNT,
              lambda s: s.contracts.in_force, _link("suppliers.contracts", with_period=False)),
    FigureDef("contracts_new", SUPPLIERS, _l("New service contracts"), COUNT,
              lambda s: s.contracts.new, _link("suppliers.contracts", with_period=False)),
    FigureDef("contracts_renewed", SUPPLIERS, _l("Service contracts renewed"), COUNT,
              lambda s: s.contracts.renewed, _link("suppliers.contracts", with_period=False)),
    FigureDef("integrity_agreements", SUPPLIERS, _l("Integrity agreements signed"), COUNT,
              lambda s: s.contracts.integrity_signed, _link("suppliers.suppliers",
                                                            with_period=False)),
    FigureDef("joint_meetings", SUPPLIERS, _l("Joint meetings held"), COUNT,
              lambda s: s.meetings.held, _link("meetings.meetings", with_period=False)),
    FigureDef("actions_opened", SUPPLIERS, _l("Action items agreed"), COUNT,
              lambda s: s.meetings.actions_opened, _link("meetings.actions", with_period=False),
              better=0),
    FigureDef("actions_verified", SUPPLIERS, _l("Action items verified"), COUNT,
              lambda s: s.meetings.actions_verified,
              _link("meetings.actions", with_period=False)),
    FigureDef("actions_overdue", SUPPLIERS, _l("Action items overdue"), COUNT,
              lambda s: s.meetings.actions_overdue,
              _link("meetings.actions", with_period=False, state="overdue"), better=-1),
    # 五、创收
    FigureDef("income_venues", INCOME, _l("Conference center and canteen"), MONEY,
              lambda s: s.venues.total_income_fen, _link("bookings.reports")),
    FigureDef("income_rentals", INCOME, _l("Rentals (rent collected)"), MONEY,
              lambda s: s.rent[2], _link("rentals.reports")),
    FigureDef("income_total", INCOME, _l("Income in total"), MONEY,
              lambda s: s.venues.total_income_fen + s.rent[2], _link("rentals.reports")),
)
BY_KEY = {figure.key: figure for figure in FIGURES}


def change(current, base) -> Decimal | None:
    """The change from ``base`` to ``current`` in percent (None: nothing to compare with)."""
    if current is None or base is None or not base:
        return None
    return ((Decimal(current) - Decimal(base)) * 100 / Decimal(base)).quantize(Decimal("0.1"))


@dataclass
class Value:
    definition: FigureDef
    current: object
    previous: object = None
    year_ago: object = None
    link: str = ""

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def vs_previous(self) -> Decimal | None:
        return None if self.definition.as_of_today else change(self.current, self.previous)

    @property
    def vs_year_ago(self) -> Decimal | None:
        return None if self.definition.as_of_today else change(self.current, self.year_ago)

    def direction(self, delta: Decimal | None) -> str:
        """"good", "bad" or "flat" (for the colour), by the figure's better direction."""
        if delta is None or not delta or not self.definition.better:
            return "flat"
        return "good" if (delta > 0) == (self.definition.better > 0) else "bad"


@dataclass
class Figures:
    period: ReportPeriod
    values: dict[str, Value]
    sources: Sources = field(repr=False)
    previous_sources: Sources = field(repr=False)
    year_ago_sources: Sources = field(repr=False)

    def __getitem__(self, key: str) -> Value:
        return self.values[key]

    def section(self, name: str) -> list[Value]:
        return [value for value in self.values.values() if value.definition.section == name]

    @property
    def empty(self) -> bool:
        """True when the period has no activity at all (every figure zero or missing)."""
        return not any(value.current for value in self.values.values()
                       if not value.definition.as_of_today
                       and value.key not in ("supervisors", "contracts"))


def compute(period: ReportPeriod) -> Figures:
    """Every figure of the registry for the period, the previous one and a year before."""
    trend = rounds_trend()
    periods = (period, period.previous(), period.year_before())
    spans = [each.period for each in periods]
    days = [(span.first, span.end) for span in spans]
    # Each source's three periods in one pass (its module's function for several periods);
    # the venue figures also of the period's months (the income chart).
    months = months_of(period.period.first, period.period.end)
    venues = venue_reports(spans + months, catering=len(periods))
    known = {"venues": venues, "rent_table": income_tables(spans),
             "feedback": feedback_figures_of(spans),
             "leases": lease_movements_of(spans),
             "contracts": contract_figures_of(days), "meetings": meeting_figures_of(days)}
    current, previous, year_ago = (
        Sources(each, trend, venue_months=venues[len(periods):] if idx == 0 else None,
                **{name: values[idx] for name, values in known.items()})
        for idx, each in enumerate(periods))
    values = {}
    for definition in FIGURES:
        value = Value(definition, definition.compute(current), link=definition.link(period))
        if not definition.as_of_today:
            value.previous = definition.compute(previous)
            value.year_ago = definition.compute(year_ago)
        values[definition.key] = value
    return Figures(period, values, current, previous, year_ago)
