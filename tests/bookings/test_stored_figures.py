"""The venue figures of closed periods, stored (portal/stored_figures.py, issue 17 item 2):
equal to a live recount on bench-like data and after each kind of write that touches the
period (which makes the next report sum it afresh), still used after a write to another
month, never stored for a period that has not ended, and the work report's statements
bounded.

Each computation ends with ``db.session.commit()``, as a request ends: what it stored is
kept (the tests' session would otherwise roll its savepoint back on SQLite)."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from portal import stored_figures
from portal.auth.models import User
from portal.bookings import services
from portal.bookings.models import Booking, BookingCatering, Venue
from portal.bookings.reports import VENUE_FIGURES, venue_reports
from portal.database import write_transaction
from portal.extensions import db
from portal.i18n import local_today
from portal.reporting import Period, half_year, month, months_of
from portal.stored_figures import StoredFigure
from tests.bookings.factories import make_catering, make_venue
from tests.conftest import make_user
from tests.helpers import figures_request


def plain(report) -> tuple:
    """A report as plain values (its venues by id)."""
    def figures(item):
        return (item.open_seconds, item.booked_seconds, item.internal_meetings,
                item.external_meetings, item.government_sessions, item.income_fen)
    return (report.period, [(row.venue.id, *figures(row)) for row in report.rows],
            figures(report.total), report.total_income_fen,
            [(item.kind, item.servings, item.amount_fen) for item in report.catering])


def _month_of(day: date) -> Period:
    return month(day.year, day.month)


@pytest.fixture
def reports_of(app, count_queries):
    """``reports_of(periods)``: (the reports as plain values, whether the served slots were
    summed, the statements sent, not counting the tests' savepoints); ``live=True``: a
    recount with nothing stored read or written."""
    def run(periods, live=False, **kwargs):
        with figures_request(app, live), count_queries() as queries:
            reports = [plain(report) for report in venue_reports(periods, **kwargs)]
        sent = [q for q in queries if not q.startswith(("SAVEPOINT", "RELEASE"))]
        return reports, any("venue_slot" in q for q in sent), sent
    return run


def _stored() -> list[tuple]:
    return db.session.execute(sa.select(StoredFigure.first_day, StoredFigure.end_day)
                              .order_by(StoredFigure.first_day, StoredFigure.end_day)).all()


# --- bench-like data ---------------------------------------------------------------------------


def test_stored_equal_a_live_recount_on_bench_like_data(app, reports_of):
    """The bench's generator at a small size (two venues, two years of bookings with
    catering, served and not): every closed period's stored figures equal a live recount,
    and the work report reads them without summing a slot."""
    from portal.bookings.bench import seed
    from portal.workreport import periods as report_periods
    from portal.workreport.figures import compute

    with app.test_request_context():
        seed(venues=2, bookings=3800, clients=4, echo=lambda *args, **kwargs: None)
        today = local_today()
    this = half_year(today.year, 1 if today.month <= 6 else 2)
    halves = [this, this.previous(), this.previous().previous(),
              this.previous().previous().previous()]
    months = []
    day = halves[-1].first
    while day < this.end:
        months.append(_month_of(day))
        day = months[-1].end
    asked = halves + months + [Period(halves[2].first, this.first)]
    cold, summed, _sent = reports_of(asked, catering=len(halves))
    assert summed
    with app.test_request_context():
        # Every month (or part of one) of the periods asked that has ended, once; the
        # current month never.
        closed = {(m.first, m.end) for p in asked for m in months_of(p.first, p.end)
                  if m.end <= today}
        assert set(_stored()) == closed
        assert len(closed) == len(months) - 1
    warm, summed, _sent = reports_of(asked, catering=len(halves))
    live, _summed, _sent = reports_of(asked, live=True, catering=len(halves))
    assert warm == cold == live
    assert summed  # the open half-year and month: summed live
    assert sum(report[2][1] for report in live) > 0 and any(
        servings for report in live[:len(halves)] for _kind, servings, _fen in report[4])

    # The work report of the last closed half-year: stored figures equal to a live
    # recount, every one of its periods read without summing a slot.
    closed_half = report_periods.half(this.previous().first.year, this.previous().half)

    def values(figures):
        return ({key: (value.current, value.previous, value.year_ago)
                 for key, value in figures.values.items()}, figures.sources.income_months)

    with app.test_request_context():
        first = values(compute(closed_half))
        db.session.commit()
    app.config["STORED_FIGURES"] = False
    try:
        with app.test_request_context():
            recount = values(compute(closed_half))
    finally:
        app.config["STORED_FIGURES"] = True
    assert first == recount


def test_the_work_report_reads_closed_periods_without_summing(app, count_queries):
    """compute() of a closed half-year: the first run sums and stores (the venue, feedback,
    rent and lease figures: an upsert each), the next sums no slot, counts no feedback and
    sums no rent or lease (the half-year, the one before and the one a year before have all
    ended), in about as many statements as without storing."""
    from portal.workreport import periods as report_periods
    from portal.workreport.figures import compute

    with app.test_request_context():
        today = local_today()
    closed = report_periods.half(today.year - 1, 2)
    runs = []
    for stored in (False, True, True):
        with figures_request(app, live=not stored), count_queries() as queries:
            compute(closed)
        sent = [q for q in queries if not q.startswith(("SAVEPOINT", "RELEASE"))]
        runs.append((len(sent), any("venue_slot" in q for q in sent),
                     sum(q.startswith("INSERT INTO stored_figure") for q in sent),
                     sum("FROM feedback" in q for q in sent),
                     # the rent of the months and the leases of the half-years
                     sum("AS kind, rent_period.due_on" in q or "lease.predecessor_id" in q
                         for q in sent)))
    live, cold, warm = runs
    # Cold: + the tokens, stored rows and upsert of each of the four sources (venues,
    # feedback, rent, leases). Warm: their tokens and stored rows instead of the sums (the
    # rent's two for its one sum: one more at most, fewer where the feedback's count runs
    # in several statements).
    assert cold[0] == live[0] + 12 and cold[1:3] == (True, 4)
    assert warm[0] <= live[0] + 1 and warm[1:3] == (False, 0)
    # The three half-years have ended: no feedback counted, no rent summed, no lease counted.
    assert live[3] > 0 and warm[3] == 0
    assert live[4] == 2 and warm[4] == 0


# --- writes that touch a stored period -------------------------------------------------------


@pytest.fixture
def booked(app):
    """Two months in the future, treated as closed (``local_today`` of the stored figures
    moved past them): an approved booking with catering in the first (and a requested one),
    an approved one in the second."""
    hall = make_venue(app, name="大礼堂")
    room = make_venue(app, name="第一会议室")
    banquet = make_catering(app)
    client = make_user(app, "client")
    staff = make_user(app, "staff")
    with app.test_request_context():
        today = local_today()
    first = _month_of(date(today.year, today.month, 1) + timedelta(days=45))
    second = _month_of(first.end + timedelta(days=3))
    days = {"a": first.first + timedelta(days=3), "b": first.first + timedelta(days=10),
            "c": second.first + timedelta(days=5)}

    def request(day, venue, catering=()):
        start, end = services.pricing.SESSIONS["morning"]
        with app.test_request_context():
            return services.request_booking(db.session.get(User, client.id),
                                            services.BookingInput(
                title="测试会议", headcount=40, layout="theatre",
                slots=[services.SlotInput(venue, day, "morning", start, end)],
                catering=list(catering))).id

    served = request(days["a"], hall, [services.CateringInput(banquet, 4)])
    waiting = request(days["b"], hall)
    later = request(days["c"], room)
    with app.test_request_context():
        for booking_id in (served, later):
            services.transition(db.session.get(Booking, booking_id), "approve",
                                db.session.get(User, staff.id))
    return {"first": first, "second": second, "days": days, "hall": hall, "room": room,
            "served": served, "waiting": waiting, "later": later, "staff": staff.id}


@pytest.fixture
def closed_after(monkeypatch):
    def close(period: Period):
        monkeypatch.setattr(stored_figures, "local_today", lambda: period.end)
    return close


def _approve(app, booked):
    with app.test_request_context():
        services.transition(db.session.get(Booking, booked["waiting"]), "approve",
                            db.session.get(User, booked["staff"]))


def _cancel(app, booked):
    with app.test_request_context():
        services.transition(db.session.get(Booking, booked["served"]), "cancel",
                            db.session.get(User, booked["staff"]), reason="改期")


def _move(app, booked):
    """Staff move the served booking into the second month (another day, the same times)."""
    with app.test_request_context():
        booking = db.session.get(Booking, booked["served"])
        data = services.booking_input(booking)
        slot = data.slots[0]
        data.slots = [services.SlotInput(slot.venue_id, booked["days"]["c"] + timedelta(days=1),
                                         slot.session, slot.start, slot.end)]
        services.change_booking(db.session.get(User, booked["staff"]), booking, data)


def _catering(app, booked):
    """A catering line of the served booking changes (its key function, alone)."""
    with app.test_request_context(), write_transaction():
        line = db.session.scalar(sa.select(BookingCatering).where(
            BookingCatering.booking_id == booked["served"]))
        line.quantity = 9


def _opening_hours(app, booked):
    with app.test_request_context(), write_transaction():
        db.session.get(Venue, booked["hall"]).closes_at = time(20)


def _bulk(app, booked):
    """A bulk UPDATE (no flush, no rows known; bookings themselves are audited, so never
    updated in bulk): the served booking's catering doubled."""
    with app.test_request_context(), write_transaction():
        db.session.execute(sa.update(BookingCatering).where(
            BookingCatering.booking_id == booked["served"]).values(
            quantity=BookingCatering.quantity * 2))


