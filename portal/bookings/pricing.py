"""The one pricing function: a pure computation from what is asked to what it costs.

Used for the live quote while a client fills in the form and, frozen, when staff approve.
Amounts are integer fen (分).

Catering is per day: a line with a ``day`` is served (and charged) once, on that day; a line
without one is served on every day of the booking, so its quantity is per day and it is
charged unit price x quantity x times x the booking's days.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, time

from flask_babel import lazy_gettext as _l

from ..i18n import format_time_24

# The conference center's sessions (场次).
SESSIONS: dict[str, tuple[time, time]] = {
    "morning": (time(8, 30), time(12, 0)),
    "afternoon": (time(13, 30), time(17, 30)),
    "evening": (time(18, 0), time(21, 30)),
    "full_day": (time(8, 30), time(17, 30)),
}
SESSION_LABELS = {
    "morning": _l("Morning"),
    "afternoon": _l("Afternoon"),
    "evening": _l("Evening"),
    "full_day": _l("Full day"),
    "custom": _l("Custom hours"),
}


class RateKind:
    EXTERNAL = "external"
    INTERNAL = "internal"
    FREE = "free"  # internal government meetings the bureau hosts at no charge
    ALL = (EXTERNAL, INTERNAL, FREE)


class CateringKind:
    MEAL = "meal"  # per person per meal
    TEA_BREAK = "tea_break"  # per person per break
    BANQUET = "banquet"  # per table
    ALL = (MEAL, TEA_BREAK, BANQUET)


@dataclass(frozen=True)
class VenueRates:
    half_day_fen: int
    evening_fen: int
    full_day_fen: int


@dataclass(frozen=True)
class SlotRequest:
    venue: str
    day: date
    session: str  # a SESSIONS key or "custom"
    start: time
    end: time
    rates: VenueRates


@dataclass(frozen=True)
class CateringRequest:
    kind: str
    label: str
    unit_price_fen: int
    quantity: int  # people (meals, tea breaks) or tables (banquet)
    times: int = 1  # meals or breaks per person; 1 for a banquet
    day: date | None = None  # the one day it is served on; None: every day of the booking

    @property
    def servings(self) -> int:
        """What is served on each day the line counts: meals or breaks, or banquet tables."""
        return self.quantity * self.times  # a banquet's times is 1


@dataclass(frozen=True)
class QuoteLine:
    """One line of a quote.  A venue line's ``detail`` is its date and hours; a catering line
    carries its figures (fen and counts) and is worded where it is shown, in yuan."""

    kind: str  # "venue" or a CateringKind
    label: str
    detail: str
    amount_fen: int
    unit_price_fen: int = 0
    quantity: int = 0
    times: int = 1  # per person (1 for a banquet)
    days: int = 1  # the days an "every day" line is served on (1 for a dated line)
    day: date | None = None  # a dated line's day

    def as_dict(self) -> dict:
        data = asdict(self)
        data["day"] = self.day.isoformat() if self.day else None
        return data

    @classmethod
    def from_dict(cls, data: dict) -> QuoteLine:
        """A line of a quote frozen as a dict (``Quote.as_dict``)."""
        known = {name: data[name] for name in cls.__dataclass_fields__ if name in data}
        if known.get("day"):
            known["day"] = date.fromisoformat(known["day"])
        return cls(**known)


@dataclass
class Quote:
    rate_kind: str
    lines: list[QuoteLine] = field(default_factory=list)

    @property
    def venue_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines if line.kind == "venue")

    @property
    def total_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines)

    def as_dict(self) -> dict:
        return {"rate_kind": self.rate_kind, "lines": [line.as_dict() for line in self.lines],
                "total_fen": self.total_fen}


def _touches(start: time, end: time, window: tuple[time, time]) -> bool:
    return start < window[1] and window[0] < end


def slot_charge(slot: SlotRequest) -> int:
    """A venue's charge for one slot: by session, or by the sessions custom hours touch."""
    rates = slot.rates
    if slot.session in ("morning", "afternoon"):
        return rates.half_day_fen
    if slot.session == "evening":
        return rates.evening_fen
    if slot.session == "full_day":
        return rates.full_day_fen
    morning = _touches(slot.start, slot.end, SESSIONS["morning"])
    afternoon = _touches(slot.start, slot.end, SESSIONS["afternoon"])
    evening = _touches(slot.start, slot.end, SESSIONS["evening"])
    if morning and afternoon:
        daytime = rates.full_day_fen
    elif morning or afternoon or not evening:
        daytime = rates.half_day_fen  # a lunch-hour booking is charged as a half day
    else:
        daytime = 0
    return daytime + (rates.evening_fen if evening else 0)


def catering_charge(item: CateringRequest, days: int = 1) -> int:
    """A catering line's price: once if it is dated, else once for each of ``days``."""
    per_day = item.unit_price_fen * item.quantity * (1 if item.kind == CateringKind.BANQUET
                                                     else item.times)
    return per_day if item.day is not None else per_day * days


def quote(slots: list[SlotRequest], catering: list[CateringRequest], rate_kind: str) -> Quote:
    """The itemised price of a booking request."""
    if rate_kind not in RateKind.ALL:
        raise ValueError(f"unknown rate kind {rate_kind!r}")
    result = Quote(rate_kind=rate_kind)
    days = len({slot.day for slot in slots}) or 1  # an "every day" line is served on each
    for slot in sorted(slots, key=lambda s: (s.day, s.start, s.venue)):
        amount = 0 if rate_kind == RateKind.FREE else slot_charge(slot)
        detail = f"{slot.day.isoformat()} {format_time_24(slot.start)}-{format_time_24(slot.end)}"
        result.lines.append(QuoteLine("venue", slot.venue, detail, amount))
    for item in catering:
        if item.quantity <= 0 or item.times <= 0:
            continue
        result.lines.append(QuoteLine(
            item.kind, item.label, "", catering_charge(item, days),
            unit_price_fen=item.unit_price_fen, quantity=item.quantity,
            times=1 if item.kind == CateringKind.BANQUET else item.times,
            days=1 if item.day is not None else days, day=item.day))
    return result
