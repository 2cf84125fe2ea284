"""One clock: a booking from 14:00 to 16:00 reads 14:00–16:00 on its page, in its mail, in its
PDF-bound text and in its iCal description, in Chinese and in English, never "2:00 PM"."""

from __future__ import annotations

from datetime import time

import pytest
from icalendar import Calendar

from portal.auth.models import User
from portal.bookings import services
from portal.extensions import db
from tests.bookings.factories import future_day, make_venue
from tests.helpers import outbox_for

TWELVE_HOUR = ("PM", "AM", "2:00", "4:00")


def _afternoon_booking(app, client_id: int) -> int:
    hall = make_venue(app, name="大礼堂")
    with app.test_request_context():
        booking = services.request_booking(db.session.get(User, client_id), services.BookingInput(
            title="行业协会年会", headcount=30, layout="theatre", slots=[
                services.SlotInput(hall, future_day(9), "custom", time(14), time(16))]))
        return booking.id


def _no_twelve_hour_clock(text: str) -> None:
    assert "14:00" in text and "16:00" in text
    for mark in TWELVE_HOUR:
        assert f" {mark}" not in text, mark


@pytest.mark.parametrize(("locale", "lang"), [("zh_Hans_CN", "zh"), ("en", "en")])
def test_a_booking_reads_14_00_on_its_page_mail_and_calendar(app, login_as, locale, lang):
    me = login_as("client", email=f"clock-{lang}@example.com", locale=locale)
    booking_id = _afternoon_booking(app, me.account.id)
    day = future_day(9).isoformat()

    page = me.get(f"/venues/bookings/{booking_id}?lang={lang}").get_data(as_text=True)
    assert f"{day} 14:00–16:00" in page
    _no_twelve_hour_clock(page)

    mail = outbox_for(app, f"clock-{lang}@example.com")[-1]
    assert f"{day} 14:00–16:00" in mail.body_text
    _no_twelve_hour_clock(mail.body_text)

    ics = me.get(f"/venues/bookings/{booking_id}.ics?lang={lang}").data
    (event,) = Calendar.from_ical(ics).walk("VEVENT")
    description = str(event["description"])
    assert f"{day} 14:00–16:00" in description
    assert ("时间：" if lang == "zh" else "Time: ") in description
    _no_twelve_hour_clock(description)