@pytest.mark.parametrize("write", [_approve, _cancel, _move, _catering, _opening_hours, _bulk])
def test_a_write_to_a_stored_period_makes_it_summed_afresh(app, booked, closed_after,
                                                           reports_of, write):
    first, second = booked["first"], booked["second"]
    both = Period(first.first, second.end)
    closed_after(second)
    asked = [first, second, both]
    before, summed, _sent = reports_of(asked)
    assert summed
    again, summed, _sent = reports_of(asked)
    assert again == before and not summed  # stored, and used
    write(app, booked)
    after, summed, sent = reports_of(asked)
    assert summed and sum(q.startswith("INSERT INTO stored_figure") for q in sent) == 1
    live, _summed, _sent = reports_of(asked, live=True)
    assert after == live
    if write is not _opening_hours:  # the figures themselves changed (not only open hours)
        assert after[0][1:] != before[0][1:]
    final, summed, _sent = reports_of(asked)
    assert final == live and not summed  # stored again


def test_a_write_to_another_month_leaves_the_stored_figures_used(app, booked, closed_after,
                                                                 reports_of):
    first = booked["first"]
    closed_after(booked["second"])
    before, summed, cold = reports_of([first])
    assert summed
    with app.test_request_context():  # cancelled: a booking of the second month only
        services.transition(db.session.get(Booking, booked["later"]), "cancel",
                            db.session.get(User, booked["staff"]), reason="取消")
    after, summed, warm = reports_of([first])
    assert after == before and not summed and len(warm) < len(cold)
    assert after == reports_of([first], live=True)[0]


