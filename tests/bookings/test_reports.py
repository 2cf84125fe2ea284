"""Venue reports: the figures on a hand-built dataset, who may see them, exports, query count.

The dataset is in July 2025 (in the past, so the bookings are inserted as models: the service
refuses past dates). Times are local (Asia/Shanghai).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from portal.bookings import reports
from portal.bookings.models import Blackout, Booking, BookingStatus, Venue, VenueSlot
from portal.database import write_transaction
from portal.extensions import db
from portal.reporting import Period, current_month, parse_period
from tests.conftest import make_user

SH = ZoneInfo("Asia/Shanghai")
S = BookingStatus


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=SH)


JULY = date(2025, 7, 1)


def add_venue(app, code, name, opens=time(8), closes=time(22), active=True) -> int:
    with app.test_request_context(), write_transaction():
        venue = Venue(code=code, name=name, kind="hall", building="会议中心", opens_at=opens,
                      closes_at=closes, active=active)
        db.session.add(venue)
        db.session.flush()
        return venue.id


def add_booking(app, slots, status, client_id=None, approved_total=None, final_total=None,
                quote_total=0) -> int:
    """A booking with slots [(venue_id, starts_at, ends_at)], as the lifecycle leaves it."""
    with app.test_request_context(), write_transaction():
        booking = Booking(
            client_id=client_id, department="" if client_id else "区政府办公室",
            status=status, rate_kind="external" if client_id else "free", title="会议",
            headcount=20, layout="theatre", starts_at=min(start for _, start, _ in slots),
            quote_total_fen=quote_total, final_total_fen=final_total,
            approved_quote=None if approved_total is None else {
                "rate_kind": "external", "lines": [], "total_fen": approved_total})
        for venue_id, start, end in slots:
            booking.slots.append(VenueSlot(
                venue_id=venue_id, session="custom", starts_at=start, ends_at=end,
                blocked_from=start, blocked_until=end, active=status in S.ACTIVE))
        booking.count_slot_seconds()
        db.session.add(booking)
        db.session.flush()
        return booking.id


@pytest.fixture
def dataset(app):
    """Two venues (and a closed one) and bookings in, around and out of July 2025."""
    hall = add_venue(app, "R-A", "大礼堂")  # 14 open hours a day
    room = add_venue(app, "R-B", "第一会议室", closes=time(18))  # 10 open hours a day
    add_venue(app, "R-C", "旧会议室", active=False)  # closed, nothing booked: not listed
    client = make_user(app, "client").id
    d = date
    # Held, with a final bill above the approved price: 3 h, ¥3,500 to the hall.
    add_booking(app, [(hall, at(d(2025, 7, 10), 9), at(d(2025, 7, 10), 12))], S.COMPLETED,
                client, approved_total=300_000, final_total=350_000)
    # An internal department meeting, free: 4 h.
    add_booking(app, [(hall, at(d(2025, 7, 15), 14), at(d(2025, 7, 15), 18))], S.APPROVED,
                approved_total=0)
    # Over the month boundary, 22:00-01:00: 1 of its 3 hours and a third of ¥900 in July.
    add_booking(app, [(room, at(d(2025, 6, 30), 22), at(d(2025, 7, 1), 1))], S.APPROVED,
                client, approved_total=90_000)
    # Cancelled, requested, no-show: not served, never counted.
    add_booking(app, [(room, at(d(2025, 7, 20), 9), at(d(2025, 7, 20), 12))], S.CANCELLED,
                client, quote_total=100_000)
    add_booking(app, [(room, at(d(2025, 7, 28), 9), at(d(2025, 7, 28), 12))], S.REQUESTED,
                client, quote_total=50_000)
    add_booking(app, [(hall, at(d(2025, 7, 29), 9), at(d(2025, 7, 29), 12))], S.NO_SHOW,
                client, approved_total=40_000)
    # August: in the half-year, not in July.
    add_booking(app, [(hall, at(d(2025, 8, 5), 9), at(d(2025, 8, 5), 11))], S.COMPLETED,
                client, approved_total=50_000, final_total=50_000)
    # One internal meeting in two venues: once per venue, once in the total.
    add_booking(app, [(hall, at(d(2025, 7, 22), 8, 30), at(d(2025, 7, 22), 12)),
                      (room, at(d(2025, 7, 22), 13, 30), at(d(2025, 7, 22), 17, 30))],
                S.COMPLETED, approved_total=0, final_total=0)
    # An external booking of both venues, 3.5 h each: ¥1,400 shared ¥700 / ¥700.
    add_booking(app, [(hall, at(d(2025, 7, 25), 8, 30), at(d(2025, 7, 25), 12)),
                      (room, at(d(2025, 7, 25), 8, 30), at(d(2025, 7, 25), 12))],
                S.APPROVED, client, approved_total=140_000)
    # A blackout is not a booking.
    with app.test_request_context(), write_transaction():
        blackout = Blackout(venue_id=hall, starts_at=at(d(2025, 7, 1), 0),
                            ends_at=at(d(2025, 7, 2), 0), reason="区人代会")
        db.session.add(blackout)
        db.session.add(VenueSlot(venue_id=hall, blackout=blackout, starts_at=blackout.starts_at,
                                 ends_at=blackout.ends_at, blocked_from=blackout.starts_at,
                                 blocked_until=blackout.ends_at))
    return {"hall": hall, "room": room, "client": client}


def _report(app, key):
    with app.test_request_context():
        report = reports.venue_report(parse_period(key))
        return report, {item.venue.code: item for item in report.rows}


def test_july_figures(app, dataset):
    report, rows = _report(app, "2025-07")
    assert list(rows) == ["R-A", "R-B"]  # the closed venue with nothing booked is left out
    hall, room = rows["R-A"], rows["R-B"]
    assert hall.open_hours == 14 * 31 and room.open_hours == 10 * 31
    assert hall.booked_hours == Decimal("14")  # 3 + 4 + 3.5 + 3.5
    assert room.booked_hours == Decimal("8.5")  # 1 (clipped) + 4 + 3.5
    assert hall.utilisation == Decimal(14) / Decimal(434)
    assert (hall.internal_meetings, hall.external_meetings) == (2, 2)
    assert (room.internal_meetings, room.external_meetings) == (1, 2)
    assert hall.income_fen == 350_000 + 70_000  # the final bill, and half of the shared one
    assert room.income_fen == 30_000 + 70_000
    total = report.total
    assert total.open_hours == 744 and total.booked_hours == Decimal("22.5")
    assert total.utilisation == Decimal("22.5") / 744
    # Distinct meetings: the two-venue bookings count once.
    assert (total.internal_meetings, total.external_meetings) == (2, 3)
    assert report.total_income_fen == 520_000


def test_june_gets_the_rest_of_the_straddling_booking(app, dataset):
    _report_june, rows = _report(app, "2025-06")
    room = rows["R-B"]
    assert room.booked_hours == 2 and room.income_fen == 60_000
    assert room.external_meetings == 1
    assert rows["R-A"].booked_hours == 0 and rows["R-A"].open_hours == 14 * 30


def test_half_year_figures(app, dataset):
    report, rows = _report(app, "2025-H2")
    assert report.period.days == 184
    hall, room = rows["R-A"], rows["R-B"]
    assert hall.open_hours == 14 * 184
    assert hall.booked_hours == 16 and hall.external_meetings == 3
    assert hall.income_fen == 470_000
    assert room.booked_hours == Decimal("8.5") and room.income_fen == 100_000
    assert (report.total.internal_meetings, report.total.external_meetings) == (2, 4)
    assert report.total_income_fen == 570_000
    first_half, _rows = _report(app, "2025-H1")
    assert first_half.total_income_fen == 60_000


def test_income_is_split_to_the_fen_and_adds_up(app):
    venues = [add_venue(app, f"R-{n}", f"会议室{n}") for n in range(3)]
    client = make_user(app, "client").id
    day = date(2025, 7, 8)
    add_booking(app, [(venue, at(day, 9), at(day, 10)) for venue in venues], S.APPROVED,
                client, approved_total=100)  # ¥1.00 over three venues
    report, rows = _report(app, "2025-07")
    assert sorted(item.income_fen for item in rows.values()) == [33, 33, 33]
    assert report.total_income_fen == 99  # the column adds up; the rounding is visible


@pytest.mark.parametrize(("text", "first", "end", "key"), [
    ("2025-07", date(2025, 7, 1), date(2025, 8, 1), "2025-07"),
    ("2025-12", date(2025, 12, 1), date(2026, 1, 1), "2025-12"),
    ("2026-H1", date(2026, 1, 1), date(2026, 7, 1), "2026-H1"),
    (" 2026-h2 ", date(2026, 7, 1), date(2027, 1, 1), "2026-H2"),
])
def test_periods(text, first, end, key):
    period = parse_period(text)
    assert (period.first, period.end, period.key) == (first, end, key)


@pytest.mark.parametrize("text", ["", "2025-13", "2025-7", "2025-H3", "1999-01", "x", "2025"])
def test_bad_periods(text):
    assert parse_period(text) is None


def test_period_navigation():
    assert parse_period("2025-12").following().key == "2026-01"
    assert parse_period("2025-01").previous().key == "2024-12"
    assert parse_period("2025-H2").following().key == "2026-H1"
    assert parse_period("2025-H1").previous().key == "2024-H2"
    assert parse_period("2100-12").following() is None


# --- through HTTP --------------------------------------------------------------------------------


def _row(html: str, name: str) -> str:
    match = re.search(r"<tr>\s*<th scope=\"row\">(?:(?!</tr>).)*?" + name + r".*?</tr>", html,
                      re.S)
    assert match, f"no row for {name}"
    return match.group(0)


def test_access(app, client, login_as, dataset):
    url = "/venues/reports?month=2025-07"
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert client.get("/venues/reports/export").status_code == 302
    for role in ("client", "supervisor"):
        other = login_as(role)
        assert other.get(url).status_code == 403
        assert other.get("/venues/reports/export?format=xlsx").status_code == 403
        assert 'href="/venues/reports"' not in other.get("/").get_data(as_text=True)
    for role in ("staff", "admin"):
        assert login_as(role).get(url).status_code == 200
    staff = login_as("staff")
    assert 'href="/venues/reports"' in staff.get("/").get_data(as_text=True)  # in the menu


def test_page_shows_the_figures(app, login_as, dataset):
    staff = login_as("staff")
    html = staff.get("/venues/reports?month=2025-07&lang=en").get_data(as_text=True)
    assert "July 2025" in html
    hall = _row(html, "大礼堂")
    assert "434.0" in hall and "14.0" in hall and "3.2%" in hall and "4,200.00" in hall
    assert 'value="0.0323"' in hall  # the <meter>
    room = _row(html, "第一会议室")
    assert "310.0" in room and "8.5" in room and "1,000.00" in room
    assert "旧会议室" not in html
    footer = html[html.index("<tfoot>"):html.index("</tfoot>")]
    assert "744.0" in footer and "22.5" in footer and "5,200.00" in footer
    assert "style=" not in html  # the CSP forbids inline styles
    assert 'href="/venues/reports/export?period=2025-07&amp;format=csv"' in html
    assert 'href="/venues/reports/export?period=2025-07&amp;format=xlsx"' in html
    assert 'period=2025-06"' in html and 'period=2025-08"' in html  # earlier, later
    half = staff.get("/venues/reports?period=2025-H2&lang=en").get_data(as_text=True)
    assert "Second half of 2025" in half and "5,700.00" in half
    assert '<option value="2025-H2" selected>' in half


def test_page_defaults_to_this_month_and_explains_bad_input(app, login_as, dataset):
    staff = login_as("staff")
    with app.test_request_context():
        this_month = current_month()
    html = staff.get("/venues/reports").get_data(as_text=True)
    assert f'name="month" value="{this_month.key}"' in html
    bad = staff.get("/venues/reports?month=2025-13&lang=en")
    assert bad.status_code == 200
    body = bad.get_data(as_text=True)
    assert 'aria-invalid="true"' in body and "YYYY-MM" in body
    assert staff.get("/venues/reports/export?period=nonsense").status_code == 400


def test_htmx_navigation_swaps_the_report_only(app, login_as, dataset):
    staff = login_as("staff")
    body = staff.get("/venues/reports?period=2025-08",
                     headers={"HX-Request": "true"}).get_data(as_text=True)
    assert body.lstrip().startswith('<section id="report"') and "<html" not in body


def test_csv_export(app, login_as, dataset):
    staff = login_as("staff")
    response = staff.get("/venues/reports/export?period=2025-07&format=csv&lang=en")
    assert response.status_code == 200
    assert response.content_type == "text/csv; charset=utf-8"
    disposition = response.headers["Content-Disposition"]
    assert unquote(disposition.split("filename*=UTF-8''")[1]) == "venue-report-2025-07.csv"
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0] == ["Venue", "Building", "Open hours", "Booked hours", "Utilisation",
                       "Internal meetings", "External meetings", "External income (¥)"]
    assert rows[1] == ["大礼堂", "会议中心", "434.0", "14.0", "3.2%", "2", "2", "4200.00"]
    assert rows[2] == ["第一会议室", "会议中心", "310.0", "8.5", "2.7%", "1", "2", "1000.00"]
    assert rows[3] == ["Total", "", "744.0", "22.5", "3.0%", "2", "3", "5200.00"]
    assert len(rows) == 4


def test_xlsx_export(app, login_as, dataset):
    staff = login_as("staff")
    response = staff.get("/venues/reports/export?period=2025-H2&format=xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    assert response.headers["Content-Disposition"].endswith("2025-H2.xlsx")
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert len(values) == 4
    assert values[1][0] == "大礼堂" and values[1][2] == 14 * 184 and values[1][3] == 16
    assert values[1][5:] == [2, 3, 4700]
    assert values[3][7] == 5700 and sheet.cell(4, 1).font.bold
    assert "¥" in sheet.cell(2, 8).number_format and sheet.cell(2, 5).number_format.endswith("%")
    assert staff.get("/venues/reports/export?format=pdf").status_code == 400


def _more_bookings(app, dataset, n, offset):
    """n more served bookings in July, in new venues, internal and external."""
    venues = [add_venue(app, f"Q-{offset}-{k}", f"加会议室{k}") for k in range(3)]
    for i in range(n):
        day = date(2025, 7, 1 + i % 28)
        hour = 8 + (i // 28) % 12
        add_booking(app, [(venues[i % 3], at(day, hour), at(day, hour + 1))],
                    S.COMPLETED if i % 2 else S.APPROVED,
                    None if i % 3 == 0 else dataset["client"], approved_total=10_000 * i,
                    final_total=10_000 * i if i % 2 else None)


def test_a_fixed_number_of_queries(app, login_as, count_queries, dataset, monkeypatch):
    # The sums computed live (the stored figures of closed periods: test_stored_figures.py).
    monkeypatch.setitem(app.config, "STORED_FIGURES", False)
    staff = login_as("staff")
    urls = ["/venues/reports?month=2025-07", "/venues/reports?period=2025-H2",
            "/venues/reports/export?period=2025-07&format=csv",
            "/venues/reports/export?period=2025-07&format=xlsx"]

    def counts():
        result = []
        for url in urls:
            with count_queries() as queries:
                assert staff.get(url).status_code == 200
            result.append(len(queries))
        return result

    few = counts()
    _more_bookings(app, dataset, 60, 1)
    many = counts()
    assert many == few
    assert max(few) <= 8  # with the navigation's unread count (portal/notifications)
    with app.test_request_context():
        report = reports.venue_report(parse_period("2025-07"))
    assert len(report.rows) == 5 and report.total.booked_hours == Decimal("82.5")


def test_an_empty_report(app, login_as):
    staff = login_as("staff")
    html = staff.get("/venues/reports?period=2025-H1").get_data(as_text=True)
    assert "2025年上半年" in html or "First half of 2025" in html  # before/after translation
    assert "<meter" not in html and "—" in html
    month_page = staff.get("/venues/reports?month=2025-07").get_data(as_text=True)
    assert "<strong>2025年7月</strong>" in month_page  # the month's name follows the locale
    rows = list(csv.reader(io.StringIO(staff.get(
        "/venues/reports/export?period=2025-H1").get_data().decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][2:] == ["0.0", "0.0", "", "0", "0", "0.00"]


def test_meetings_served_count_arrivals_once_check_in_exists(app, dataset, monkeypatch):
    """From the day check-in went live an approved booking is served only once its guests are
    checked in (or it is completed); before it, an approved booking that began counts."""
    monkeypatch.setitem(app.config, "BOOKING_CHECK_IN_SINCE", "2025-07-20")
    report, _rows = _report(app, "2025-07")
    # The two-venue booking of 25 July is approved but nobody checked it in: not served
    # (yet), while its hours and price still count as booked.
    assert (report.total.internal_meetings, report.total.external_meetings) == (2, 2)
    assert report.total.booked_hours == Decimal("22.5") and report.total_income_fen == 520_000
    with app.test_request_context(), write_transaction():
        booking = db.session.scalar(sa.select(Booking).where(
            Booking.starts_at == at(date(2025, 7, 25), 8, 30)))
        booking.arrived_at, booking.arrived_headcount = at(date(2025, 7, 25), 8, 20), 18
    report, rows = _report(app, "2025-07")
    assert (report.total.internal_meetings, report.total.external_meetings) == (2, 3)
    assert rows["R-B"].external_meetings == 2
    monkeypatch.setitem(app.config, "BOOKING_CHECK_IN_SINCE", "2025-01-01")
    report, _rows = _report(app, "2025-07")
    # Every approved booking of July needs its arrival now: the internal one of 15 July
    # and the straddling one (begun 30 June) were never checked in.
    assert (report.total.internal_meetings, report.total.external_meetings) == (1, 2)


def test_was_served(app):
    since = datetime(2026, 12, 7, tzinfo=SH)
    before, after = since - timedelta(days=1), since + timedelta(days=1)
    moment = Booking.starts_at.type

    def served(status, arrived_at, starts_at) -> bool:
        arrived = sa.literal(arrived_at, moment) if arrived_at else sa.null()
        with app.test_request_context():
            return bool(db.session.scalar(sa.select(sa.case((reports.was_served(
                sa.literal(status), arrived, sa.literal(starts_at, moment),
                sa.literal(since, moment)), 1), else_=0))))

    assert served(S.COMPLETED, None, after)
    assert served(S.APPROVED, None, before)
    assert not served(S.APPROVED, None, after)
    assert served(S.APPROVED, after, after)
    for status in (S.NO_SHOW, S.CANCELLED, S.REQUESTED, S.REJECTED, S.EXPIRED):
        assert not served(status, None, before)


def test_several_periods_at_once_equal_each_alone(app, dataset, count_queries, monkeypatch):
    """The work report reads three periods in one pass: each equals its report alone, and
    the queries do not grow with the number of periods."""
    # The one pass, live (the stored figures of closed periods: test_stored_figures.py).
    monkeypatch.setitem(app.config, "STORED_FIGURES", False)
    keys = ["2025-07", "2025-06", "2025-H2", "2025-08"]
    with app.test_request_context():
        # ... and a span cutting July mid-month (bounds inside others' intervals).
        periods = [parse_period(key) for key in keys] + [Period(date(2025, 7, 10),
                                                                date(2025, 7, 23))]
        alone = [reports.venue_report(period) for period in periods]
        with count_queries() as queries:
            together = reports.venue_reports(periods)
        # The venues, the months' sums with the catering served, and the bookings not whole
        # within one month (the dataset's two-venue booking of several slots).
        assert len(queries) == 3 and "IN (" in queries[2]
        for one, other in zip(alone, together, strict=True):
            assert one.period == other.period
            assert one.total == other.total and one.total_income_fen == other.total_income_fen
            assert [(row.venue.id, row) for row in one.rows] == [
                (row.venue.id, row) for row in other.rows]
            assert one.catering == other.catering
        assert together[0].total.booked_seconds > 0  # July is not empty


def _slot_seconds_recounted() -> dict[int, tuple[int, int]]:
    """Each booking's stored slot seconds and a recount of its slots, in SQL."""
    from portal.reporting import seconds_between

    recount = (sa.select(sa.func.coalesce(sa.func.sum(
        seconds_between(VenueSlot.ends_at, VenueSlot.starts_at)), 0))
        .where(VenueSlot.booking_id == Booking.id).scalar_subquery())
    return {booking_id: (stored, int(counted)) for booking_id, stored, counted
            in db.session.execute(sa.select(Booking.id, Booking.slot_seconds, recount))}


