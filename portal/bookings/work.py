"""Bookings on the home page's work list ("My work").

Staff and admins: requests to decide (the oldest first), holds about to end (the queue's
``expiring=1`` filter) and today's run sheet.  A client: holds offered to them from a
waitlist, their own requests waiting for a decision and their approved bookings still to
come.  One query per line.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext, ngettext

from ..core.dashboard import WorkItem, count_and_first, days_ago, work_provider
from ..database import utcnow
from ..i18n import format_datetime_local, format_time_24, local_today
from ..roles import Role
from .models import Booking, BookingStatus, VenueSlot
from .services import expiring_hold_condition, on_day_condition, upcoming_condition


def _bookings(user, condition, order_by, when):
    return count_and_first(
        sa.select(Booking.id, Booking.title, when.label("when"))
        .where(Booking.visible_to(user), condition), order_by, Booking.id)


def _what(row) -> str:
    return f"{Booking.reference_of(row.id)} {row.title}"


@work_provider
def booking_work(user) -> list[WorkItem]:
    if user.role in Role.BUREAU:
        return _staff_work(user)
    if user.role == Role.CLIENT:
        return _client_work(user)
    return []


def _staff_work(user) -> list[WorkItem]:
    requested = Booking.status == BookingStatus.REQUESTED
    count, first = _bookings(user, requested, Booking.created_at, Booking.created_at)
    items = [WorkItem(
        ngettext("%(num)d booking request to decide", "%(num)d booking requests to decide",
                 count),
        count, url_for("bookings.queue", status=BookingStatus.REQUESTED),
        gettext("Oldest submitted %(ago)s: %(what)s", ago=days_ago(first.when),
                what=_what(first)) if first else "", "warning", "bookings")]
    count, first = _bookings(user, expiring_hold_condition(), Booking.expires_at,
                             Booking.expires_at)
    items.append(WorkItem(
        ngettext("%(num)d request whose hold ends within a day",
                 "%(num)d requests whose hold ends within a day", count),
        count, url_for("bookings.queue", status=BookingStatus.REQUESTED, expiring=1),
        gettext("First to end %(when)s: %(what)s", when=format_datetime_local(first.when),
                what=_what(first)) if first else "", "danger", "bookings"))
    count, first = count_and_first(
        sa.select(Booking.id, Booking.title, VenueSlot.starts_at.label("when"))
        .join(Booking, VenueSlot.booking_id == Booking.id)
        .where(on_day_condition(local_today())), VenueSlot.starts_at, VenueSlot.id)
    items.append(WorkItem(
        ngettext("%(num)d session on today's run sheet", "%(num)d sessions on today's run sheet",
                 count),
        count, url_for("bookings.runsheet"),
        gettext("First at %(time)s: %(what)s", time=format_time_24(first.when),
                what=_what(first)) if first else "", "neutral", "bookings"))
    return items


def _client_work(user) -> list[WorkItem]:
    count, first = _bookings(user, Booking.status == BookingStatus.OFFERED,
                             Booking.expires_at, Booking.expires_at)
    items = [WorkItem(
        ngettext("%(num)d freed slot held for you from a waitlist",
                 "%(num)d freed slots held for you from waitlists", count),
        count, url_for("bookings.waitlist_mine"),
        gettext("Take it by %(when)s: %(what)s", when=format_datetime_local(first.when),
                what=_what(first)) if first else "", "warning", "bookings")]
    count, first = _bookings(user, Booking.status == BookingStatus.REQUESTED,
                             Booking.created_at, Booking.created_at)
    items.append(WorkItem(
        ngettext("%(num)d booking request waiting for a decision",
                 "%(num)d booking requests waiting for a decision", count),
        count, url_for("bookings.mine", status=BookingStatus.REQUESTED),
        gettext("Oldest submitted %(ago)s: %(what)s", ago=days_ago(first.when),
                what=_what(first)) if first else "", "neutral", "bookings"))
    count, first = _bookings(user, upcoming_condition(utcnow()), Booking.starts_at,
                             Booking.starts_at)
    items.append(WorkItem(
        ngettext("%(num)d upcoming booking", "%(num)d upcoming bookings", count),
        count, url_for("bookings.mine", upcoming=1),
        gettext("Next %(when)s: %(what)s", when=format_datetime_local(first.when),
                what=_what(first)) if first else "", "neutral", "bookings"))
    return items
