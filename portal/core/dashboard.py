"""The home page's parts, each a registry that modules add to: the work list ("My work":
what waits for this user, with counts and the oldest item), the large home actions, and the
figure tiles.

Each provider must run a bounded number of queries whatever the data size.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from babel.dates import format_skeleton
from flask_babel import get_locale, ngettext
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..i18n import local_today, to_local


@dataclass
class Tile:
    title: str
    value: str
    url: str
    tone: str = "neutral"  # neutral, good, warning, danger
    note: str = ""


_providers: list[Callable] = []


def tile_provider(func: Callable) -> Callable:
    _providers.append(func)
    return func


def tiles_for(user) -> list[Tile]:
    tiles: list[Tile] = []
    for provider in _providers:
        tiles.extend(provider(user) or [])
    return tiles


@dataclass
class HomeAction:
    """A large button leading a user's home page (what that role comes to do most)."""

    label: str
    url: str
    note: str = ""


_action_providers: list[Callable] = []


def home_action_provider(func: Callable) -> Callable:
    _action_providers.append(func)
    return func


def home_actions_for(user) -> list[HomeAction]:
    actions: list[HomeAction] = []
    for provider in _action_providers:
        actions.extend(provider(user) or [])
    return actions


# --- "My work": what waits for this person, leading their home page -------------------------


@dataclass
class WorkItem:
    """One line of a user's work list: how many records wait, the oldest or most urgent one
    (``lead``), and the list page filtered to exactly those records (``url``)."""

    label: str
    count: int
    url: str
    lead: str = ""
    tone: str = "neutral"  # neutral, warning, danger
    module: str = ""


_work_providers: list[Callable] = []


def work_provider(func: Callable) -> Callable:
    """Register ``func(user) -> list[WorkItem]``; one or two queries whatever the data size."""
    _work_providers.append(func)
    return func


def work_for(user) -> list[WorkItem]:
    """Every module's lines for ``user``, those with nothing waiting left out."""
    items: list[WorkItem] = []
    for provider in _work_providers:
        items.extend(item for item in provider(user) or [] if item.count > 0)
    return items


def count_and_first(stmt, *order_by):
    """How many rows ``stmt`` selects and the first of them in ``order_by`` order, in one
    query (a window count beside the first row); ``(0, None)`` when there are none.

    ``stmt`` selects plain columns (not entities), so the row carries what the line shows.
    """
    row = db.session.execute(
        stmt.add_columns(sa.func.count().over().label("total")).order_by(*order_by).limit(1)
    ).first()
    if row is None:
        return 0, None
    return int(row.total), row


def excerpt(text: str, length: int = 24) -> str:
    """The first ``length`` characters of ``text`` on one line, "…" when cut."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[:length].rstrip() + "…"


def days_ago(when: datetime) -> str:
    """"today", "3 days ago": how long ago (in local calendar days) ``when`` was."""
    days = (local_today() - to_local(when).date()).days
    if days <= 0:
        return str(_l("today"))
    return ngettext("%(num)d day ago", "%(num)d days ago", days)


def day_label(day: date) -> str:
    """A near date the way people say it: today, tomorrow, yesterday, else "Dec 8"."""
    offset = (day - local_today()).days
    if offset == 0:
        return str(_l("today"))
    if offset == 1:
        return str(_l("tomorrow"))
    if offset == -1:
        return str(_l("yesterday"))
    return format_skeleton("MMMd", day, locale=get_locale())
