from __future__ import annotations

import calendar
import functools
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..audit.services import history_for
from ..authz import role_required, staff_required, visible_or_404
from ..errors import ServiceError, apply_to_form
from ..htmx import is_htmx, redirect_to, render, render_form_errors, trigger
from ..i18n import local_today, money, translated
from ..page_cache import cached_page
from ..pages import sections_for
from ..pagination import paginate
from ..roles import Role
from ..security import safe_next
from ..workflow import StaleRecord
from . import bp, grid, pricing, services
from .forms import (
    BlackoutForm,
    BookingForm,
    CheckInForm,
    DecisionForm,
    SearchForm,
    SeriesForm,
    StaffBookingForm,
)
from .models import (
    QUEUE_KEY,
    Booking,
    BookingSeries,
    BookingStatus,
    Equipment,
    Layout,
    Venue,
    client_key,
    day_key,
    month_key,
    venue_day_key,
)

# What a client's form never carries; sending it anyway is refused, not ignored.
STAFF_ONLY_FIELDS = ("rate_kind", "department", "category", "status", "quote_total_fen", "price",
                     "final_total_fen", "approved_quote")


def _today() -> date:
    return local_today()


def _user():
    return current_user._get_current_object() if current_user.is_authenticated else None


def _labels():
    return _labels_in(str(get_locale()))


@functools.lru_cache(maxsize=8)
def _labels_in(locale: str) -> dict:
    """The labels the booking pages show, translated once a language (four tables of lazy
    strings were a twentieth of the grid's calls); read-only, shared by every request."""
    return {"layout_labels": translated(Layout.LABELS),
            "equipment_labels": translated(Equipment.LABELS),
            "status_labels": translated(BookingStatus.LABELS),
            "session_labels": translated(pricing.SESSION_LABELS)}


# --- browsing without an account ---------------------------------------------------------------


def _search_keys() -> list[str]:
    """The venue list is shared data; a search also follows every venue's day it looks at."""
    try:
        return [day_key(date.fromisoformat(request.args.get("day", "")))]
    except ValueError:
        return []


@bp.route("/")
@cached_page(bookings=_search_keys)
def venues():
    form = SearchForm(request.args)
    results = None
    if "day" in request.args and form.validate():  # a search: its errors beside its fields
        start, end = pricing.SESSIONS.get(form.session.data, (form.start.data, form.end.data))
        for field, value, message in ((form.day, form.day.data, _("Choose a date.")),
                                      (form.start, start, _("Enter a time.")),
                                      (form.end, end, _("Enter a time."))):
            if value is None:
                field.errors = [message]
        if form.day.data and start and end:
            try:
                services.check_times(form.day.data, start, end, form.session.data)
            except services.SlotError as error:
                getattr(form, error.part).errors = [error.message]
            else:
                results = services.free_venues(
                    form.day.data, start, end, form.headcount.data or 1,
                    form.layout.data or None, tuple(form.equipment.data or ()), user=_user())
    # The full list only when no search results are shown (it is the page's other half).
    all_venues = [] if results is not None else list(services.db.session.scalars(
        services.venues_stmt(_user()).where(Venue.active)))
    status = 422 if any(field.errors for field in form) else 200
    return render("bookings/venues.html", "search", status=status, form=form, results=results,
                  venues=all_venues, **_labels())


def _overview_month() -> date:
    try:
        return date.fromisoformat(request.args.get("month", "") + "-01")
    except ValueError:
        return _today().replace(day=1)


