"""The booking confirmation (预订确认书) as a PDF, rendered by WeasyPrint from a template.

WeasyPrint is imported when a PDF is made, not when the app starts: it loads Pango through
cffi, which only this page needs.  It needs Debian's ``libpango-1.0-0``, ``libpangoft2-1.0-0``
and ``libharfbuzz-subset0``, and ``fonts-noto-cjk`` for the Chinese text.

The template is ours and every value in it is escaped by Jinja, and WeasyPrint is given a URL
fetcher that refuses every URL: rendering never reads a file or the network.
"""

from __future__ import annotations

from functools import cache

from flask import Response, current_app, flash, render_template, url_for
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy.orm import selectinload

from ..authz import visible_or_404
from ..database import utcnow
from ..extensions import limiter
from ..htmx import redirect_to
from . import bp, services
from .models import Booking, BookingStatus, Equipment, Layout, VenueSlot

PRINTABLE = (BookingStatus.APPROVED, BookingStatus.COMPLETED)
PDF_LIMIT = "30 per minute"  # rendering takes about half a second of CPU


@cache
def _no_fetching():
    from weasyprint.urls import URLFetcher

    class NoFetching(URLFetcher):
        def fetch(self, url, headers=None):
            raise ValueError(f"the confirmation loads no external resource ({url})")

    return NoFetching


def confirmation_html(booking: Booking) -> str:
    """The confirmation's HTML, in the current language (Chinese unless the user chose English)."""
    return render_template(
        "bookings/confirmation_pdf.html", booking=booking, issued_at=utcnow(),
        cutoff=services.cancel_cutoff(booking),
        cutoff_hours=current_app.config["BOOKING_CANCEL_CUTOFF_HOURS"],
        layout_labels=Layout.LABELS, equipment_labels=Equipment.LABELS,
        status_labels=BookingStatus.LABELS, session_labels=services.pricing.SESSION_LABELS)


def confirmation_pdf_bytes(booking: Booking) -> bytes:
    from weasyprint import HTML

    return HTML(string=confirmation_html(booking), url_fetcher=_no_fetching()()).write_pdf()


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
    response = Response(confirmation_pdf_bytes(booking), mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{booking.reference}-confirmation.pdf"')
    response.headers["Cache-Control"] = "private, no-store"
    return response
