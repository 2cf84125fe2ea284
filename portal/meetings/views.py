"""Joint meeting pages (staff and admins only): list, plan, agenda, minutes, actions."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, g, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..authz import staff_required, visible_or_404
from ..bookings.models import Venue, booking_key
from ..bookings.pricing import SESSION_LABELS
from ..bookings.services import BookingConflict, venues_stmt
from ..core.nav import nav_item
from ..errors import NotAllowed, ServiceError, apply_to_form
from ..extensions import db
from ..feedback.models import Feedback, FeedbackStatus, item_key
from ..forms import select_choices
from ..htmx import is_htmx, redirect_to, render, render_form_errors
from ..i18n import format_datetime_local, local_zone
from ..markdown import render_markdown
from ..page_cache import cached_page
from ..pagination import paginate
from ..roles import Role
from ..suppliers.models import Supplier
from ..workflow import StaleRecord
from . import bp, services
from .forms import (
    ActionForm,
    AgendaItemForm,
    AttendeeForm,
    MeetingForm,
    MinutesForm,
    ReasonForm,
    ResolveForm,
    SummaryForm,
)
from .links import supplier_condition
from .models import (
    ACTION_FLOW,
    MEETING_FLOW,
    ActionItem,
    ActionStatus,
    AgendaItem,
    AgendaKind,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
    action_feedback,
    meeting_key,
    missing_owners,
)

nav_item("meetings.meetings", _l("Supplier meetings"), ("staff", "admin"), order=42)
nav_item("meetings.actions", _l("Action items"), ("staff", "admin"), order=43)

STATUS_BADGE = {MeetingStatus.PLANNED: "", MeetingStatus.HELD: "warning",
                MeetingStatus.PUBLISHED: "good", MeetingStatus.CANCELLED: "danger"}


def _actor():
    return current_user._get_current_object()


def _labels() -> dict:
    return {"status_labels": MeetingStatus.LABELS, "status_badge": STATUS_BADGE,
            "action_labels": ActionStatus.LABELS, "kind_labels": AgendaKind.LABELS,
            "feedback_labels": FeedbackStatus.LABELS, "today": services.today(),
            # who may open the feedback items an agenda or action item answers
            "opens_feedback": current_user.role in Role.BUREAU}


def _meeting(meeting_id: int) -> Meeting:
    """A meeting with everything its page shows, in a fixed number of queries."""
    return visible_or_404(
        Meeting, meeting_id,
        selectinload(Meeting.suppliers).selectinload(Supplier.contacts),
        selectinload(Meeting.attendees).selectinload(MeetingAttendee.user),
        selectinload(Meeting.attendees).selectinload(MeetingAttendee.supplier),
        selectinload(Meeting.agenda).selectinload(AgendaItem.feedback)
        .selectinload(Feedback.category),
        selectinload(Meeting.agenda).selectinload(AgendaItem.carried_action)
        .selectinload(ActionItem.meeting),
        selectinload(Meeting.agenda).selectinload(AgendaItem.supplier),
        selectinload(Meeting.actions).selectinload(ActionItem.feedback),
        selectinload(Meeting.actions).selectinload(ActionItem.supplier),
        selectinload(Meeting.revisions),
        selectinload(Meeting.booking))


def _staff_pairs() -> list[tuple]:
    return [(user.id, user.name) for user in services.staff_accounts()]


def _supplier_choices():
    return select_choices(db.session.execute(
        sa.select(Supplier.id, Supplier.name).order_by(Supplier.name)).all())


# --- list and planning ------------------------------------------------------------------------


@bp.route("/")
@staff_required
def meetings():
    status = request.args.get("status", "")
    status = status if status in MeetingStatus.ALL else ""
    stmt = sa.select(Meeting).options(selectinload(Meeting.suppliers)) \
        .order_by(Meeting.starts_at.desc(), Meeting.id.desc())
    if status:
        stmt = stmt.where(Meeting.status == status)
    supplier_id = request.args.get("supplier", type=int) or None
    if supplier_id:
        stmt = stmt.where(supplier_condition(supplier_id))
    pager = paginate(stmt)
    return render("meetings/meetings.html", "results", pager=pager, status_filter=status,
                  supplier_filter=supplier_id,
                  suppliers=[(choice.value, choice.label) for choice in _supplier_choices()],
                  **_labels())


def _booking_label(booking) -> str:
    return _("%(reference)s %(title)s (%(when)s)", reference=booking.reference,
             title=booking.title, when=format_datetime_local(booking.starts_at))


def _meeting_form(meeting: Meeting | None) -> MeetingForm:
    form = MeetingForm()
    form.supplier_ids.choices = _supplier_choices()
    form.staff_ids.choices = select_choices(_staff_pairs())
    form.booking_id.choices = select_choices(
        [(0, _("None")), *((b.id, _booking_label(b)) for b in services.booking_choices())])
    form.venue_id.choices = select_choices(
        [(0, "—"), *((v.id, f"{v.name}（{v.building}）") for v in db.session.scalars(
            venues_stmt(_actor()).where(Venue.active)))])
    if meeting is not None and request.method == "GET":
        start = meeting.starts_at.astimezone(local_zone())
        form.title.data, form.location.data = meeting.title, meeting.location
        form.day.data, form.start.data = start.date(), start.time()
        form.end.data = meeting.ends_at.astimezone(local_zone()).time()
        form.booking_id.data = meeting.booking_id or 0
        form.supplier_ids.data = [s.id for s in meeting.suppliers]
        form.chair.data, form.recorder.data = meeting.chair, meeting.recorder
        if meeting.booking_id and meeting.booking_id not in {c.value for c in
                                                             form.booking_id.choices}:
            form.booking_id.choices.append(
                select_choices([(meeting.booking_id, meeting.booking.title)])[0])
    elif meeting is None and request.method == "GET":
        form.supplier_ids.data = request.args.getlist("supplier_ids", type=int)
        form.staff_ids.data = [current_user.id]
    return form


def _meeting_input(form: MeetingForm) -> services.MeetingInput:
    return services.MeetingInput(
        title=form.title.data or "", day=form.day.data, start=form.start.data,
        end=form.end.data, location=form.location.data or "",
        booking_id=form.booking_id.data or None, supplier_ids=form.supplier_ids.data or [],
        staff_ids=form.staff_ids.data or [], chair=form.chair.data or "",
        recorder=form.recorder.data or "", venue_id=form.venue_id.data or None,
        book_room=bool(form.book_room.data))


def _show_refusal(form: MeetingForm, error: ServiceError):
    """Every problem beside its field; a taken room is explained as on the booking form
    (which booking or closure, what is free instead), returned for the venue's field."""
    apply_to_form(form, error)
    return error if isinstance(error, BookingConflict) else None