def test_stored_slot_seconds_equal_a_recount_after_the_services_write(app, ctx):
    """The reports share income by Booking.slot_seconds: the services keep it with the
    slots when a booking is requested (a series too) and when its slots change."""
    from portal.auth.models import User
    from portal.bookings import services
    from tests.bookings.factories import future_day, make_booking, make_venue

    hall = make_venue(app)
    room = make_venue(app, name="第一会议室")
    client = make_user(app, "client")
    staff = make_user(app, "staff")
    booking_id = make_booking(app, client.id, hall)  # a morning: 3.5 h
    with ctx():
        booking = db.session.get(Booking, booking_id)
        assert booking.slot_seconds == 3.5 * 3600
        data = services.booking_input(booking)
        data.slots = [services.SlotInput(hall, future_day(12), "full_day", time(8, 30),
                                         time(17, 30)),
                      services.SlotInput(room, future_day(13), "evening", time(18),
                                         time(21, 30))]
        services.change_booking(db.session.get(User, staff.id), booking, data)
        data = services.booking_input(booking)
        data.slots = data.slots[1:]
        services.change_booking(db.session.get(User, staff.id), booking, data)
        services.transition(booking, "approve", db.session.get(User, staff.id))
        counts = _slot_seconds_recounted()
        assert counts[booking_id] == (int(3.5 * 3600),) * 2
        assert all(stored == counted for stored, counted in counts.values()), counts


