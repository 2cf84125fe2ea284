"""The waitlist's pages: a client joins, sees their place and leaves; staff manage a venue's."""

from __future__ import annotations

from datetime import date, time

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..authz import role_required, staff_required, visible_or_404
from ..errors import ServiceError, apply_to_form
from ..htmx import redirect_to, render, render_form_errors
from ..i18n import local_today
from ..pagination import paginate
from ..roles import Role
from ..workflow import StaleRecord
from . import bp, pricing, services, waitlist
from .forms import WaitlistForm, WaitlistStepForm
from .models import Venue, WaitlistEntry, WaitlistStatus


def _labels():
    return {"waitlist_labels": WaitlistStatus.LABELS,
            "session_labels": pricing.SESSION_LABELS}


def _time_arg(name: str) -> time | None:
    try:
        return time.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/waitlist/join", methods=["GET", "POST"])
@role_required(Role.CLIENT)
def waitlist_join():
    """Join the waitlist of a taken period (linked from a conflict answer and a venue's
    taken slots, filled in with that venue, day and times)."""
    form = WaitlistForm()
    user = current_user._get_current_object()
    form.venue_id.choices = [(0, "—")] + [
        (v.id, f"{v.name}（{v.building}）")
        for v in services.db.session.scalars(services.venues_stmt(user).where(Venue.active))]
    if request.method == "GET":
        form.venue_id.data = request.args.get("venue_id", type=int)
        try:
            form.day.data = date.fromisoformat(request.args.get("day", ""))
        except ValueError:
            form.day.data = local_today()
        if request.args.get("session") in pricing.SESSION_LABELS:
            form.session.data = request.args["session"]
        form.start.data, form.end.data = _time_arg("start"), _time_arg("end")
        form.headcount.data = request.args.get("headcount", type=int)
    free_link = None
    if form.validate_on_submit():
        start, end = form.times()
        try:
            entry = waitlist.join(user, waitlist.WaitlistInput(
                venue_id=form.venue_id.data or 0, day=form.day.data, session=form.session.data,
                start=start, end=end, headcount=form.headcount.data, title=form.title.data))
        except waitlist.SlotIsFree as error:
            free_link = error.link
            form.form_errors.append(error.message)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("You are on the waitlist: number %(place)d in the queue. We will write to "
                    "you when the time is freed.", place=waitlist.place_of(entry) or 1),
                  "success")
            return redirect_to(url_for("bookings.waitlist_mine"))
    context = {"form": form, "free_link": free_link, **_labels()}
    if request.method == "POST":
        return render_form_errors("bookings/waitlist_join.html", "form", **context)
    return render("bookings/waitlist_join.html", **context)


@bp.route("/waitlist")
@role_required(Role.CLIENT)
def waitlist_mine():
    """A client's waitlist entries with their place in each queue."""
    return _mine_page()


def _mine_page(status: int = 200):
    pager = paginate(waitlist.mine_stmt(current_user._get_current_object()))
    return render("bookings/waitlist_mine.html", "results", pager=pager, status=status,
                  step_form=WaitlistStepForm(formdata=None), **_labels())


@bp.route("/waitlist/<int:entry_id>/<action>", methods=["POST"])
@role_required(Role.CLIENT, Role.STAFF, Role.ADMIN)
def waitlist_step(entry_id: int, action: str):
    """Leave (the client) or remove (staff, with a reason) one entry."""
    entry = visible_or_404(WaitlistEntry, entry_id)  # another client's entry: 404
    if action not in ("leave", "remove"):
        abort(404)
    form = WaitlistStepForm()
    if not form.validate_on_submit():
        abort(400)
    user = current_user._get_current_object()
    expected = form.expected_status.data or None
    is_staff = user.role in services.STAFF
    venue_id = entry.venue_id
    try:
        if action == "leave":
            waitlist.leave(user, entry, expected=expected)
        else:
            waitlist.remove(user, entry, form.reason.data or "", expected=expected)
    except ServiceError as error:
        services.db.session.rollback()
        flash(error.message, "danger")  # the list, as it is now, says why
        status = 409 if isinstance(error, StaleRecord) or error.field is None else 422
        if is_staff:
            return _venue_page(visible_or_404(Venue, venue_id), status=status)
        return _mine_page(status=status)
    flash(_("The entry is off the waitlist."), "success")
    return redirect_to(url_for("bookings.waitlist_venue", venue_id=venue_id) if is_staff
                       else url_for("bookings.waitlist_mine"))


@bp.route("/<int:venue_id>/waitlist")
@staff_required
def waitlist_venue(venue_id: int):
    """A venue's waitlist for staff: who waits for which period, in queue order."""
    return _venue_page(visible_or_404(Venue, venue_id))


def _venue_page(venue: Venue, status: int = 200):
    everything = request.args.get("all") == "1"
    pager = paginate(waitlist.venue_stmt(venue.id, everything=everything))
    return render("bookings/waitlist_venue.html", "results", venue=venue, pager=pager,
                  everything=everything, step_form=WaitlistStepForm(formdata=None),
                  status=status, **_labels())