def _proposals(supplier_ids: list[int]) -> dict:
    proposals = services.prefill_proposals(supplier_ids)
    names = dict(db.session.execute(sa.select(Supplier.id, Supplier.name).where(
        Supplier.id.in_(supplier_ids or [0]))).all())
    return {"proposals": proposals, "supplier_names": names}


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def meeting_new():
    form = _meeting_form(None)
    conflict = None
    if form.validate_on_submit():
        try:
            meeting = services.create_meeting(_actor(), _meeting_input(form))
        except ServiceError as error:
            conflict = _show_refusal(form, error)
        else:
            flash(_("The meeting is planned; its agenda is pre-filled."), "success")
            return redirect_to(url_for("meetings.meeting", meeting_id=meeting.id))
    context = {"form": form, "meeting": None, "conflict": conflict,
               "session_labels": SESSION_LABELS, **_labels(),
               **_proposals(form.supplier_ids.data or [])}
    if request.method == "POST":
        return render_form_errors("meetings/meeting_form.html", "form", **context)
    return render("meetings/meeting_form.html", **context)


@bp.route("/prefill")
@staff_required
@cached_page("meetings", "suppliers", "feedback", "surveys", "bookings")
def prefill():
    """The agenda the pre-fill proposes for these suppliers (the new-meeting form's preview)."""
    ids = request.args.getlist("supplier_ids", type=int)[:50]
    return render("meetings/_prefill.html", **_labels(), **_proposals(ids))