def test_meeting_of_several_slots_in_one_venue_counts_once(app):
    """A booking of several slots in one venue (counted with DISTINCT) next to bookings of one
    slot (counted as they are): once per venue, once in the total, in each period it meets;
    its income shared by the slots' hours."""
    hall = add_venue(app, "R-A", "大礼堂")
    room = add_venue(app, "R-B", "第一会议室")
    client = make_user(app, "client").id
    add_booking(app, [(hall, at(date(2025, 7, 30), 9), at(date(2025, 7, 30), 12)),
                      (hall, at(date(2025, 7, 31), 9), at(date(2025, 7, 31), 12)),
                      (hall, at(date(2025, 8, 1), 9), at(date(2025, 8, 1), 12))],
                S.COMPLETED, client, approved_total=90_000, final_total=90_000)
    add_booking(app, [(hall, at(date(2025, 7, 30), 14), at(date(2025, 7, 30), 16))],
                S.COMPLETED, client, approved_total=20_000, final_total=20_000)
    add_booking(app, [(room, at(date(2025, 7, 30), 14), at(date(2025, 7, 30), 16))],
                S.APPROVED, approved_total=0)
    with app.test_request_context():
        july, august, half = reports.venue_reports(
            [parse_period("2025-07"), parse_period("2025-08"), parse_period("2025-H2")])
        figures = {(report.period.key, item.venue.code): item
                   for report in (july, august, half) for item in report.rows}
    assert figures["2025-07", "R-A"].external_meetings == 2
    assert figures["2025-07", "R-A"].income_fen == 60_000 + 20_000
    assert figures["2025-07", "R-A"].booked_hours == Decimal(8)
    assert figures["2025-07", "R-B"].internal_meetings == 1
    assert (july.total.internal_meetings, july.total.external_meetings) == (1, 2)
    assert (august.total.internal_meetings, august.total.external_meetings) == (0, 1)
    assert august.total.income_fen == august.total_income_fen == 30_000
    assert (half.total.internal_meetings, half.total.external_meetings) == (1, 2)
    assert half.total.income_fen == 110_000 and half.total.booked_seconds == 13 * 3600
