"""Venues and bookings for tests."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from portal.bookings import services
from portal.bookings.models import CateringOption, Venue, VenueEquipment, VenueLayout
from portal.database import utcnow, write_transaction
from portal.extensions import db


def make_venue(app, code=None, name="大礼堂", public=True, theatre=300, banquet=None,
               equipment=("projector",), setup=30, cleanup=30) -> int:
    with app.test_request_context(), write_transaction():
        venue = Venue(
            code=code or f"V{utcnow().timestamp():.6f}"[-12:], name=name, kind="hall",
            building="会议中心", floor="1F", public=public, setup_minutes=setup,
            cleanup_minutes=cleanup, external_half_day_fen=300_000, external_evening_fen=200_000,
            external_full_day_fen=500_000, internal_half_day_fen=150_000,
            internal_evening_fen=100_000, internal_full_day_fen=250_000,
        )
        venue.layouts = [VenueLayout(layout="theatre", capacity=theatre)]
        if banquet:
            venue.layouts.append(VenueLayout(layout="banquet", capacity=banquet))
        venue.equipment = [VenueEquipment(equipment=e) for e in equipment]
        db.session.add(venue)
        db.session.flush()
        venue_id = venue.id
    return venue_id


def make_catering(app, kind="banquet", name="宴席 1888元/桌", price=188_800) -> int:
    with app.test_request_context(), write_transaction():
        option = CateringOption(kind=kind, name=name, unit_price_fen=price)
        db.session.add(option)
        db.session.flush()
        option_id = option.id
    return option_id


def jpeg_bytes(size=(64, 48), color=(180, 30, 30), exif=None) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    image.save(buffer, "JPEG", exif=exif) if exif else image.save(buffer, "JPEG")
    return buffer.getvalue()


def make_photo(app, venue_id) -> str:
    import io

    from werkzeug.datastructures import FileStorage

    from portal.bookings.models import Venue
    from portal.bookings.venues import add_photo

    with app.test_request_context():
        upload = FileStorage(io.BytesIO(jpeg_bytes()), filename="x.jpg")
        return add_photo(db.session.get(Venue, venue_id), upload, "正面").file_name


def future_day(days=10) -> date:
    """A day counted from today in the bureau's time zone (what the services call today)."""
    return (utcnow().astimezone(ZoneInfo("Asia/Shanghai")) + timedelta(days=days)).date()


def make_booking(app, user_id, venue_id, day=None, session="morning", headcount=50,
                 layout="theatre") -> int:
    from portal.auth.models import User

    start, end = services.pricing.SESSIONS[session]
    with app.test_request_context():
        user = db.session.get(User, user_id)
        booking = services.request_booking(user, services.BookingInput(
            title="测试会议", headcount=headcount, layout=layout,
            slots=[services.SlotInput(venue_id, day or future_day(), session, start, end)]))
        return booking.id


def this_mornings_opening():
    """Eight o'clock this morning, Beijing time (before nine: yesterday's): a start that has
    passed and lies in the venues' opening hours whatever the hour a test runs at (an hour
    ago falls outside them late at night, and a booking there is on no grid)."""
    zone = ZoneInfo("Asia/Shanghai")
    now = datetime.now(zone)
    day = now.date() - timedelta(days=0 if now.hour >= 9 else 1)
    return datetime.combine(day, time(8, 0), zone)


def has_begun(booking, at=None) -> None:
    """Time passes: the booking's event started an hour ago, or at ``at`` (an aware datetime
    in the past); its slots keep their length."""
    from datetime import timedelta

    from portal.database import utcnow, write_transaction

    with write_transaction():
        shift = booking.starts_at - (at or utcnow() - timedelta(hours=1))
        booking.starts_at -= shift
        for slot in booking.slots:
            slot.starts_at -= shift
            slot.ends_at -= shift
            slot.blocked_from -= shift
            slot.blocked_until -= shift


__all__ = ["has_begun", "this_mornings_opening", "make_venue", "make_catering", "make_booking",
           "make_photo", "jpeg_bytes", "future_day", "time"]