@bp.route("/<int:meeting_id>/edit", methods=["GET", "POST"])
@staff_required
def meeting_edit(meeting_id: int):
    meeting = _meeting(meeting_id)
    form = _meeting_form(meeting)
    if meeting.status != MeetingStatus.PLANNED:
        flash(_("Only a planned meeting can be changed."), "warning")
        return redirect_to(url_for("meetings.meeting", meeting_id=meeting.id))
    conflict = None
    if form.validate_on_submit():
        try:
            services.update_meeting(meeting, _meeting_input(form), _actor())
        except ServiceError as error:
            conflict = _show_refusal(form, error)
        else:
            flash(_("The meeting is saved."), "success")
            return redirect_to(url_for("meetings.meeting", meeting_id=meeting.id))
    context = {"form": form, "meeting": meeting, "proposals": {}, "supplier_names": {},
               "conflict": conflict, "session_labels": SESSION_LABELS, **_labels()}
    if request.method == "POST":
        return render_form_errors("meetings/meeting_form.html", "form", **context)
    return render("meetings/meeting_form.html", **context)


# --- the meeting page -------------------------------------------------------------------------


def _page(meeting: Meeting, status: int = 200, block: str | None = None, **extra):
    agenda_form = AgendaItemForm()
    agenda_form.supplier_id.choices = select_choices(
        [(0, _("None")), *((s.id, s.name) for s in meeting.suppliers)])
    attendee_form = AttendeeForm()
    attendee_form.user_id.choices = select_choices([(0, _("None")), *_staff_pairs()])
    attendee_form.supplier_id.choices = agenda_form.supplier_id.choices
    attendee_form.contact_id.choices = _contact_choices(meeting)
    actor = _actor()
    context = {
        "meeting": meeting, "transitions": MEETING_FLOW.offered(meeting, actor),
        "action_steps": {action.id: ACTION_FLOW.offered(action, actor)
                         for action in meeting.actions},
        "reason_form": ReasonForm(),
        "agenda_form": agenda_form, "attendee_form": attendee_form,
        "summary_form": SummaryForm(summary=meeting.summary),
        "missing": missing_owners(meeting), "md": render_markdown,
        "by_item": _actions_by_item(meeting), **_labels(), **extra}
    return render("meetings/meeting.html", block=block, status=status, **context)


def _contact_choices(meeting: Meeting):
    """The invited suppliers' contacts not on the list yet: representatives to pick."""
    listed = {(a.supplier_id, a.name) for a in meeting.attendees}
    return select_choices([(0, _("None")), *(
        (contact.id, _("%(name)s (%(organisation)s)", name=contact.name,
                       organisation=supplier.name))
        for supplier in meeting.suppliers for contact in supplier.contacts
        if (supplier.id, contact.name) not in listed)])


def _actions_by_item(meeting: Meeting) -> dict:
    grouped: dict = {}
    for action in meeting.actions:
        grouped.setdefault(action.agenda_item_id, []).append(action)
    return grouped


