"""The sentences that open each section, generated from the figures (Chinese first, like the
seed: "上半年共完成各类会议服务236批，其中…，同比增长…%").

Each sentence is one catalog message with the figures as placeholders, so both languages say
the same thing; a satisfaction rate that did not rise says so plainly.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_decimal
from flask_babel import gettext as _

from ..i18n import html_lang
from ..lists import join_names
from .figures import INCOME, RENTALS, SUPERVISION, SUPPLIERS, VENUES, Figures, Value


def number(value) -> str:
    return format_decimal(value or 0, "#,##0.##")


def yuan(fen) -> str:
    return format_decimal(Decimal(fen or 0) / 100, "#,##0.00")


TEN_THOUSAND_YUAN = 1_000_000  # fen


def amount(fen) -> str:
    """A sum as a sentence says it: in Chinese from 1万元 up in 万元 (186,832.50 yuan is
    18.68万元, as a work report writes it; the tables keep the exact yuan), else in yuan."""
    fen = fen or 0
    if html_lang() == "zh-CN" and abs(fen) >= TEN_THOUSAND_YUAN:
        return _("%(amount)s ten thousand yuan",
                 amount=format_decimal(Decimal(fen) / TEN_THOUSAND_YUAN, "#,##0.00"))
    return _("%(amount)s yuan", amount=yuan(fen))


def percent(value) -> str:
    return "—" if value is None else format_decimal(value, "0.0") + "%"


def shown(value: Value, which: str = "current") -> str:
    """A figure (``current``, ``previous`` or ``year_ago``) as the page and the documents
    show it, with its unit."""
    unit, raw = value.definition.unit, getattr(value, which)
    if unit == "money":
        return _("%(amount)s yuan", amount=yuan(raw))
    if unit == "percent":
        return percent(raw)
    if raw is None:
        return "—"
    if unit == "hours":
        return _("%(hours)s h", hours=format_decimal(raw, "0.0"))
    return number(raw)


def year_on_year(value: Value) -> str:
    """同比增长 / 同比下降 / 与去年同期持平 / 去年同期无可比数据."""
    delta = value.vs_year_ago
    if delta is None:
        return _("there is nothing to compare with in the same period last year")
    if delta > 0:
        return _("up %(percent)s on the same period last year", percent=percent(delta))
    if delta < 0:
        return _("down %(percent)s on the same period last year", percent=percent(-delta))
    return _("the same as in the same period last year")


def _venues(f: Figures, when: str) -> list[str]:
    """Meetings (said plainly when there were none; government sessions only when there were
    any: "其中…重要会议0批" reads as a slip), then the canteen."""
    if not f["meetings_total"].current:
        lines = [_("%(period)s, the conference center served no meetings; %(change)s.",
                   period=when, change=year_on_year(f["meetings_total"]))]
    else:
        lines = [_("%(period)s, the conference center served %(total)s meetings of all kinds, "
                   "%(internal)s of them internal and %(external)s external; %(change)s.",
                   period=when, total=number(f["meetings_total"].current),
                   internal=number(f["meetings_internal"].current),
                   external=number(f["meetings_external"].current),
                   change=year_on_year(f["meetings_total"]))]
    if f["government_sessions"].current:
        lines.append(_("Of them, %(sessions)s were government sessions such as the people's "
                       "congress and the CPPCC.",
                       sessions=number(f["government_sessions"].current)))
    meals, banquets = number(f["meals"].current), number(f["banquet_tables"].current)
    if f["venue_utilisation"].current is None:  # no opening hours: no rate to give ("为—")
        lines.append(_("The canteen served %(meals)s meals and %(banquets)s banquet tables.",
                       meals=meals, banquets=banquets))
    else:
        lines.append(_("The canteen served %(meals)s meals and %(banquets)s banquet tables; "
                       "the venues were in use for %(utilisation)s of their opening hours.",
                       meals=meals, banquets=banquets,
                       utilisation=percent(f["venue_utilisation"].current)))
    return lines


def _rentals(f: Figures, when: str) -> list[str]:
    return [
        _("%(period)s, %(rooms)s rooms with %(area)s m² were let; %(new)s new leases were "
          "signed, %(renewed)s renewed and %(terminated)s ended early.",
          period=when, rooms=number(f["rooms_leased"].current),
          area=number(f["area_leased"].current), new=number(f["new_leases"].current),
          renewed=number(f["renewals"].current), terminated=number(f["terminations"].current)),
        _("Rent due came to %(due)s, of which %(collected)s was collected (%(rate)s); "
          "%(arrears)s is overdue today.",
          due=amount(f["rent_due"].current), collected=amount(f["rent_collected"].current),
          rate=percent(f["collection_rate"].current), arrears=amount(f["arrears"].current)),
    ]


def satisfaction_sentence(f: Figures) -> str:
    sources = f.sources
    if not sources.rounds:
        return _("No satisfaction survey closed in this period.")
    latest, before = sources.rounds[-1], sources.round_before
    rate = percent(latest.rate)
    if latest.rate is None:
        return _("The satisfaction survey “%(round)s” had no valid answers.", round=latest.title)
    if before is None or before.rate is None:
        return _("The satisfaction survey “%(round)s” found %(rate)s satisfied; there is no "
                 "earlier round to compare with.", round=latest.title, rate=rate)
    if latest.rate > before.rate:
        return _("The satisfaction survey “%(round)s” found %(rate)s satisfied, up from "
                 "%(before)s in the round before.", round=latest.title, rate=rate,
                 before=percent(before.rate))
    if latest.rate < before.rate:  # fell: by how much, in percentage points
        points = format_decimal(Decimal(str(before.rate)) - Decimal(str(latest.rate)), "0.0")
        return _("The satisfaction survey “%(round)s” found %(rate)s satisfied, "
                 "%(points)s percentage points down on the %(before)s of the round before: "
                 "satisfaction did not rise.", round=latest.title, rate=rate, points=points,
                 before=percent(before.rate))
    return _("The satisfaction survey “%(round)s” found %(rate)s satisfied: it did not rise "
             "on the %(before)s of the round before.", round=latest.title, rate=rate,
             before=percent(before.rate))


def _supervision(f: Figures, when: str) -> list[str]:
    return [
        _("%(period)s, %(supervisors)s service-quality supervisors were in office and "
          "%(feedback)s pieces of feedback were received; %(response)s had a first response "
          "on time and %(resolution)s were resolved on time.",
          period=when, supervisors=number(f["supervisors"].current),
          feedback=number(f["feedback"].current), response=percent(f["response_sla"].current),
          resolution=percent(f["resolution_sla"].current)),
        satisfaction_sentence(f),
    ]


def _suppliers(f: Figures, when: str) -> list[str]:
    categories = join_names([label for label, _n in f.sources.contracts.by_category])
    return [
        _("%(period)s, %(contracts)s service contracts were in force (%(categories)s); "
          "%(new)s were signed and %(renewed)s renewed, and %(integrity)s integrity agreements "
          "were signed with the contractors.",
          period=when, contracts=number(f["contracts"].current),
          categories=categories or _("none"), new=number(f["contracts_new"].current),
          renewed=number(f["contracts_renewed"].current),
          integrity=number(f["integrity_agreements"].current)),
        _("%(meetings)s joint meetings on service quality were held with the contractors, "
          "agreeing %(opened)s action items; %(verified)s were verified and %(overdue)s are "
          "overdue.", meetings=number(f["joint_meetings"].current),
          opened=number(f["actions_opened"].current),
          verified=number(f["actions_verified"].current),
          overdue=number(f["actions_overdue"].current)),
    ]


def _income(f: Figures, when: str) -> list[str]:
    return [
        _("%(period)s, the income generated came to %(total)s: %(venues)s from the "
          "conference center and canteen and %(rentals)s in rent; %(change)s.",
          period=when, total=amount(f["income_total"].current),
          venues=amount(f["income_venues"].current),
          rentals=amount(f["income_rentals"].current),
          change=year_on_year(f["income_total"])),
    ]


WRITERS = {VENUES: _venues, RENTALS: _rentals, SUPERVISION: _supervision,
           SUPPLIERS: _suppliers, INCOME: _income}


def sentences(f: Figures) -> dict[str, list[str]]:
    """The generated sentences of each section."""
    when = f.period.short_label
    return {section: writer(f, when) for section, writer in WRITERS.items()}