@bp.route("/overview")
@cached_page(bookings=lambda: [month_key(_overview_month())])
def overview():
    """The month at a glance: every venue, every day (a plain table that scrolls on phones)."""
    first = _overview_month()
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    venues, counts, total = services.month_overview(_user(), first, page)
    days = [first + timedelta(days=n)
            for n in range(calendar.monthrange(first.year, first.month)[1])]
    previous = (first - timedelta(days=1)).replace(day=1)
    following = first + timedelta(days=len(days))
    pages = max(1, -(-total // services.OVERVIEW_PAGE))
    # Everything a cell shows is prepared here, once per page: a row per venue with its
    # link and each day's count, the days' ISO dates and header classes, one title per
    # distinct count (the template then calls nothing per cell: no gettext, no date format).
    today = _today()
    rows = [(venue, url_for("bookings.venue", venue_id=venue.id),
             [counts.get((venue.id, day), 0) for day in days]) for venue in venues]
    titles = {n: _("%(n)d booked periods", n=n)
              for n in {n for *_head, cells in rows for n in cells if n}}
    heads = [(day.day, ("today" if day == today else "")
              + (" weekend" if day.weekday() >= 5 else "")) for day in days]
    return render("bookings/overview.html", "grid", rows=rows, titles=titles, heads=heads,
                  iso_days=[day.isoformat() for day in days], first=first,
                  previous=previous, following=following, page=min(page, pages), pages=pages)


@bp.route("/grid")
@cached_page("bookings")
def grid_page():
    """The day (half hours) or week (sessions) grid of all venues; a free cell books it."""
    day, message = grid.parse_day(request.args.get("date"))
    view = request.args.get("view", "day")
    filters = grid.parse_filters(request.args)
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    result = grid.build_grid(_user(), view, day, filters, page)
    step = timedelta(days=7 if result.view == "week" else 1)
    first, last = grid.grid_range()
    return render("bookings/grid.html", "grid", grid=result, filters=filters,
                  message=message, today=_today(),
                  previous=max(day - step, first), following=min(day + step, last),
                  first_day=first, last_day=last, **_labels())


def _week_start(text: str | None) -> date:
    try:
        day = date.fromisoformat(text) if text else _today()
    except ValueError:
        day = _today()
    return day - timedelta(days=day.weekday())


def _calendar_period() -> tuple[str, date, int, date, date]:
    """The calendar the request asks for: its view, first day, number of days, and the first
    days of the periods before and after."""
    view = request.args.get("view", "week")
    if view not in ("day", "week", "month"):
        view = "week"
    try:
        anchor = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        anchor = _today()
    if view == "day":
        first, days = anchor, 1
        previous, following = anchor - timedelta(days=1), anchor + timedelta(days=1)
    elif view == "week":
        first, days = anchor - timedelta(days=anchor.weekday()), 7
        previous, following = first - timedelta(days=7), first + timedelta(days=7)
    else:
        first = anchor.replace(day=1)
        days = calendar.monthrange(first.year, first.month)[1]
        previous = (first - timedelta(days=1)).replace(day=1)
        following = first + timedelta(days=days)
    return view, first, days, previous, following


def _calendar_keys(venue_id: int) -> list[str]:
    """A venue's calendar follows that venue's days it shows (and the shared venue data)."""
    _, first, days, _, _ = _calendar_period()
    return [venue_day_key(venue_id, first + timedelta(days=n)) for n in range(days)]


@bp.route("/<int:venue_id>")
@cached_page(bookings=_calendar_keys)
def venue(venue_id: int):
    item = visible_or_404(Venue, venue_id)
    view, first, days, previous, following = _calendar_period()
    slots = services.calendar_slots(item, first, days)
    zone = services.local_zone()
    by_day: dict[date, list] = {first + timedelta(days=n): [] for n in range(days)}
    for slot in slots:
        day = slot.starts_at.astimezone(zone).date()
        if day in by_day:
            by_day[day].append(slot)
    return render("bookings/venue.html", "calendar", venue=item, view=view, by_day=by_day,
                  first=first, previous=previous, following=following, today=_today(),
                  zone=zone, **_labels())


# --- requesting ------------------------------------------------------------------------------


def _booking_form():
    is_staff = current_user.role in services.STAFF
    form = (StaffBookingForm if is_staff else BookingForm)()
    venues = list(services.db.session.scalars(
        services.venues_stmt(_user()).where(Venue.active)))
    venue_choices = [(0, "—")] + [(v.id, f"{v.name}（{v.building}）") for v in venues]
    for entry in form.slots:
        entry.form.venue_id.choices = venue_choices
    options = services.catering_options()
    for field, kind in ((form.meal_option, "meal"), (form.tea_option, "tea_break"),
                        (form.banquet_option, "banquet")):
        field.choices = [(0, _("None"))] + [
            (o.id, f"{o.name} · {money(o.unit_price_fen)}") for o in options if o.kind == kind]
    return form, venue_choices


def _catering_day_choices(form) -> None:
    """Each catering kind is served every day or on one of the days of the slots (as posted,
    or as filled in); a day chosen before the slots changed stays listed, to be refused."""
    days = sorted({entry.form.day.data for entry in form.slots if entry.form.day.data})
    for field in (form.meal_day, form.tea_break_day, form.banquet_day):
        chosen = [field.data] if field.data and field.data not in days else []
        field.choices = [("", _("Every day"))] + [
            (day.isoformat(), format_date(day, "full")) for day in sorted(days + chosen)]


def _to_input(form) -> services.BookingInput:
    slots = []
    for entry in form.slots:
        sub = entry.form
        start, end = sub.times()
        if sub.venue_id.data and sub.day.data and start and end:
            slots.append(services.SlotInput(sub.venue_id.data, sub.day.data, sub.session.data,
                                            start, end))
    headcount = form.headcount.data or 0
    catering = []
    if form.meal_option.data and form.meals.data:
        catering.append(services.CateringInput(form.meal_option.data, headcount, form.meals.data,
                                               form.meal_day.data))
    if form.tea_option.data and form.tea_breaks.data:
        catering.append(services.CateringInput(form.tea_option.data, headcount,
                                               form.tea_breaks.data, form.tea_break_day.data))
    if form.banquet_option.data and form.banquet_tables.data:
        catering.append(services.CateringInput(form.banquet_option.data,
                                               form.banquet_tables.data,
                                               day=form.banquet_day.data))
    data = services.BookingInput(
        title=form.title.data or "", headcount=headcount, layout=form.layout.data,
        slots=slots, purpose=form.purpose.data or "", equipment=list(form.equipment.data or []),
        catering=catering, notes=form.notes.data or "", contact_phone=form.contact_phone.data or "")
    if isinstance(form, StaffBookingForm):
        data.rate_kind = form.rate_kind.data
        data.department = form.department.data or ""
        data.category = form.category.data or ""
    return data


def _prefill(form) -> None:
    """Arriving from a venue page or the search: start with that venue, day and session."""
    if request.method != "GET":
        return
    entry = form.slots[0].form
    entry.venue_id.data = request.args.get("venue_id", type=int)
    try:
        entry.day.data = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        entry.day.data = _today() + timedelta(days=7)
    session = request.args.get("session")
    if session in pricing.SESSION_LABELS:
        entry.session.data = session
    try:  # a run of cells of the grid: its hours
        start = time.fromisoformat(request.args.get("start", ""))
        end = time.fromisoformat(request.args.get("end", ""))
    except ValueError:
        start = end = None
    if start is not None and end is not None and start < end:
        session = next((name for name, hours in pricing.SESSIONS.items()
                        if hours == (start, end)), "custom")
        entry.session.data = session
        entry.start.data, entry.end.data = start, end
    if request.args.get("headcount", type=int):
        form.headcount.data = request.args.get("headcount", type=int)


BOOKERS = (Role.CLIENT, Role.STAFF, Role.ADMIN)


@bp.route("/book", methods=["GET", "POST"])
@role_required(*BOOKERS)
def book():
    return _booking_page(None)


@bp.route("/bookings/<int:booking_id>/edit", methods=["GET", "POST"])
@role_required(*BOOKERS)
def edit(booking_id: int):
    booking = visible_or_404(Booking, booking_id)
    if not services.can_change(current_user._get_current_object(), booking):
        flash(_("This booking can no longer be changed online; please call the conference "
                "center."), "warning")
        return redirect_to(url_for("bookings.detail", booking_id=booking.id))
    return _booking_page(booking)


def _fill_form(form, booking: Booking) -> None:
    """Put an existing booking into the (unsubmitted) form."""
    data = services.booking_input(booking)
    form.title.data, form.headcount.data, form.layout.data = (data.title, data.headcount,
                                                              data.layout)
    form.purpose.data, form.equipment.data = data.purpose, data.equipment
    form.notes.data, form.contact_phone.data = data.notes, data.contact_phone
    while len(form.slots) < len(data.slots):
        form.slots.append_entry()
    for entry, slot in zip(form.slots, data.slots, strict=False):
        entry.form.venue_id.data, entry.form.day.data = slot.venue_id, slot.day
        entry.form.session.data = slot.session
        entry.form.start.data, entry.form.end.data = slot.start, slot.end
    kinds = {item.kind: item for item in booking.catering}
    if "meal" in kinds:
        form.meal_option.data, form.meals.data = kinds["meal"].option_id, kinds["meal"].times
        form.meal_day.data = kinds["meal"].day
    if "tea_break" in kinds:
        form.tea_option.data = kinds["tea_break"].option_id
        form.tea_breaks.data = kinds["tea_break"].times
        form.tea_break_day.data = kinds["tea_break"].day
    if "banquet" in kinds:
        form.banquet_option.data = kinds["banquet"].option_id
        form.banquet_tables.data = kinds["banquet"].quantity
        form.banquet_day.data = kinds["banquet"].day
    if isinstance(form, StaffBookingForm):
        form.department.data, form.rate_kind.data = booking.department, booking.rate_kind
        form.category.data = booking.category


def _booking_page(booking: Booking | None):
    """The request form, for a new booking or to change one (one page, one set of rules)."""
    form, venue_choices = _booking_form()
    if booking is None:
        _prefill(form)
    elif request.method == "GET":
        _fill_form(form, booking)
        for entry in form.slots:
            entry.form.venue_id.choices = venue_choices
    action = (url_for("bookings.edit", booking_id=booking.id) if booking
              else url_for("bookings.book"))
    conflict = None
    context = {"form": form, "venue_choices": venue_choices, "booking": booking,
               "action": action, **_labels()}
    if request.method == "POST" and "add_slot" in request.form:
        form.slots.append_entry()
        form.slots[-1].form.venue_id.choices = venue_choices
        _catering_day_choices(form)
        return render("bookings/book.html", "form", quote=None, conflict=None, **context)
    if request.method == "POST" and "refresh_catering" in request.form:
        # htmx, when a slot changes: the catering days follow the slots (nothing is saved).
        _catering_day_choices(form)
        return render("bookings/book.html", "catering", quote=None, conflict=None, **context)
    if form.validate_on_submit():
        forbidden = [name for name in STAFF_ONLY_FIELDS if name in request.form]
        user = current_user._get_current_object()
        if user.role == Role.CLIENT and forbidden:
            form.form_errors.append(_("These fields are set by bureau staff only: %(fields)s",
                                      fields=", ".join(forbidden)))
        else:
            try:
                if booking is None:
                    saved = services.request_booking(user, _to_input(form))
                    message = _("Your request %(ref)s is registered; the slots are held for you "
                                "until staff decide.", ref=saved.reference)
                else:
                    saved = services.change_booking(user, booking, _to_input(form))
                    message = _("Booking %(ref)s is changed.", ref=saved.reference)
            except services.BookingConflict as error:
                conflict = error
                form.form_errors.append(error.message)
            except ServiceError as error:
                apply_to_form(form, error)
            else:
                flash(message, "success")
                return redirect_to(url_for("bookings.detail", booking_id=saved.id))
    quote = services.preview_quote(current_user._get_current_object(), _to_input(form))
    _catering_day_choices(form)
    if request.method == "POST":
        return render_form_errors("bookings/book.html", "form", quote=quote, conflict=conflict,
                                  **context)
    return render("bookings/book.html", quote=quote, conflict=conflict, **context)


@bp.route("/quote", methods=["POST"])
@role_required(*BOOKERS)
def quote():
    """The live quote while the form is filled in (htmx), computed on the server."""
    form, _choices = _booking_form()
    form.validate()
    result = services.preview_quote(current_user._get_current_object(), _to_input(form))
    return render("bookings/_quote.html", quote=result)


# --- one booking -----------------------------------------------------------------------------


@bp.route("/bookings/<int:booking_id>")
@login_required
def detail(booking_id: int):
    return _detail_page(visible_or_404(Booking, booking_id))


def _detail_page(booking: Booking, decision: DecisionForm | None = None,
                 failed_action: str | None = None, status: int = 200):
    user = current_user._get_current_object()
    if decision is None:
        decision = DecisionForm(formdata=None)
        decision.deposit_due_on.data = services.default_deposit_due()
        decision.actual_headcount.data = booking.headcount
    return render("bookings/detail.html", booking=booking,
                  actions=services.actions_for(user, booking), decision=decision,
                  failed_action=failed_action, can_change=services.can_change(user, booking),
                  history=history_for(booking) if user.role in services.STAFF else None,
                  cutoff=services.cancel_cutoff(booking), status=status,
                  **sections_for("bookings.booking", booking, user), **_labels())


@bp.route("/bookings/<int:booking_id>/<action>", methods=["POST"])
@login_required
def act(booking_id: int, action: str):
    booking = visible_or_404(Booking, booking_id)
    if action not in services.WORKFLOW.transitions or action == "check_in":
        abort(404)  # check-in has its own form (check_in below)
    form = DecisionForm()
    inline = is_htmx() and request.form.get("back") == "queue"
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _detail_page(booking, form, action, status=422)
    details = {
        "deposit_fen": (form.deposit_yuan.data or 0) * 100,
        "deposit_due_on": form.deposit_due_on.data,
        "actual_headcount": form.actual_headcount.data,
        "extras_fen": (form.extras_yuan.data or 0) * 100,
    }
    try:
        booking = services.transition(booking, action, current_user._get_current_object(),
                                      reason=form.reason.data or "",
                                      expected=form.expected_status.data or None, **details)
    except ServiceError as error:
        services.db.session.rollback()
        booking = visible_or_404(Booking, booking_id)  # the page shows the latest state
        code = 409 if isinstance(error, StaleRecord) or error.field is None else 422
        if inline:  # the queue's row: say why beside nothing else changing
            return render("bookings/_alert_row.html", message=error.message, booking=booking,
                          status=code)
        if error.field is not None and hasattr(form, error.field):
            apply_to_form(form, error)
        else:
            flash(error.message, "danger")
        return _detail_page(booking, form, action, status=code)
    if inline:
        # The queue's row is swapped for its new state (htmx); the page stays where it was.
        return trigger(render("bookings/_booking_row.html", booking=booking, selectable=True,
                              **_labels()), "bookingChanged", {"id": booking.id})
    flash(_("Booking %(ref)s: %(status)s.", ref=booking.reference,
            status=BookingStatus.LABELS[booking.status]), "success")
    if request.form.get("back") == "queue" and current_user.role in services.STAFF:
        return redirect_to(url_for("bookings.queue"))
    return redirect_to(url_for("bookings.detail", booking_id=booking_id))


@bp.route("/bookings/<int:booking_id>/check-in", methods=["GET", "POST"])
@staff_required
def check_in(booking_id: int):
    """Record the guests' arrival (from the grid's block or the run sheet, on a phone)."""
    booking = visible_or_404(Booking, booking_id)
    form = CheckInForm()
    back = safe_next(request.values.get("next"),
                     url_for("bookings.detail", booking_id=booking.id))
    if request.method == "GET":
        form.arrived_time.data = datetime.now(services.local_zone()).time().replace(
            second=0, microsecond=0)
        form.arrived_headcount.data = booking.headcount
        form.next.data = back
    status = 200
    if form.validate_on_submit():
        try:
            services.check_in(booking, current_user._get_current_object(), services.Arrival(
                form.arrived_time.data, form.arrived_headcount.data, form.arrival_extras.data),
                expected=form.expected_status.data or None)
        except ServiceError as error:
            services.db.session.rollback()
            booking = visible_or_404(Booking, booking_id)
            status = 409 if isinstance(error, StaleRecord) else 422
            if error.field is not None and hasattr(form, error.field):
                apply_to_form(form, error)
            else:
                form.form_errors.append(error.message)
        else:
            flash(_("Booking %(ref)s: the guests are checked in.", ref=booking.reference),
                  "success")
            return redirect_to(back)
    elif request.method == "POST":
        status = 422
    allowed = services.WORKFLOW.can(booking, current_user._get_current_object(), "check_in")
    return render("bookings/check_in.html", "form", status=status, booking=booking, form=form,
                  allowed=allowed, back=back, **_labels())


# --- lists -----------------------------------------------------------------------------------


@bp.route("/bookings/mine")
@role_required(Role.CLIENT)
@cached_page("people", bookings=lambda: [client_key(current_user.id)])
def mine():
    """A client's bookings; the home page's work list opens it filtered: ``status=requested``
    (waiting for a decision), ``upcoming=1`` (approved, still to begin)."""
    status = request.args.get("status", "")
    status = status if status in BookingStatus.ALL else ""
    upcoming = request.args.get("upcoming") == "1"
    pager = paginate(services.bookings_stmt(current_user._get_current_object(), status=status,
                                            upcoming=upcoming))
    return render("bookings/mine.html", "results", pager=pager,
                  filters={"status": status, "upcoming": upcoming}, **_labels())


def _queue_filters():
    args = request.args
    status = args.get("status", BookingStatus.REQUESTED)
    if status not in BookingStatus.ALL and status != "all":
        status = BookingStatus.REQUESTED
    try:
        on_day = date.fromisoformat(args.get("day", "")) if args.get("day") else None
    except ValueError:
        on_day = None
    return {"status": status, "venue_id": args.get("venue_id", type=int), "day": on_day,
            "client": args.get("client", "").strip(), "expiring": args.get("expiring") == "1"}


@bp.route("/queue")
@staff_required
@cached_page("people", bookings=lambda: [QUEUE_KEY])  # any booking may enter any filter
def queue():
    filters = _queue_filters()
    stmt = services.bookings_stmt(
        current_user._get_current_object(),
        status="" if filters["status"] == "all" else filters["status"],
        venue_id=filters["venue_id"], on_day=filters["day"], client=filters["client"],
        expiring=filters["expiring"])
    pager = paginate(stmt)
    all_venues = services.db.session.execute(  # names only: the filter's choices
        sa.select(Venue.id, Venue.name).where(Venue.visible_to(current_user))
        .order_by(Venue.building, Venue.code)).all()
    return render("bookings/queue.html", "results", pager=pager, filters=filters,
                  venues=all_venues, decision=DecisionForm(), **_labels())


@bp.route("/queue/approve", methods=["POST"])
@staff_required
def bulk_approve():
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    ids = request.form.getlist("booking_id", type=int)
    approved, refused = 0, []
    user = current_user._get_current_object()
    for booking_id in ids:
        booking = visible_or_404(Booking, booking_id)
        try:
            services.transition(booking, "approve", user)
            approved += 1
        except ServiceError:
            refused.append(booking.reference)
    flash(_("%(n)d bookings approved.", n=approved), "success")
    if refused:
        flash(_("Not approved (no longer waiting): %(refs)s", refs=", ".join(refused)), "warning")
    return redirect_to(url_for("bookings.queue"))


# --- blackouts -------------------------------------------------------------------------------


@bp.route("/blackouts", methods=["GET", "POST"])
@staff_required
def blackouts():
    form = BlackoutForm()
    venue_list = list(services.db.session.scalars(services.venues_stmt(current_user)))
    form.venue_id.choices = [(0, _("The whole center"))] + [(v.id, v.name) for v in venue_list]
    if form.validate_on_submit():
        zone = services.local_zone()
        starts = datetime.combine(form.starts_on.data, time.min, tzinfo=zone)
        ends = datetime.combine(form.ends_on.data + timedelta(days=1), time.min, tzinfo=zone)
        try:
            services.create_blackout(form.venue_id.data or None, starts, ends, form.reason.data)
        except ServiceError as error:
            if error.field == "ends_at":
                error.field = "ends_on"
            elif error.field == "starts_at":
                error.field = "starts_on"
            apply_to_form(form, error)
        else:
            flash(_("The blackout is saved."), "success")
            return redirect_to(url_for("bookings.blackouts"))
    items = services.upcoming_blackouts()
    context = {"form": form, "blackouts": items}
    if request.method == "POST":
        return render_form_errors("bookings/blackouts.html", "form", **context)
    return render("bookings/blackouts.html", **context)


@bp.app_template_filter("quote_detail")
def quote_detail(line) -> str:
    """A quote line's details: a venue's date and hours; for catering the unit price in yuan
    times the quantity (times per person), and the day it is served on or the days an "every
    day" line is counted for (e.g. "¥25.00 × 200 × 1 × 2 days (every day)").  ``line`` is a
    :class:`~portal.bookings.pricing.QuoteLine` or one frozen as a dict at approval."""
    if isinstance(line, dict):
        line = pricing.QuoteLine.from_dict(line)
    if line.kind == "venue":
        return line.detail
    parts = [money(line.unit_price_fen), str(line.quantity)]
    if line.kind != pricing.CateringKind.BANQUET:
        parts.append(str(line.times))
    text = " × ".join(parts)
    if line.day is not None:
        return f"{text} · {format_date(line.day)}"
    if line.days > 1:
        return f"{text} × " + _("%(n)d days (every day)", n=line.days)
    return text



# --- recurring meetings, the run sheet and the canteen's summary -------------------------------


@bp.route("/series/new", methods=["GET", "POST"])
@staff_required
def series_new():
    form = SeriesForm()
    form.venue_id.choices = [(v.id, v.name) for v in services.db.session.scalars(
        services.venues_stmt(current_user).where(Venue.active))]
    if form.validate_on_submit():
        data = services.SeriesInput(
            title=form.title.data, department=form.department.data,
            venue_id=form.venue_id.data, weekday=form.weekday.data, start=form.start.data,
            end=form.end.data, first_day=form.first_day.data, last_day=form.last_day.data,
            headcount=form.headcount.data, layout=form.layout.data,
            rate_kind=form.rate_kind.data, skip_conflicts=form.skip_conflicts.data)
        try:
            series = services.create_series(current_user._get_current_object(), data)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The recurring meeting is booked: %(n)d dates.", n=len(series.bookings)),
                  "success")
            return redirect_to(url_for("bookings.series_detail", series_id=series.id))
    if request.method == "POST":
        return render_form_errors("bookings/series_new.html", "form", form=form)
    return render("bookings/series_new.html", form=form)


@bp.route("/series/<int:series_id>")
@staff_required
def series_detail(series_id: int):
    series = visible_or_404(BookingSeries, series_id)
    return render("bookings/series.html", series=series, **_labels())


def _day_arg() -> date:
    try:
        return date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        return _today()


@bp.route("/runsheet")
@staff_required
def runsheet():
    day = _day_arg()
    rows = services.run_sheet(day)
    user = current_user._get_current_object()
    checkable = {slot.booking_id for slot, _items in rows
                 if services.WORKFLOW.can(slot.booking, user, "check_in")}
    return render("bookings/runsheet.html", day=day, rows=rows, checkable=checkable,
                  previous=day - timedelta(days=1), following=day + timedelta(days=1),
                  **_labels())


@bp.route("/catering")
@staff_required
def catering():
    day = _day_arg()
    bookings, totals = services.catering_summary(day)
    return render("bookings/catering.html", day=day, bookings=bookings, totals=totals,
                  previous=day - timedelta(days=1), following=day + timedelta(days=1),
                  **_labels())
