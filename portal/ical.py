"""iCalendar files: the one calendar header, event UID domain and ``.ics`` response.

Used by the conference center's booking files and feeds (:mod:`portal.bookings.calendars`)
and by the joint meetings' invitations (:mod:`portal.meetings.exports`).
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from flask import Response, current_app
from flask_babel import gettext as _
from icalendar import Calendar

from .i18n import format_time_range

PRODID = "-//District Administrative Affairs Management Bureau//Bureau Services Portal//ZH"


def new_calendar(name: str) -> Calendar:
    """An empty VCALENDAR named ``name``, in the portal's time zone."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", name)
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return calendar


def time_line(start: datetime, end: datetime) -> str:
    """The description's "Time: 2026-12-10 14:00–16:00" line (24-hour clock, bureau's zone):
    calendar apps show DTSTART in the reader's zone, the description in the bureau's."""
    return _("Time: %(when)s", when=format_time_range(start, end))


def uid_domain() -> str:
    """The domain part of event UIDs (``slot-12@portal.example``): the portal's host."""
    return urlsplit(current_app.config["BASE_URL"]).hostname or "portal"


def ics_response(body: bytes, filename: str | None = None,
                 cache_control: str | None = None) -> Response:
    """A ``text/calendar; charset=utf-8`` response, as a download when ``filename`` is given."""
    response = Response(body, mimetype="text/calendar")
    if filename:
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if cache_control:
        response.headers["Cache-Control"] = cache_control
    return response