def _meeting_page_keys(meeting_id: int) -> dict[str, list[str]]:
    """What one meeting's page shows of other modules: its booking and the feedback items of
    its agenda and action items (one query, kept for the request)."""
    known = g.setdefault("meeting_page_keys", {})
    if meeting_id not in known:
        rows = db.session.execute(sa.union_all(
            sa.select(sa.literal("booking"), Meeting.booking_id).where(Meeting.id == meeting_id),
            sa.select(sa.literal("feedback"), AgendaItem.feedback_id)
            .where(AgendaItem.meeting_id == meeting_id),
            sa.select(sa.literal("feedback"), action_feedback.c.feedback_id)
            .join(ActionItem, ActionItem.id == action_feedback.c.action_id)
            .where(ActionItem.meeting_id == meeting_id))).all()
        known[meeting_id] = {
            "bookings": sorted({booking_key(i) for kind, i in rows if kind == "booking" and i}),
            "feedback": sorted({item_key(i) for kind, i in rows if kind == "feedback" and i})}
    return known[meeting_id]


@bp.route("/<int:meeting_id>")
@staff_required
@cached_page("suppliers", "people", meetings=lambda meeting_id: [meeting_key(meeting_id)],
             bookings=lambda meeting_id: _meeting_page_keys(meeting_id)["bookings"],
             feedback=lambda meeting_id: _meeting_page_keys(meeting_id)["feedback"])
def meeting(meeting_id: int):
    return _page(_meeting(meeting_id))


def _error_page(meeting_id: int, error: ServiceError, block: str | None = None,
                failed: str | None = None):
    """The meeting's page as it is now, with the refusal: beside the reason of the step that
    failed (``failed``: "meeting-<step>" or "action-<id>-<step>"), else at the top. 409 when
    the record moved on or the step is not possible in its state, 422 for what to correct (and
    for the agenda's htmx block, which is swapped in place with its message)."""
    db.session.rollback()
    if block == "agenda":
        return _page(_meeting(meeting_id), status=422, block=block,
                     agenda_error=error.message)
    status = 409 if isinstance(error, StaleRecord) or (
        isinstance(error, NotAllowed) and error.field is None) else 422
    if failed is not None and error.field == "reason":
        return _page(_meeting(meeting_id), status=status, failed=failed,
                     reason_error=error.message)
    return _page(_meeting(meeting_id), status=status, block=block, page_error=error.message)


@bp.route("/<int:meeting_id>/act/<action>", methods=["POST"])
@staff_required
def meeting_act(meeting_id: int, action: str):
    meeting = _meeting(meeting_id)
    form = ReasonForm()
    form.validate_on_submit()
    try:
        services.act(meeting, action, _actor(), form.reason.data or "",
                     expected=form.expected_status.data or None)
    except ServiceError as error:
        return _error_page(meeting_id, error, failed=f"meeting-{action}")
    flash(_("Done: %(action)s.", action=MEETING_FLOW.transitions[action].label), "success")
    return redirect_to(url_for("meetings.meeting", meeting_id=meeting_id))


@bp.route("/<int:meeting_id>/agenda", methods=["POST"])
@staff_required
def agenda_add(meeting_id: int):
    meeting = _meeting(meeting_id)
    form = AgendaItemForm()
    form.supplier_id.choices = select_choices(
        [(0, "")] + [(s.id, s.name) for s in meeting.suppliers])
    if not form.validate_on_submit():
        return _page(meeting, status=422, block="agenda" if is_htmx() else None,
                     agenda_error=_("Enter the topic."))
    try:
        services.add_agenda_item(meeting, form.title.data, form.supplier_id.data or None,
                                 _actor(), form.reason.data or "")
    except ServiceError as error:
        return _error_page(meeting_id, error, "agenda" if is_htmx() else None)
    return _after_agenda_change(meeting_id)


def _after_agenda_change(meeting_id: int):
    if is_htmx():
        return _page(_meeting(meeting_id), block="agenda")
    return redirect_to(url_for("meetings.meeting", meeting_id=meeting_id) + "#agenda")


@bp.route("/<int:meeting_id>/agenda/refresh", methods=["POST"])
@staff_required
def agenda_refresh(meeting_id: int):
    meeting = _meeting(meeting_id)
    ReasonForm().validate_on_submit()
    try:
        added = services.refresh_agenda(meeting)
    except ServiceError as error:
        return _error_page(meeting_id, error)
    if not is_htmx():
        flash(_("Items added to the agenda: %(n)d.", n=added), "success")
    return _after_agenda_change(meeting_id)


