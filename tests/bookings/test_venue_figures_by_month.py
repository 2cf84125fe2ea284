"""The venue figures of a period composed from its months (reports._period_sums): the months'
whole slots (stored once a month has ended) plus the bookings not whole within one month,
equal to a recount done here slot by slot, on a random dataset of bookings of several slots,
slots across midnight at a month's end and custom periods cutting months; and a period still
open sums only its months that have not ended."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from portal.bookings import reports
from portal.bookings.models import Booking, BookingStatus
from portal.database import write_transaction
from portal.extensions import db
from portal.i18n import local_today
from portal.reporting import Period, half_year, month, months_of
from tests.bookings.test_reports import add_booking, add_venue
from tests.conftest import make_user

SH = ZoneInfo("Asia/Shanghai")
S = BookingStatus


def _moment(day: date, hour: float) -> datetime:
    return datetime.combine(day, time(0), tzinfo=SH) + timedelta(hours=hour)


def _recount(period: Period) -> tuple[dict, list[int]]:
    """The figures of ``period`` by their definitions (reports' module docstring), slot by
    slot in Python: per venue and in total (booked seconds, meetings internal, external,
    government sessions, income)."""
    since = reports.check_in_since()
    first, end = period.starts_at(), period.ends_at()
    venues = defaultdict(lambda: [0, set(), set(), set(), 0])
    total = [0, set(), set(), set(), 0]
    bookings = db.session.scalars(sa.select(Booking).where(Booking.status.in_(reports.SERVED))
                                  .options(selectinload(Booking.slots)))
    for booking in bookings:
        held = booking.status == S.COMPLETED or (
            booking.arrived_at is not None or booking.starts_at < since)
        if booking.client_id is None:
            income = 0
        elif booking.status == S.COMPLETED and booking.final_total_fen is not None:
            income = booking.final_total_fen
        else:
            income = (booking.approved_quote or {}).get("total_fen", booking.quote_total_fen)
        for slot in booking.slots:
            inside = int((min(slot.ends_at, end) - max(slot.starts_at, first)).total_seconds())
            if inside <= 0:
                continue
            share = (2 * income * inside + booking.slot_seconds) // (2 * booking.slot_seconds)
            for sums in (venues[slot.venue_id], total):
                sums[0] += inside
                sums[4] += share
                if held:
                    kind = 1 if booking.client_id is None else 2
                    sums[kind].add(booking.id)
                    if booking.category == reports.GOVERNMENT_SESSION:
                        sums[3].add(booking.id)

    def plain(sums):
        return [sums[0], len(sums[1]), len(sums[2]), len(sums[3]), sums[4]]
    return ({venue_id: plain(sums) for venue_id, sums in venues.items()}, plain(total))


def _figures(report) -> tuple[dict, list[int]]:
    def plain(item):
        return [item.booked_seconds, item.internal_meetings, item.external_meetings,
                item.government_sessions, item.income_fen]
    return ({row.venue.id: plain(row) for row in report.rows if row.has_activity},
            plain(report.total))


def _random_bookings(app, venues: list[int], client: int, seed: int) -> list[int]:
    """Bookings from 2025-11 to 2026-02: one slot or several (over days, venues and a
    month's end), some across midnight at a month's end or at a custom period's bound,
    served or not, internal or external, with incomes that do not divide evenly (the last
    venue is left free at the midnights of the custom periods' bounds)."""
    rng = random.Random(seed)
    month_ends = [date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 31)]
    ids, held = [], []
    for _n in range(70):
        day = rng.choice(month_ends) if rng.random() < 0.3 else (
            date(2025, 11, 1) + timedelta(days=rng.randrange(119)))
        slots = []
        for extra in range(rng.choice([1, 1, 1, 2, 3])):
            on = day + timedelta(days=extra * rng.choice([0, 1, 1, 2]))
            start = rng.choice([8, 9.5, 14, 19, 22.5])
            length = rng.choice([1, 2.5, 3, 4]) if start < 22 else rng.choice([2, 3.5])
            slots.append((rng.choice(venues[:-1]), _moment(on, start + extra * 0.01),
                          _moment(on, start + extra * 0.01 + length)))
        status = rng.choice([S.APPROVED, S.COMPLETED, S.COMPLETED, S.CANCELLED, S.NO_SHOW])
        if status in S.ACTIVE:  # its slots hold their venues: none may overlap another's
            clash = any(venue == other and start < other_end and other_start < end
                        for venue, start, end in slots
                        for other, other_start, other_end in held)
            if clash or any(a is not b and a[0] == b[0] and a[1] < b[2] and b[1] < a[2]
                            for a in slots for b in slots):
                continue
            held.extend(slots)
        external = rng.random() < 0.7
        total = rng.randrange(1, 500_000)
        booking_id = add_booking(
            app, slots, status, client if external else None, approved_total=total,
            final_total=total + rng.randrange(3) if status == S.COMPLETED else None)
        if rng.random() < 0.2:
            with app.test_request_context(), write_transaction():
                db.session.get(Booking, booking_id).category = reports.GOVERNMENT_SESSION
        ids.append(booking_id)
    # One-slot bookings across midnight into a custom period's first or last day: whole
    # within a calendar month, not within that period's part of it.
    # And one across midnight at a month's end.
    for day in (date(2025, 11, 15), date(2026, 1, 10), date(2025, 12, 31), date(2026, 2, 1)):
        ids.append(add_booking(app, [(venues[-1], _moment(day, -1.5), _moment(day, 1))],
                               S.COMPLETED, client, approved_total=77_777,
                               final_total=77_777))
    # A booking of several slots over two months and two venues.
    ids.append(add_booking(app, [(venues[-1], _moment(date(2025, 11, 30), 9),
                                  _moment(date(2025, 11, 30), 12)),
                                 (venues[-1], _moment(date(2025, 12, 1), 9),
                                  _moment(date(2025, 12, 1), 11))],
                           S.APPROVED, client, approved_total=100_001))
    return ids


PERIODS = [month(2025, 11), month(2025, 12), month(2026, 1), month(2026, 2),
           half_year(2025, 2), half_year(2026, 1), Period(date(2025, 11, 1), date(2026, 3, 1)),
           Period(date(2025, 11, 15), date(2026, 1, 10)), Period(date(2025, 12, 31),
                                                                 date(2026, 1, 1)),
           Period(date(2026, 1, 31), date(2026, 2, 2))]


def _check(app, periods) -> None:
    with app.test_request_context():
        composed = [_figures(report) for report in reports.venue_reports(periods)]
        db.session.commit()  # as a request ends: the months that have ended stored
        recounted = [_recount(period) for period in periods]
    for period, got, expected in zip(periods, composed, recounted, strict=True):
        assert got == expected, period


def test_composed_from_months_equal_a_recount_slot_by_slot(app):
    venues = [add_venue(app, f"M-{n}", f"会议室{n}") for n in range(3)]
    client = make_user(app, "client").id
    _random_bookings(app, venues, client, seed=14)
    _check(app, PERIODS)  # cold: the months summed and stored
    _check(app, PERIODS)  # warm: read stored
    _check(app, list(reversed(PERIODS[4:])))  # other periods asked together
    # A booking of several slots across a month's end changes: the months recounted.
    with app.test_request_context():
        crossing = next(
            booking for booking in db.session.scalars(
                sa.select(Booking).where(Booking.status == S.APPROVED)
                .options(selectinload(Booking.slots)))
            if len({months_of(slot.starts_at.astimezone(SH).date(),
                              slot.starts_at.astimezone(SH).date() + timedelta(days=1))[0]
                    for slot in booking.slots}) > 1 or len(booking.slots) > 1)
    with app.test_request_context(), write_transaction():
        booking = db.session.get(Booking, crossing.id)
        booking.status = S.COMPLETED
        booking.final_total_fen = 123_457
    _check(app, PERIODS)
    _check(app, PERIODS)


def test_the_dataset_has_what_the_composition_must_handle(app):
    """The random dataset holds served bookings of several slots over two months and
    one-slot bookings across midnight at a month's end (else the test above proves less)."""
    venues = [add_venue(app, f"M-{n}", f"会议室{n}") for n in range(3)]
    _random_bookings(app, venues, make_user(app, "client").id, seed=14)
    with app.test_request_context():
        served = list(db.session.scalars(sa.select(Booking).where(
            Booking.status.in_(reports.SERVED)).options(selectinload(Booking.slots))))

        def months(booking):
            return {(slot.starts_at.astimezone(SH).month, slot.ends_at.astimezone(SH).month)
                    for slot in booking.slots}
        assert any(len(b.slots) > 1 and len({m for pair in months(b) for m in pair}) > 1
                   for b in served)
        assert any(len(b.slots) == 1 and next(iter(months(b)))[0] != next(iter(months(b)))[1]
                   for b in served)


@pytest.fixture
def summed_months(monkeypatch) -> list[list[tuple[date, date]]]:
    """The months each call of ``reports._months_sums`` sums (first, end), in call order."""
    summed = []
    months_sums = reports._months_sums

    def spy(months):
        summed.append([(each.first, each.end) for each in months])
        return months_sums(months)
    monkeypatch.setattr(reports, "_months_sums", spy)
    return summed


def test_an_open_half_year_sums_only_its_months_not_ended(app, summed_months):
    """The half-year of today: its months that have ended are summed once and stored; the
    next report sums only the current month."""
    summed = summed_months
    with app.test_request_context():
        today = local_today()
        this = half_year(today.year, 1 if today.month <= 6 else 2)
        current = month(today.year, today.month)
    for _visit in range(2):
        with app.test_request_context():
            reports.venue_reports([this])
            db.session.commit()
    assert summed[0] == [(each.first, each.end) for each in months_of(this.first, this.end)]
    assert summed[1] == [(current.first, current.end)]


def test_the_periodic_task_stores_the_months_a_change_left_unused(app, summed_months):
    """``store_months`` (the tick's task) sums the months of the last two years that have
    ended once, then only a month whose booking changed; a report after it sums none of
    them."""
    venues = [add_venue(app, f"M-{n}", f"会议室{n}") for n in range(3)]
    _random_bookings(app, venues, make_user(app, "client").id, seed=14)
    with app.test_request_context():
        assert reports.store_months(date(2026, 12, 7)) == reports.STORED_MONTHS
        assert reports.store_months(date(2026, 12, 7)) == 0
    with app.test_request_context(), write_transaction():
        booking = db.session.scalar(sa.select(Booking).where(
            Booking.status == S.APPROVED, Booking.starts_at >= _moment(date(2026, 1, 1), 0),
            Booking.starts_at < _moment(date(2026, 1, 31), 0)).limit(1))
        booking.status = S.COMPLETED
        booking.final_total_fen = 4_321
    summed = summed_months
    summed.clear()  # the sums before the change
    with app.test_request_context():
        assert reports.store_months(date(2026, 12, 7)) == 1
    assert summed == [[(date(2026, 1, 1), date(2026, 2, 1))]]
    _check(app, PERIODS[:7])  # whole months, all ended and stored: none summed
    assert len(summed) == 1


def test_an_income_of_millions_and_an_empty_period(app):
    """A booking of several slots worth ¥15 million (its share computed in 64-bit integers:
    PostgreSQL's 32-bit arithmetic overflowed), and an empty period (a day's instant, as a
    one-day custom period's "a year before" can be) inside a slot across midnight: no
    figure, not a meeting."""
    venue = add_venue(app, "K-1", "甲")
    client = make_user(app, "client").id
    add_booking(app, [(venue, _moment(date(2026, 1, 14), 9), _moment(date(2026, 1, 14), 11)),
                      (venue, _moment(date(2026, 1, 20), 9), _moment(date(2026, 1, 20), 10))],
                S.COMPLETED, client, approved_total=1_500_000_000, final_total=1_500_000_000)
    add_booking(app, [(venue, _moment(date(2026, 1, 14), 23), _moment(date(2026, 1, 15), 1)),
                      (venue, _moment(date(2026, 1, 21), 9), _moment(date(2026, 1, 21), 10))],
                S.COMPLETED, client, approved_total=100_001, final_total=100_001)
    _check(app, [month(2026, 1), Period(date(2026, 1, 15), date(2026, 1, 15))])
    with app.test_request_context():
        empty = reports.venue_reports([Period(date(2026, 1, 15), date(2026, 1, 15))])[0]
    assert _figures(empty) == ({}, [0, 0, 0, 0, 0])
