"""The bookings demo: a two-day symposium with catering every day and a banquet on day 2."""

from zoneinfo import ZoneInfo

import sqlalchemy as sa

from portal.bookings import services
from portal.bookings.models import Booking, BookingStatus
from portal.extensions import db


def test_demo_has_a_two_day_booking_with_a_banquet_on_one_day(app):
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        booking = db.session.scalar(sa.select(Booking).where(
            Booking.title == "世界精细化工发展研讨会"))
        assert booking.status == BookingStatus.APPROVED and booking.client_id
        first, second = sorted({slot.starts_at.astimezone(ZoneInfo("Asia/Shanghai")).date()
                                for slot in booking.slots})
        assert [(item.kind, item.day) for item in booking.catering] == [
            ("meal", None), ("tea_break", None), ("banquet", second)]
        banquet = booking.approved_quote["lines"][-1]
        assert (banquet["quantity"], banquet["day"]) == (10, second.isoformat())
        assert services.catering_summary(first)[1]["banquet"] == 0
        assert services.catering_summary(second)[1]["banquet"] == 10
        assert services.catering_summary(second)[1]["tea_break"] == 240  # 120 people, twice