def _agenda_item(item_id: int) -> AgendaItem:
    item = db.session.get(AgendaItem, item_id)
    if item is None:
        from flask import abort

        abort(404)
    return item


@bp.route("/agenda/<int:item_id>/move/<direction>", methods=["POST"])
@staff_required
def agenda_move(item_id: int, direction: str):
    item = _agenda_item(item_id)
    ReasonForm().validate_on_submit()
    meeting_id = item.meeting_id
    try:
        services.move_agenda_item(item, direction)
    except ServiceError as error:
        return _error_page(meeting_id, error, "agenda" if is_htmx() else None)
    return _after_agenda_change(meeting_id)


@bp.route("/agenda/<int:item_id>/delete", methods=["POST"])
@staff_required
def agenda_delete(item_id: int):
    item = _agenda_item(item_id)
    form = ReasonForm()
    form.validate_on_submit()
    meeting_id = item.meeting_id
    try:
        services.remove_agenda_item(item, _actor(), form.reason.data or "")
    except ServiceError as error:
        return _error_page(meeting_id, error, "agenda" if is_htmx() else None)
    return _after_agenda_change(meeting_id)


@bp.route("/agenda/<int:item_id>/minutes", methods=["GET", "POST"])
@staff_required
def minutes_edit(item_id: int):
    item = _agenda_item(item_id)
    meeting = item.meeting
    form = MinutesForm(obj=item)
    if form.validate_on_submit():
        try:
            services.save_minutes(item, form.discussion.data, form.decisions.data, _actor(),
                                  form.reason.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The minutes of this item are saved."), "success")
            return redirect_to(url_for("meetings.meeting", meeting_id=meeting.id)
                               + f"#item-{item.id}")
    context = {"form": form, "item": item, "meeting": meeting,
               "preview": render_markdown(form.discussion.data), **_labels()}
    if request.method == "POST":
        return render_form_errors("meetings/minutes_form.html", "form", **context)
    return render("meetings/minutes_form.html", **context)


@bp.route("/<int:meeting_id>/summary", methods=["POST"])
@staff_required
def summary(meeting_id: int):
    meeting = _meeting(meeting_id)
    form = SummaryForm()
    form.validate_on_submit()
    try:
        services.save_summary(meeting, form.summary.data or "", _actor(),
                              form.reason.data or "")
    except ServiceError as error:
        return _error_page(meeting_id, error)
    flash(_("The general remarks are saved."), "success")
    return redirect_to(url_for("meetings.meeting", meeting_id=meeting_id))


@bp.route("/preview", methods=["POST"])
@staff_required
def preview():
    """Live Markdown preview (htmx): the text as the minutes will show it."""
    text = request.form.get("discussion") or request.form.get("summary") or ""
    return render("meetings/_preview.html", preview=render_markdown(text[:20000]))


# --- attendees --------------------------------------------------------------------------------


@bp.route("/<int:meeting_id>/attendees", methods=["POST"])
@staff_required
def attendee_add(meeting_id: int):
    meeting = _meeting(meeting_id)
    form = AttendeeForm()
    form.user_id.choices = select_choices([(0, ""), *_staff_pairs()])
    form.supplier_id.choices = select_choices(
        [(0, "")] + [(s.id, s.name) for s in meeting.suppliers])
    form.contact_id.choices = select_choices(
        [(0, "")] + [(c.id, c.name) for s in meeting.suppliers for c in s.contacts])
    form.validate_on_submit()
    try:
        services.add_attendee(meeting, user_id=form.user_id.data or None,
                              name=form.name.data or "", title=form.title.data or "",
                              supplier_id=form.supplier_id.data or None,
                              contact_id=form.contact_id.data or None)
    except ServiceError as error:
        if error.field is None:
            return _error_page(meeting_id, error)
        db.session.rollback()
        apply_to_form(form, error)  # every problem beside its field of the attendee form
        return _page(_meeting(meeting_id), status=422, attendee_form=form)
    return redirect_to(url_for("meetings.meeting", meeting_id=meeting_id) + "#attendees")


@bp.route("/attendees/<int:attendee_id>/delete", methods=["POST"])
@staff_required
def attendee_delete(attendee_id: int):
    attendee = db.session.get(MeetingAttendee, attendee_id)
    if attendee is None:
        from flask import abort

        abort(404)
    ReasonForm().validate_on_submit()
    meeting_id = attendee.meeting_id
    try:
        services.remove_attendee(attendee)
    except ServiceError as error:
        return _error_page(meeting_id, error)
    return redirect_to(url_for("meetings.meeting", meeting_id=meeting_id) + "#attendees")


@bp.route("/<int:meeting_id>/attendance", methods=["POST"])
@staff_required
def attendance(meeting_id: int):
    meeting = _meeting(meeting_id)
    ReasonForm().validate_on_submit()
    present = {int(value) for value in request.form.getlist("present") if value.isdigit()}
    try:
        services.mark_attendance(meeting, present)
    except ServiceError as error:
        return _error_page(meeting_id, error)
    flash(_("Attendance is saved."), "success")
    return redirect_to(url_for("meetings.meeting", meeting_id=meeting_id) + "#attendees")


# --- action items -----------------------------------------------------------------------------


def _action_form(meeting: Meeting, action: ActionItem | None) -> ActionForm:
    form = ActionForm(obj=action) if action is not None else ActionForm()
    form.supplier_id.choices = select_choices(
        [(0, _("None")), *((s.id, s.name) for s in meeting.suppliers)])
    feedback = services.linkable_feedback(meeting)
    if action is not None:
        feedback += [f for f in action.feedback if f not in feedback]
    form.feedback_ids.choices = select_choices(
        (f.id, _("#%(id)s %(category)s: %(text)s", id=f.id, category=f.category.label,
                 text=services._title(f.description, 50)))
        for f in feedback)
    if request.method == "GET":
        if action is not None:
            form.supplier_id.data = action.supplier_id or 0
            form.feedback_ids.data = [f.id for f in action.feedback]
        else:
            item = db.session.get(AgendaItem, request.args.get("agenda_item", 0, type=int))
            if item is not None and item.meeting_id == meeting.id:
                form.supplier_id.data = item.supplier_id or 0
                if item.feedback_id:
                    form.feedback_ids.data = [item.feedback_id]
    return form


def _action_page(meeting: Meeting, action: ActionItem | None):
    form = _action_form(meeting, action)
    item_id = request.args.get("agenda_item", type=int)
    item = db.session.get(AgendaItem, item_id) if item_id else None
    if item is not None and item.meeting_id != meeting.id:
        item = None
    if form.validate_on_submit():
        data = services.ActionInput(
            description=form.description.data or "", supplier_id=form.supplier_id.data or None,
            responsible_person=form.responsible_person.data or "", due_on=form.due_on.data,
            feedback_ids=form.feedback_ids.data or [])
        try:
            services.save_action(meeting, action, data, _actor(), agenda_item=item,
                                 reason=form.reason.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The action item is saved."), "success")
            return redirect_to(url_for("meetings.meeting", meeting_id=meeting.id) + "#actions")
    context = {"form": form, "meeting": meeting, "action": action, "item": item, **_labels()}
    if request.method == "POST":
        return render_form_errors("meetings/action_form.html", "form", **context)
    return render("meetings/action_form.html", **context)


@bp.route("/<int:meeting_id>/actions/new", methods=["GET", "POST"])
@staff_required
def action_new(meeting_id: int):
    return _action_page(_meeting(meeting_id), None)


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@staff_required
def action_edit(action_id: int):
    action = visible_or_404(ActionItem, action_id, selectinload(ActionItem.feedback))
    return _action_page(_meeting(action.meeting_id), action)


@bp.route("/actions/<int:action_id>/act/<name>", methods=["POST"])
@staff_required
def action_act(action_id: int, name: str):
    action = visible_or_404(ActionItem, action_id)
    meeting_id = action.meeting_id
    form = ReasonForm()
    form.validate_on_submit()
    try:
        services.act_on_action(action, name, _actor(), form.reason.data or "",
                               expected=form.expected_status.data or None)
    except ServiceError as error:
        return _error_page(meeting_id, error, failed=f"action-{action_id}-{name}")
    flash(_("Done: %(action)s.", action=ACTION_FLOW.transitions[name].label), "success")
    back = request.form.get("next") == "ready"
    return redirect_to(url_for("meetings.ready_to_resolve") if back else
                       url_for("meetings.meeting", meeting_id=meeting_id) + "#actions")


@bp.route("/actions/<int:action_id>/delete", methods=["POST"])
@staff_required
def action_delete(action_id: int):
    action = visible_or_404(ActionItem, action_id)
    form = ReasonForm()
    form.validate_on_submit()
    meeting_id = action.meeting_id
    try:
        services.delete_action(action, _actor(), form.reason.data or "")
    except ServiceError as error:
        return _error_page(meeting_id, error)
    flash(_("The action item is removed."), "success")
    return redirect_to(url_for("meetings.meeting", meeting_id=meeting_id) + "#actions")


@bp.route("/actions")
@staff_required
def actions():
    """Every action item, to follow up: by state (overdue derived) and supplier."""
    state = request.args.get("state", "")
    state = state if state in (*ActionStatus.ALL, "overdue", "due") else ""
    supplier_id = request.args.get("supplier", type=int) or None
    mine = request.args.get("mine") == "1"
    today = services.today()
    stmt = (sa.select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
            .where(Meeting.status != MeetingStatus.CANCELLED)
            .options(selectinload(ActionItem.meeting), selectinload(ActionItem.supplier),
                     selectinload(ActionItem.feedback))
            .order_by(ActionItem.due_on, ActionItem.id))
    if state == "overdue":
        stmt = stmt.where(ActionItem.overdue(today))
    elif state == "due":
        stmt = stmt.where(ActionItem.due(today))
    elif state:
        stmt = stmt.where(ActionItem.status == state)
    if supplier_id:
        stmt = stmt.where(ActionItem.supplier_id == supplier_id)
    if mine:
        stmt = stmt.where(ActionItem.owned_by(current_user))
    pager = paginate(stmt)
    return render("meetings/actions.html", "results", pager=pager, state=state,
                  supplier_id=supplier_id, mine=mine, suppliers=_supplier_choices(),
                  **_labels())


# --- feedback answered by verified actions ----------------------------------------------------


@bp.route("/ready-to-resolve")
@staff_required
def ready_to_resolve():
    pager = paginate(services.ready_to_resolve_stmt())
    return render("meetings/ready.html", pager=pager, form=ResolveForm(), **_labels())


@bp.route("/feedback/<int:feedback_id>/resolve", methods=["POST"])
@staff_required
def resolve_feedback(feedback_id: int):
    form = ResolveForm()
    if not form.validate_on_submit():
        return render("meetings/ready.html", status=422,
                      pager=paginate(services.ready_to_resolve_stmt()), form=form, **_labels())
    try:
        services.resolve_answered_feedback(feedback_id, _actor(), form.response.data)
    except ServiceError as error:
        flash(error.message, "danger")
        return redirect_to(url_for("meetings.ready_to_resolve"))
    flash(_("The feedback is resolved; the supervisor is asked to confirm and rate it."),
          "success")
    return redirect_to(url_for("meetings.ready_to_resolve"))
