"""Feedback by place: the matrix of buildings × services for a period, a room's own
history, and the queue's filters by building, room and submission date.

* :func:`matrix` counts the feedback *submitted* in a :class:`portal.reporting.Period` per
  building (``feedback.building_id``; a row for "no building given") and service, with row and
  column totals, in ONE aggregate query (GROUP BY building, category) plus two look-ups (the
  buildings, the services): three queries whatever the data size.  A cell *stands out* when
  its building has the most feedback of that service among the buildings (ties all marked)
  and at least :data:`STANDOUT_MIN` items: a single complaint is no pattern.
* :class:`PlaceFilter` reads ``building_id`` (an id, or ``none`` for items without a building),
  ``room_id`` (only a room of the chosen building counts), ``since`` and ``until`` (local days,
  both included) from the query string and narrows any feedback statement; the matrix's cells
  link to the queue with exactly these values, so the queue lists exactly the counted items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from ..catalogue.models import ServiceCategory
from ..extensions import db
from ..i18n import local_zone
from ..rentals.models import Building, Room
from ..reporting import FIRST_YEAR, LAST_YEAR
from .models import Feedback, FeedbackStatus

NO_BUILDING = "none"  # the ?building_id= of the items that name no building
STANDOUT_MIN = 2


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=local_zone())


def _day(text: str | None) -> date | None:
    """A yyyy-mm-dd day of the years reports know; None for anything else."""
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


# --- the queue's filters -------------------------------------------------------------------


@dataclass
class PlaceFilter:
    """The building, room and date range asked for (each empty when not asked for)."""

    building: str = ""  # "" (any), NO_BUILDING, or a building id as text
    room_id: int | None = None
    since: date | None = None
    until: date | None = None  # included
    rooms: list = field(default_factory=list)  # (id, label) of the chosen building's rooms

    @classmethod
    def from_args(cls, args) -> PlaceFilter:
        """From a query string; a room of another building (the building was changed after
        the room was picked) is dropped, and so are unknown values."""
        building = (args.get("building_id") or "").strip()
        if building != NO_BUILDING and not building.isdigit():
            building = ""
        chosen = cls(building=building, since=_day(args.get("since")),
                     until=_day(args.get("until")))
        if building.isdigit():
            chosen.rooms = room_choices(int(building))
            room_id = args.get("room_id", type=int)
            if room_id in {rid for rid, _label in chosen.rooms}:
                chosen.room_id = room_id
        return chosen

    @property
    def building_id(self) -> int | None:
        return int(self.building) if self.building.isdigit() else None

    def apply(self, stmt):
        """``stmt`` (a select of Feedback) narrowed to the place and the dates."""
        if self.building == NO_BUILDING:
            stmt = stmt.where(Feedback.building_id.is_(None))
        elif self.building_id is not None:
            stmt = stmt.where(Feedback.building_id == self.building_id)
        if self.room_id is not None:
            stmt = stmt.where(Feedback.room_id == self.room_id)
        if self.since is not None:
            stmt = stmt.where(Feedback.submitted_at >= _day_start(self.since))
        if self.until is not None:
            stmt = stmt.where(Feedback.submitted_at < _day_start(self.until + timedelta(days=1)))
        return stmt

    def as_dict(self) -> dict:
        """What the filter form shows."""
        return {"building_id": self.building_id or self.building, "room_id": self.room_id,
                "since": self.since.isoformat() if self.since else "",
                "until": self.until.isoformat() if self.until else ""}


def filter_context(place: PlaceFilter) -> dict:
    """What the filter form's place and date fields need (one query, two with a building)."""
    return {"place": place.as_dict(), "buildings": building_choices(), "rooms": place.rooms,
            "NO_BUILDING": NO_BUILDING}


def building_choices() -> list[tuple[int, str]]:
    return [tuple(row) for row in db.session.execute(
        sa.select(Building.id, Building.name).order_by(Building.name))]


