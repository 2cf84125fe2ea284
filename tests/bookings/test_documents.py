"""The booking confirmation PDF."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from portal import documents as portal_documents
from portal.auth.models import User
from portal.bookings import documents, services
from portal.bookings.models import Booking
from portal.extensions import db
from tests.bookings.factories import future_day, make_booking, make_catering, make_venue
from tests.conftest import make_user


def pdf_text(data: bytes) -> str:
    """The PDF's text, read back with pypdf."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _approved_booking(app, client_id: int) -> int:
    hall = make_venue(app, name="大礼堂")
    banquet = make_catering(app)
    staff = make_user(app, "staff")
    day = future_day(12)
    with app.test_request_context():
        start, end = services.pricing.SESSIONS["evening"]
        booking = services.request_booking(db.session.get(User, client_id), services.BookingInput(
            title="金山精细化工研究会年会", headcount=60, layout="theatre",
            contact_phone="13800000000",
            slots=[services.SlotInput(hall, day, "evening", start, end)],
            catering=[services.CateringInput(banquet, 6)]))
        services.transition(booking, "approve", db.session.get(User, staff.id),
                            deposit_fen=100_000, deposit_due_on=future_day(5))
        return booking.id


def test_confirmation_pdf_of_an_approved_booking(app, login_as):
    me = login_as("client", name="赵磊", organisation="金山精细化工研究会")
    booking_id = _approved_booking(app, me.account.id)
    response = me.get(f"/venues/bookings/{booking_id}/confirmation.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith(
        f'attachment; filename="HY{booking_id:06d}-confirmation.pdf"')
    data = response.data
    assert data.startswith(b"%PDF-") and len(data) > 5_000
    text = pdf_text(data)
    compact = "".join(text.split())
    assert f"HY{booking_id:06d}" in compact
    assert "大礼堂" in compact and "金山精细化工研究会年会" in compact
    assert "¥2,000.00" in compact  # the evening rate, frozen at approval
    assert f"¥{(200_000 + 6 * 188_800) / 100:,.2f}" in compact
    assert "¥1,000.00" in compact  # the deposit


def test_confirmation_html_layout(app):
    owner = make_user(app, "client", name="赵磊", organisation="金山精细化工研究会")
    booking_id = _approved_booking(app, owner.id)
    with app.test_request_context("/?lang=zh"):
        booking = db.session.get(Booking, booking_id)
        html = documents.confirmation_html(booking)
    assert 'font-family: "Noto Sans CJK SC"' in html
    assert f"HY{booking_id:06d}" in html and "赵磊（金山精细化工研究会）" in html
    assert "宴席 1888元/桌" in html and "¥1,888.00" in html
    assert "18:00–21:30" in html  # local (Asia/Shanghai) times
    assert "13800000000" in html
    assert "<script" not in html and "http" not in html  # nothing to fetch


def test_pdf_only_once_approved(app, login_as):
    venue_id = make_venue(app)
    me = login_as("client")
    booking_id = make_booking(app, me.account.id, venue_id)
    response = me.get(f"/venues/bookings/{booking_id}/confirmation.pdf?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/venues/bookings/{booking_id}")
    page = me.get(response.headers["Location"]).get_data(as_text=True)
    assert "available once the booking is approved" in page
    htmx = me.get(f"/venues/bookings/{booking_id}/confirmation.pdf",
                  headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["HX-Redirect"].endswith(str(booking_id))


def test_pdf_access_rules(app, client, login_as):
    owner = make_user(app, "client")
    booking_id = _approved_booking(app, owner.id)
    path = f"/venues/bookings/{booking_id}/confirmation.pdf"
    anonymous = client.get(path)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    assert login_as("client").get(path).status_code == 404
    assert login_as("supervisor").get(path).status_code == 404
    staff = login_as("staff").get(path)
    assert staff.status_code == 200 and staff.data.startswith(b"%PDF-")


def test_rendering_fetches_nothing(app):
    fetcher = portal_documents._no_fetching()()
    for url in ("file:///etc/passwd", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
