"""Catering per day: a line is served on every day of its booking (the quantity is per day) or
on one of the booking's days; the run sheet, the canteen's summary, the quote and the reports
count each day once.

The issue's case: a two-day booking with 200 tea breaks every day and 10 banquet tables on
day 2 (and a second room on day 2, so that the day's order is not counted per room).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.bookings import reports, services
from portal.bookings.documents import confirmation_html
from portal.bookings.models import Booking, BookingCatering, BookingStatus, VenueSlot
from portal.database import write_transaction
from portal.extensions import db
from portal.reporting import parse_period
from tests.bookings.factories import future_day, make_catering, make_venue
from tests.conftest import make_user
from tests.helpers import form_data

FULL_DAY = services.pricing.SESSIONS["full_day"]
AFTERNOON = services.pricing.SESSIONS["afternoon"]
SH = ZoneInfo("Asia/Shanghai")
# The venue charges of the fixture: the hall's full day on each day and the room's half day.
VENUES_FEN = 500_000 * 2 + 300_000
TEA_FEN = 2_500 * 200 * 2  # 200 people, one break a day, both days
BANQUET_FEN = 188_800 * 10  # on day 2 only


@dataclass
class Conference:
    day_1: date
    day_2: date
    hall: int
    room: int
    tea: int
    banquet: int
    customer: int
    booking_id: int | None = None


@pytest.fixture
def conference(app):
    """The venues, the catering standards and the customer (no booking yet)."""
    return Conference(
        day_1=future_day(10), day_2=future_day(11),
        hall=make_venue(app, name="大礼堂"), room=make_venue(app, name="多功能厅", theatre=250),
        tea=make_catering(app, kind="tea_break", name="茶歇 25元/人", price=2_500),
        banquet=make_catering(app), customer=make_user(app, "client",
                                                        organisation="金山精细化工研究会").id)


def _request(conference) -> services.BookingInput:
    c = conference
    return services.BookingInput(
        title="世界精细化工发展研讨会", headcount=200, layout="theatre",
        slots=[services.SlotInput(c.hall, c.day_1, "full_day", *FULL_DAY),
               services.SlotInput(c.hall, c.day_2, "full_day", *FULL_DAY),
               services.SlotInput(c.room, c.day_2, "afternoon", *AFTERNOON)],
        catering=[services.CateringInput(c.tea, 200, 1),  # every day
                  services.CateringInput(c.banquet, 10, day=c.day_2)])


@pytest.fixture
def booked(app, conference):
    with app.test_request_context():
        booking = services.request_booking(db.session.get(User, conference.customer),
                                           _request(conference))
        conference.booking_id = booking.id
    return conference


def _kinds(rows):
    return [[item.kind for item in items] for _slot_or_booking, items in rows]


def test_each_day_counts_its_own_catering(app, booked):
    with app.test_request_context():
        rows, totals = services.catering_summary(booked.day_1)
        assert totals == {"meal": 0, "tea_break": 200, "banquet": 0}
        assert _kinds(rows) == [["tea_break"]]
        rows, totals = services.catering_summary(booked.day_2)
        assert totals == {"meal": 0, "tea_break": 200, "banquet": 10}  # once, for two rooms
        assert _kinds(rows) == [["tea_break", "banquet"]]
        assert services.catering_summary(future_day(12)) == ([], {
            "meal": 0, "tea_break": 0, "banquet": 0})
        # The run sheet: the day's order goes with the booking's first slot of the day.
        assert _kinds(services.run_sheet(booked.day_1)) == [["tea_break"]]
        assert _kinds(services.run_sheet(booked.day_2)) == [["tea_break", "banquet"], []]
        booking = db.session.get(Booking, booked.booking_id)
        assert [(item.kind, item.day) for item in booking.catering] == [
            ("tea_break", None), ("banquet", booked.day_2)]
        assert booking.quote_total_fen == VENUES_FEN + TEA_FEN + BANQUET_FEN


def test_approval_freezes_the_days_in_fen(app, booked):
    staff = make_user(app, "staff")
    with app.test_request_context():
        booking = db.session.get(Booking, booked.booking_id)
        services.transition(booking, "approve", db.session.get(User, staff.id))
        frozen = booking.approved_quote
        tea, banquet = frozen["lines"][3:]
        assert (tea["unit_price_fen"], tea["quantity"], tea["times"], tea["days"], tea["day"],
                tea["amount_fen"]) == (2_500, 200, 1, 2, None, TEA_FEN)
        assert (banquet["quantity"], banquet["days"], banquet["day"], banquet["amount_fen"]) == (
            10, 1, booked.day_2.isoformat(), BANQUET_FEN)
        assert frozen["total_fen"] == VENUES_FEN + TEA_FEN + BANQUET_FEN
        # The confirmation shows the agreed price in yuan, the unit price per table too.
        html = confirmation_html(booking)
        assert "¥1,888.00 × 10" in html and "¥25.00 × 200 × 1 × 2 天（每天）" in html


def test_run_sheet_and_catering_pages_per_day(app, login_as, booked):
    staff = login_as("staff")

    def tiles(day):
        html = staff.get("/venues/catering", query_string={"date": day.isoformat()}).get_data(
            as_text=True)
        return re.findall(r'class="tile-value">(\d+)<', html), html

    values, html = tiles(booked.day_1)
    assert values == ["0", "200", "0"]  # meals, tea-break servings, banquet tables
    assert "宴席" not in html and "¥5,000.00" in html  # that day's tea: 200 x ¥25
    values, html = tiles(booked.day_2)
    assert values == ["0", "200", "10"]
    assert "¥18,880.00" in html and "仅当天" in html
    sheet_1 = staff.get("/venues/runsheet", query_string={"date": booked.day_1.isoformat()})
    assert "宴席" not in sheet_1.get_data(as_text=True)
    sheet_2 = staff.get("/venues/runsheet", query_string={"date": booked.day_2.isoformat()})
    assert sheet_2.get_data(as_text=True).count("宴席 1888元/桌 × 10") == 1


def _form(conference, **fields):
    c = conference
    data = {
        "title": "世界精细化工发展研讨会", "headcount": "200", "layout": "theatre",
        "slots-0-venue_id": str(c.hall), "slots-0-day": c.day_1.isoformat(),
        "slots-0-session": "full_day", "slots-0-start": "", "slots-0-end": "",
        "slots-1-venue_id": str(c.hall), "slots-1-day": c.day_2.isoformat(),
        "slots-1-session": "full_day", "slots-1-start": "", "slots-1-end": "",
        "meal_option": "0", "meals": "0", "meal_day": "",
        "tea_option": str(c.tea), "tea_breaks": "1", "tea_break_day": "",
        "banquet_option": str(c.banquet), "banquet_tables": "10",
        "banquet_day": c.day_2.isoformat(), "contact_phone": "", "notes": "",
    }
    data.update(fields)
    return data


def _bookings(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Booking))


def test_the_form_books_a_banquet_on_one_day_and_quotes_in_yuan(app, login_as, conference):
    me = login_as("client")
    page = me.get("/venues/book", query_string={"venue_id": conference.hall,
                                                 "day": conference.day_1.isoformat()})
    select = re.search(r'<select[^>]*id="banquet_day".*?</select>', page.get_data(as_text=True),
                       re.S).group(0)
    assert '<option selected value="">每天</option>' in select
    assert f'value="{conference.day_1.isoformat()}"' in select  # the prefilled slot's day
    quote = me.post("/venues/quote", data=form_data(me, "/venues/book", **_form(conference)),
                    headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "¥1,888.00 × 10 · " in quote and "188800" not in quote
    assert "¥25.00 × 200 × 1 × 2 天（每天）" in quote
    total = 500_000 * 2 + TEA_FEN + BANQUET_FEN
    assert f"¥{total / 100:,.2f}" in quote
    response = me.post("/venues/book", data=form_data(me, "/venues/book", **_form(conference)))
    assert response.status_code == 303
    with app.app_context():
        booking = db.session.scalar(sa.select(Booking))
        assert [(item.kind, item.quantity, item.times, item.day) for item in booking.catering] == [
            ("tea_break", 200, 1, None), ("banquet", 10, 1, conference.day_2)]
        assert booking.quote_total_fen == total
        booking_id = booking.id
    # Changing it starts from the days chosen.
    edit = me.get(f"/venues/bookings/{booking_id}/edit").get_data(as_text=True)
    select = re.search(r'<select[^>]*id="banquet_day".*?</select>', edit, re.S).group(0)
    assert f'<option selected value="{conference.day_2.isoformat()}">' in select
    # Approved, the detail page shows the frozen quote in yuan.
    staff = login_as("staff")
    staff.post(f"/venues/bookings/{booking_id}/approve",
               data=form_data(staff, f"/venues/bookings/{booking_id}"))
    detail = me.get(f"/venues/bookings/{booking_id}").get_data(as_text=True)
    assert "¥1,888.00 × 10 · " in detail and "¥25.00 × 200 × 1 × 2 天（每天）" in detail


@pytest.mark.parametrize("banquet_day", ["day_3", "not-a-date"])
def test_the_form_refuses_a_day_off_the_booking_beside_the_field(app, login_as, conference,
                                                                 banquet_day):
    me = login_as("client")
    value = future_day(12).isoformat() if banquet_day == "day_3" else banquet_day
    response = me.post("/venues/book", data=form_data(me, "/venues/book", **_form(
        conference, banquet_day=value)))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(r'<p class="error" id="banquet_day-error">(.*?)</p>', html).group(1)
    assert error == "请选择本预订的某一天，或选择“每天”。"
    if banquet_day == "day_3":
        assert f'<option selected value="{value}">' in html  # still shown, to be changed
    assert 'aria-invalid="true"' in html
    assert _bookings(app) == 0


def test_the_day_choices_follow_the_slots_with_htmx(app, login_as, conference):
    me = login_as("client")
    response = me.post("/venues/book", data=form_data(me, "/venues/book", **_form(
        conference, refresh_catering="1")), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<fieldset class="catering" id="catering"')
    for field in ("meal_day", "tea_break_day", "banquet_day"):
        select = re.search(rf'<select[^>]*id="{field}".*?</select>', body, re.S).group(0)
        assert re.findall(r'value="([^"]*)"', select) == [
            "", conference.day_1.isoformat(), conference.day_2.isoformat()]
    assert _bookings(app) == 0


# --- the reports ---------------------------------------------------------------------------


def _past_booking(app, venue_id, days, catering, status=BookingStatus.COMPLETED) -> int:
    """A booking held in the past (inserted as the lifecycle leaves it): a full day on each of
    ``days``, with catering lines (kind, label, unit fen, quantity, times, day)."""
    with app.test_request_context(), write_transaction():
        booking = Booking(department="区政府办公室", status=status, rate_kind="free",
                          title="会议", headcount=200, layout="theatre",
                          starts_at=datetime.combine(days[0], time(8, 30), tzinfo=SH))
        for day in days:
            start = datetime.combine(day, time(8, 30), tzinfo=SH)
            end = datetime.combine(day, time(17, 30), tzinfo=SH)
            booking.slots.append(VenueSlot(venue_id=venue_id, starts_at=start, ends_at=end,
                                           blocked_from=start, blocked_until=end,
                                           active=status in BookingStatus.ACTIVE))
        booking.count_slot_seconds()
        for kind, label, unit, quantity, times, day in catering:
            booking.catering.append(BookingCatering(kind=kind, label=label, unit_price_fen=unit,
                                                    quantity=quantity, times=times, day=day))
        db.session.add(booking)
        db.session.flush()
        return booking.id


def _catering(period: str) -> dict[str, tuple[int, int]]:
    report = reports.venue_report(parse_period(period))
    return {item.kind: (item.servings, item.amount_fen) for item in report.catering}


def test_reports_count_each_day_of_the_period_once(app, login_as):
    hall = make_venue(app, name="大礼堂")
    july_31, august_1 = date(2025, 7, 31), date(2025, 8, 1)
    # The case across the month's end: tea on both days, the banquet on day 2.
    _past_booking(app, hall, [july_31, august_1], [
        ("tea_break", "茶歇", 2_500, 200, 1, None), ("banquet", "宴席", 188_800, 10, 1, august_1)])
    # Two days inside July: lunch on both, tables on the first day only.
    _past_booking(app, hall, [date(2025, 7, 8), date(2025, 7, 9)], [
        ("meal", "工作餐", 5_000, 30, 1, None),
        ("banquet", "宴席", 188_800, 3, 1, date(2025, 7, 8))])
    # Cancelled: not served, not counted.
    _past_booking(app, hall, [date(2025, 7, 15)], [("meal", "工作餐", 5_000, 99, 1, None)],
                  status=BookingStatus.CANCELLED)
    with app.test_request_context():
        assert _catering("2025-07") == {"meal": (60, 300_000), "tea_break": (200, 500_000),
                                        "banquet": (3, 566_400)}
        assert _catering("2025-08") == {"meal": (0, 0), "tea_break": (200, 500_000),
                                        "banquet": (10, 1_888_000)}
        assert _catering("2025-H2") == {"meal": (60, 300_000), "tea_break": (400, 1_000_000),
                                        "banquet": (13, 2_454_400)}
    page = login_as("staff").get("/venues/reports?month=2025-08").get_data(as_text=True)
    row = re.search(r'<tr id="catering-banquet">(.*?)</tr>', page).group(1)
    assert ">10<" in row and "¥18,880.00" in row


# --- the migration -------------------------------------------------------------------------


def test_migration_keeps_lines_every_day_and_frozen_quotes_readable_in_yuan(app, tmp_path):
    """0014 on a database with a booking approved before it: its lines are "every day" and
    its frozen catering detail ("188800 x 10") becomes figures in fen, shown in yuan; a
    downgrade gives the text back."""
    import json

    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from portal.bookings.views import quote_detail
    from tests.conftest import _test_config

    old_quote = {"rate_kind": "external", "total_fen": 2_188_000, "lines": [
        {"kind": "venue", "label": "大礼堂", "detail": "2026-12-08 08:30-12:00",
         "amount_fen": 300_000},
        {"kind": "banquet", "label": "宴席", "detail": "188800 x 10", "amount_fen": 1_888_000},
        {"kind": "tea_break", "label": "茶歇", "detail": "2500 x 100 x 2",
         "amount_fen": 500_000}]}
    scratch = create_app(_test_config(f"sqlite:///{tmp_path / 'scratch.db'}"))
    with scratch.app_context():
        upgrade(revision="0013")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO booking (department, status, rate_kind, title, purpose, headcount,"
                " layout, equipment, notes, contact_phone, starts_at, created_at, reason,"
                " deposit_fen, quote_total_fen, extras_fen, approved_quote) VALUES ('区政府办公室',"
                " 'approved', 'external', '会议', '', 100, 'theatre', '[]', '', '',"
                " '2026-12-08 00:30:00', '2026-11-01 00:00:00', '', 0, 2188000, 0, :quote)"),
                {"quote": json.dumps(old_quote)})
            connection.execute(sa.text(
                "INSERT INTO booking_catering (booking_id, kind, label, unit_price_fen, quantity,"
                " times) VALUES (1, 'banquet', '宴席', 188800, 10, 1)"))
        upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(sa.text("SELECT day FROM booking_catering")).scalar() is None
            frozen = json.loads(connection.execute(sa.text(
                "SELECT approved_quote FROM booking")).scalar())
        venue, banquet, tea = frozen["lines"]
        assert venue == old_quote["lines"][0] and frozen["total_fen"] == 2_188_000
        assert (banquet["unit_price_fen"], banquet["quantity"], banquet["times"],
                banquet["days"], banquet["amount_fen"]) == (188_800, 10, 1, 1, 1_888_000)
        with scratch.test_request_context():
            assert quote_detail(banquet) == "¥1,888.00 × 10"
            assert quote_detail(tea) == "¥25.00 × 100 × 2"  # frozen once: no "x days"
        downgrade(revision="0013")
        with db.engine.connect() as connection:
            back = json.loads(connection.execute(sa.text(
                "SELECT approved_quote FROM booking")).scalar())
        assert back == old_quote
        db.engine.dispose()
