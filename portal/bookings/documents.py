"""The booking confirmation (预订确认书) as a PDF (see :mod:`portal.documents`)."""

from __future__ import annotations

from flask import current_app, flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import selectinload

from ..authz import visible_or_404
from ..database import utcnow
from ..documents import PDF_LIMIT, html_to_pdf, pdf_response
from ..extensions import limiter
from ..htmx import redirect_to
from . import bp, services
from .models import Booking, BookingStatus, Equipment, Layout, VenueSlot

PRINTABLE = (BookingStatus.APPROVED, BookingStatus.COMPLETED)


def confirmation_html(booking: Booking) -> str:
    """The confirmation's HTML, in the current language (Chinese unless the user chose English)."""
    return render_template(
        "bookings/confirmation_pdf.html", booking=booking, issued_at=utcnow(),
        cutoff=services.cancel_cutoff(booking),
        cutoff_hours=current_app.config["BOOKING_CANCEL_CUTOFF_HOURS"],
        layout_labels=Layout.LABELS, equipment_labels=Equipment.LABELS,
        status_labels=BookingStatus.LABELS, session_labels=services.pricing.SESSION_LABELS)


def confirmation_pdf_bytes(booking: Booking) -> bytes:
    return html_to_pdf(confirmation_html(booking))


@bp.route("/bookings/<int:booking_id>/confirmation.pdf")
@limiter.limit(PDF_LIMIT)
@login_required
def confirmation_pdf(booking_id: int):
    booking = visible_or_404(
        Booking, booking_id, selectinload(Booking.slots).selectinload(VenueSlot.venue),
        selectinload(Booking.catering), selectinload(Booking.client))
    if booking.status not in PRINTABLE:
        flash(_("The confirmation is available once the booking is approved."), "warning")
        return redirect_to(url_for("bookings.detail", booking_id=booking.id))
    return pdf_response(confirmation_pdf_bytes(booking), f"{booking.reference}-confirmation.pdf")
