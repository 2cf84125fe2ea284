"""Feedback by place (staff and admins): the buildings × services matrix of a month or a
half-year (with CSV/XLSX through :mod:`portal.exports`), and one room's feedback history.

The figures come from :mod:`portal.feedback.places`; both pages run a fixed number of queries
whatever the data size.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..authz import staff_required, visible_or_404
from ..core.nav import nav_item
from ..exports import Column, Kind, export_response, requested_format
from ..htmx import render
from ..pagination import paginate
from ..rentals.models import Room
from ..reporting import half_year_choices, period_from_request
from ..roles import Role
from . import bp, places
from .models import Feedback, FeedbackStatus
from .views import STATUS_BADGE

nav_item("feedback.by_place", _l("Feedback by place"), Role.BUREAU, order=35)


def _building_name(key, name) -> str:
    return name if key != places.NO_BUILDING else _("No building given")


@bp.route("/by-place")
@staff_required
def by_place():
    period, error = period_from_request()
    return render("feedback/by_place.html", "report", period=period, period_error=error,
                  half_years=half_year_choices(period), matrix=places.matrix(period),
                  building_name=_building_name, standout_min=places.STANDOUT_MIN)


@bp.route("/by-place/export")
@staff_required
def by_place_export():
    fmt = requested_format()
    period, error = period_from_request()
    if error:
        abort(400, description=error)
    matrix = places.matrix(period)
    columns = [Column(_("Building")),
               *(Column(category.label, Kind.INT) for category in matrix.categories),
               Column(_("Total"), Kind.INT)]
    rows = [[_building_name(key, name),
             *(matrix.count(key, category.id) for category in matrix.categories),
             matrix.row_total(key)] for key, name in matrix.rows]
    totals = [_("Total"), *(matrix.column_total(category.id) for category in matrix.categories),
              matrix.total]
    return export_response(f"{_('feedback-by-place')}-{period.key}", columns, rows,
                           totals=totals, fmt=fmt)


@bp.route("/rooms/<int:room_id>/history")
@staff_required
def room_history(room_id: int):
    """The feedback about one room, newest first, with its counts per service on top."""
    room = visible_or_404(Room, room_id, selectinload(Room.building))
    stmt = (sa.select(Feedback).where(Feedback.room_id == room.id,
                                      Feedback.status != FeedbackStatus.SPAM)
            .options(selectinload(Feedback.category), selectinload(Feedback.supervisor))
            .order_by(Feedback.submitted_at.desc(), Feedback.id.desc()))
    return render("feedback/room_history.html", "results", room=room, pager=paginate(stmt),
                  counts=places.room_counts(room.id), status_labels=FeedbackStatus.LABELS,
                  status_badge=STATUS_BADGE)


@bp.route("/queue/rooms")
@staff_required
def queue_rooms():
    """The queue filter's room choice for ``?building_id=`` (htmx swaps it in)."""
    return render("feedback/_room_filter.html",
                  **places.filter_context(places.PlaceFilter.from_args(request.args)))