def room_choices(building_id: int) -> list[tuple[int, str]]:
    """The rooms of one building, for a filter (a building has tens of rooms, not thousands;
    the submit form's picker has the same bound)."""
    rows = db.session.execute(sa.select(Room.id, Room.code, Room.floor)
                              .where(Room.building_id == building_id)
                              .order_by(Room.code).limit(2000))
    return [(rid, _("%(name)s (%(detail)s)", name=code, detail=floor) if floor else code)
            for rid, code, floor in rows]


# --- the matrix ----------------------------------------------------------------------------


@dataclass
class Matrix:
    period: object  # a portal.reporting.Period
    categories: list  # ServiceCategory, in the catalogue's order
    rows: list  # (key, building name or None): key a building id, or NO_BUILDING (last)
    counts: dict  # {(row key, category id): n}, non-zero cells only
    standouts: set  # {(building id, category id)}

    def count(self, key, category_id) -> int:
        return self.counts.get((key, category_id), 0)

    def row_total(self, key) -> int:
        return sum(n for (row, _c), n in self.counts.items() if row == key)

    def column_total(self, category_id) -> int:
        return sum(n for (_row, c), n in self.counts.items() if c == category_id)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def queue_args(self, key=None, category_id=None) -> dict:
        """The queue's query string listing a cell's items (``key`` None: every building;
        ``category_id`` None: every service), in any state, submitted in the period."""
        args = {"status": "all", "since": self.period.first.isoformat(),
                "until": (self.period.end - timedelta(days=1)).isoformat()}
        if key is not None:
            args["building_id"] = key
        if category_id is not None:
            args["category_id"] = category_id
        return args


def matrix(period) -> Matrix:
    """The counts of the feedback submitted in ``period`` per building and service (three
    queries: the aggregate, the buildings, the services)."""
    found = db.session.execute(
        sa.select(Feedback.building_id, Feedback.category_id, sa.func.count(Feedback.id))
        .where(Feedback.submitted_at >= period.starts_at(),
               Feedback.submitted_at < period.ends_at(), Feedback.status != FeedbackStatus.SPAM)
        .group_by(Feedback.building_id, Feedback.category_id)).all()
    counts = {(NO_BUILDING if building_id is None else building_id, category_id): int(n)
              for building_id, category_id, n in found}
    used = {category_id for _row, category_id in counts}
    categories = db.session.scalars(
        sa.select(ServiceCategory).where(sa.or_(ServiceCategory.active.is_(True),
                                                ServiceCategory.id.in_(used)))
        .order_by(ServiceCategory.sort_order, ServiceCategory.id)).all()
    rows = [*building_choices(), (NO_BUILDING, None)]
    return Matrix(period, categories, rows, counts, _standouts(counts))


def _standouts(counts: dict) -> set:
    """Per service, the building(s) with the most feedback, when at least STANDOUT_MIN."""
    best: dict = {}
    for (key, category_id), n in counts.items():
        if key != NO_BUILDING and n >= STANDOUT_MIN:
            best[category_id] = max(best.get(category_id, 0), n)
    return {(key, category_id) for (key, category_id), n in counts.items()
            if key != NO_BUILDING and n == best.get(category_id)}


# --- a room's history ----------------------------------------------------------------------


def room_counts(room_id: int) -> list[tuple[ServiceCategory, int]]:
    """How many items about the room per service, most first (two queries)."""
    rows = db.session.execute(
        sa.select(Feedback.category_id, sa.func.count(Feedback.id))
        .where(Feedback.room_id == room_id, Feedback.status != FeedbackStatus.SPAM)
        .group_by(Feedback.category_id)).all()
    found = dict(rows)
    if not found:
        return []
    categories = db.session.scalars(sa.select(ServiceCategory)
                                    .where(ServiceCategory.id.in_(list(found)))).all()
    return sorted(((c, int(found[c.id])) for c in categories),
                  key=lambda pair: (-pair[1], pair[0].sort_order, pair[0].id))
