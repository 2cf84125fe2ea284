"""A slot's date and time errors come back beside the field they concern (through HTTP): in
the booking form's rows, in the weekly-series form and in the free-venue search; 422 and
nothing saved."""

from __future__ import annotations

import re
from datetime import date, time

import pytest
import sqlalchemy as sa

from portal.bookings.models import Booking, BookingSeries, Venue
from portal.database import write_transaction
from portal.extensions import db
from tests.bookings.factories import future_day, make_venue
from tests.helpers import form_data

PAST = "该时间已过。"
BACKWARDS = "结束时间必须晚于开始时间。"
TOO_FAR = "只能预订 180 天以内的日期，请选择更早的日期。"
CLOSED = "大礼堂的开放时间为 08:00 至 22:00。"


def _error(html: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field_id}-error">(.*?)</p>', html)
    return match.group(1) if match else None


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _slot(row: int, venue_id: int, day=None, session="morning", start="", end="") -> dict:
    return {f"slots-{row}-venue_id": str(venue_id),
            f"slots-{row}-day": (day or future_day()).isoformat(),
            f"slots-{row}-session": session, f"slots-{row}-start": start,
            f"slots-{row}-end": end}


def _booking_form(**fields) -> dict:
    return {"title": "行业协会理事会", "headcount": "80", "layout": "theatre",
            "meal_option": "0", "meals": "0", "tea_option": "0", "tea_breaks": "0",
            "banquet_option": "0", "banquet_tables": "0", "contact_phone": "", "notes": "",
            **fields}


BAD_SLOTS = [  # (the slot's fields, the field its error is beside, the message)
    ({"day": "past"}, "day", PAST),
    ({"session": "custom", "start": "11:00", "end": "10:00"}, "end", BACKWARDS),
    ({"day": "far"}, "day", TOO_FAR),
    ({"session": "custom", "start": "06:00", "end": "09:00"}, "start", CLOSED),
]


def _days(change: dict) -> dict:
    change = dict(change)
    if change.get("day") == "past":
        change["day"] = future_day(-1)
    elif change.get("day") == "far":
        change["day"] = future_day(200)
    return change


@pytest.mark.parametrize("change, part, message", BAD_SLOTS)
@pytest.mark.parametrize("row", [0, 1])
def test_booking_form_shows_a_slot_error_in_its_row(app, login_as, change, part, message, row):
    hall = make_venue(app, name="大礼堂")
    me = login_as("client")
    slots = _slot(row, hall, **_days(change))
    if row == 1:
        slots.update(_slot(0, hall, day=future_day(3)))  # a good first row
    response = me.post("/venues/book", data=form_data(me, "/venues/book",
                                                      **_booking_form(**slots)))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _error(html, f"slots-{row}-{part}") == message
    assert f'<div class="field has-error">\n  <label for="slots-{row}-{part}">' in html
    assert 'id="slots-error"' not in html and "alert danger" not in html  # not a banner
    assert _count(app, Booking) == 0


def test_booking_form_session_and_fieldset_errors(app, login_as):
    hall = make_venue(app, name="大礼堂")
    me = login_as("client")
    # The session's hours are fixed: its opening-hours error is beside the session (htmx too).
    with app.app_context(), write_transaction():
        db.session.get(Venue, hall).opens_at = time(9)
    response = me.post("/venues/book", data=form_data(me, "/venues/book", **_booking_form(
        **_slot(0, hall, session="morning"))), headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<form") and "<html" not in html
    assert _error(html, "slots-0-session") == "大礼堂的开放时间为 09:00 至 22:00。"
    # No venue chosen at all: the message of the whole list, under it.
    none = me.post("/venues/book", data=form_data(me, "/venues/book", **_booking_form(
        **_slot(0, 0))))
    assert none.status_code == 422
    assert re.search(r'<p class="error" id="slots-error">请至少选择一个会场和时段。</p>',
                     none.get_data(as_text=True))
    assert _count(app, Booking) == 0


def _series_form(hall, **fields) -> dict:
    return {"title": "周例会", "department": "区财政局", "venue_id": str(hall),
            "weekday": str(future_day(1).weekday()), "start": "09:00", "end": "10:00",
            "first_day": future_day(1).isoformat(), "last_day": future_day(30).isoformat(),
            "headcount": "12", "layout": "theatre", "rate_kind": "free", **fields}


@pytest.mark.parametrize("fields, field, message", [
    ({"first_day": "past"}, "first_day", PAST),
    ({"start": "11:00", "end": "10:00"}, "end", BACKWARDS),
    ({"first_day": "day_100", "last_day": "far"}, "last_day", TOO_FAR),
    ({"start": "06:00", "end": "09:00"}, "start", CLOSED),
])
def test_series_form_shows_slot_errors_beside_its_fields(app, login_as, fields, field,
                                                         message):
    hall = make_venue(app, name="大礼堂")
    staff = login_as("staff")
    days = {"past": future_day(-1), "far": future_day(200), "day_100": future_day(100)}
    fields = {name: days[value].isoformat() if value in days else value
              for name, value in fields.items()}
    if "first_day" in fields:  # every week from that date on
        fields["weekday"] = str(date.fromisoformat(fields["first_day"]).weekday())
    response = staff.post("/venues/series/new", data=form_data(
        staff, "/venues/series/new", **_series_form(hall, **fields)))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert _error(html, field) == message
    assert "alert danger" not in html
    assert _count(app, BookingSeries) == 0 and _count(app, Booking) == 0


@pytest.mark.parametrize("query, field, message", [
    ({"day": "past"}, "day", PAST),
    ({"session": "custom", "start": "11:00", "end": "10:00"}, "end", BACKWARDS),
    ({"day": "far"}, "day", TOO_FAR),
    ({"session": "custom", "start": "", "end": "10:00"}, "start", "请输入时间。"),
    ({"day": "2026-13-45"}, "day", None),  # not a date: the form's own message
])
def test_search_form_shows_errors_beside_its_fields(app, client, query, field, message):
    make_venue(app, name="大礼堂")
    query = {"session": "morning", "headcount": "50", **_days(query)}
    query.setdefault("day", future_day().isoformat())
    for headers in ({}, {"HX-Request": "true"}):
        response = client.get("/venues/", query_string=query, headers=headers)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        error = re.search(rf'<span class="error" id="{field}-error">(.*?)</span>', html)
        assert error and (message is None or error.group(1) == message)
        assert 'aria-invalid="true"' in html and "个会场空闲" not in html
    assert html.lstrip().startswith('<div id="search">')  # the htmx partial: form and results