def test_a_period_not_ended_is_never_stored(app, booked, closed_after, reports_of):
    first, second = booked["first"], booked["second"]
    closed_after(first)  # today: the first day of the month after ``first``
    reports, summed, sent = reports_of([first, second, Period(first.first, second.end)])
    assert summed
    with app.test_request_context():
        assert _stored() == [(first.first, first.end)]
    # Periods none of whose months has ended: not a statement more than before storing.
    again, summed, sent = reports_of([second, Period(second.first + timedelta(days=3),
                                                     second.end)])
    assert summed and not any("stored_figure" in q or "data_version" in q for q in sent)
    with app.test_request_context():
        assert _stored() == [(first.first, first.end)]
    assert reports == reports_of([first, second, Period(first.first, second.end)],
                                 live=True)[0]


def test_a_write_transaction_that_changed_bookings_reads_nothing_stored(app, booked,
                                                                        closed_after):
    """Within a transaction that changed bookings (their tokens are replaced only at its
    commit) a closed period is summed live, and nothing is stored with it."""
    first = booked["first"]
    closed_after(first)
    with app.test_request_context():
        venue_reports([first])
        db.session.commit()
    with app.test_request_context(), write_transaction():
        db.session.get(Booking, booked["served"]).arrived_at = \
            db.session.get(Booking, booked["served"]).starts_at
        db.session.get(Booking, booked["served"]).arrived_headcount = 30
        inside = plain(venue_reports([first])[0])
        assert inside[2][3] == 1  # the external meeting now served, seen by its transaction
        stored = db.session.scalar(sa.select(StoredFigure.result))
        assert stored["total"][2] == 0  # the stored row untouched (served: none then)
    assert VENUE_FIGURES.name == "bookings.venue_figures"
