"""Feedback pages: submitting (phone first), a supervisor's own list, the staff queue, one
item with its timeline, photos and the actions the transition table allows.

Views are thin: the rules live in :mod:`portal.feedback.services`; a refusal is shown beside
its field with a 422, and a change made meanwhile by someone else as a conflict message.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, current_app, flash, make_response, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2_fragments.flask import render_block
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from .. import uploads
from ..audit.services import history_for
from ..auth.services import staff_accounts
from ..authz import role_required, staff_required, visible_or_404
from ..catalogue.models import ServiceCategory
from ..core.errors import _render_error
from ..core.nav import nav_item
from ..errors import ServiceError, apply_to_form
from ..extensions import db
from ..forms import select_choices
from ..htmx import is_htmx, redirect_to, render, render_form_errors
from ..i18n import translated
from ..page_cache import cached_page, key
from ..pages import sections_for
from ..pagination import paginate
from ..rentals.models import ROOMS_KEY, Building, Room
from ..roles import Role
from ..workflow import StaleRecord
from . import bp, places, services
from .forms import ActionForm, FeedbackForm
from .models import (
    QUEUE_KEY,
    Feedback,
    FeedbackEvent,
    FeedbackPhoto,
    FeedbackSource,
    FeedbackStatus,
    Urgency,
    category_key,
    item_key,
)

S = FeedbackStatus
nav_item("feedback.submit", _l("Give feedback"), (Role.SUPERVISOR,), order=30)
nav_item("feedback.mine", _l("My feedback"), (Role.SUPERVISOR,), order=31)
nav_item("feedback.queue", _l("Feedback"), Role.BUREAU, order=30)

STATUS_BADGE = {S.SUBMITTED: "warning", S.ACCEPTED: "", S.IN_PROGRESS: "", S.RESOLVED: "good",
                S.CLOSED: "good", S.REJECTED: "danger", S.DUPLICATE: "", S.SPAM: "danger"}
URGENCY_BADGE = {"normal": "", "urgent": "warning", "critical": "danger"}
def item_page_options() -> tuple:
    """What one item's page shows, loaded with it (a function: loader options configure the
    mappers, which must wait until every module's models are imported)."""
    return (
        selectinload(Feedback.category).selectinload(ServiceCategory.contract),
        selectinload(Feedback.supervisor), selectinload(Feedback.assignee),
        selectinload(Feedback.appointment), selectinload(Feedback.building),
        selectinload(Feedback.room), selectinload(Feedback.supplier),
        selectinload(Feedback.contract), selectinload(Feedback.duplicate_of),
        selectinload(Feedback.photos),
        selectinload(Feedback.events).selectinload(FeedbackEvent.actor),
    )


def _user():
    return current_user._get_current_object()


def _labels() -> dict:
    today = services.today()
    return {"status_labels": translated(S.LABELS), "status_badge": STATUS_BADGE,
            "urgency_labels": translated(Urgency.LABELS), "urgency_badge": URGENCY_BADGE,
            "today": today, "event_labels": translated(services.EVENT_LABELS),
            "overdue_labels": translated(Feedback.OVERDUE_LABELS)}


# --- submitting --------------------------------------------------------------------------------


def _categories():
    return db.session.scalars(sa.select(ServiceCategory).where(ServiceCategory.active.is_(True))
                              .order_by(ServiceCategory.sort_order, ServiceCategory.id)).all()


def _location_choices(form: FeedbackForm) -> None:
    buildings = db.session.execute(sa.select(Building.id, Building.name)
                                   .order_by(Building.name)).all()
    form.building_id.choices = select_choices([("", _("— not in a building —"))] + [
        (bid, name) for bid, name in buildings])
    building_id = form.building_id.data
    rooms = []
    if building_id:
        rooms = db.session.execute(sa.select(Room.id, Room.code, Room.floor)
                                   .where(Room.building_id == building_id)
                                   .order_by(Room.code).limit(2000)).all()
    form.room_id.choices = select_choices([("", _("— the whole building or outside —"))] + [
        (rid, _("%(name)s (%(detail)s)", name=code, detail=floor) if floor else code)
        for rid, code, floor in rooms])


def _submit_context(form: FeedbackForm, appointment) -> dict:
    return {"form": form, "appointment": appointment, "max_photos": services.MAX_PHOTOS}


def _megabytes(key: str) -> int:
    return int(current_app.config[key] or 0) // (1024 * 1024)


def _submit_form(formdata=None) -> FeedbackForm:
    """The submit form with its choices; ``formdata=None`` reads the request's form."""
    form = FeedbackForm() if formdata is None else FeedbackForm(formdata=formdata)
    form.category_id.choices = select_choices(
        [("", _("— choose —"))] + [(c.id, c.label) for c in _categories()])
    _location_choices(form)
    form.photos.description = _("JPEG, PNG, WebP or GIF images, up to %(mb)d MB each.",
                                mb=current_app.config["UPLOAD_IMAGE_MAX_MB"])
    return form


@bp.errorhandler(RequestEntityTooLarge)
def request_too_large(error):
    """A submission larger than MAX_CONTENT_LENGTH (too many large photos) comes back as the
    form with the reason beside the photos field, not as a bare error page.  The body was not
    read, so nothing of it is kept: with htmx the page keeps what was typed (only the photos
    field is replaced, out of band, and the reason shown); without it the form comes back
    empty and says so.  Other feedback pages get the portal's usual 413 page."""
    user = _user()
    if request.endpoint == "feedback.public_form":  # the QR code's phone page
        from .qr import too_large

        return too_large(_("The photos together are larger than the %(mb)d MB one submission "
                           "can carry, so nothing was received. Choose fewer or smaller photos "
                           "and submit again.", mb=_megabytes("MAX_CONTENT_LENGTH")))
    if request.endpoint != "feedback.submit" or not user.is_authenticated or \
            user.role != Role.SUPERVISOR:  # the view's own checks did not run
        return _render_error(413)
    form = _submit_form(formdata=MultiDict())
    limit = _megabytes("MAX_CONTENT_LENGTH")
    message = _("The photos together are larger than the %(mb)d MB one submission can carry, "
                "so nothing was received. Choose fewer or smaller photos and submit again.",
                mb=limit)
    if not is_htmx():
        message += " " + _("Please fill in the form again.")
    form.photos.errors = [message]
    context = _submit_context(form, services.active_appointment(user.id))
    if is_htmx():  # the alert into #messages, the photos field swapped in place
        body = (render_template("_alert.html", category="danger", title=_("Too large"),
                                message=message)
                + render_block("feedback/submit.html", "photos_field", oob=True, **context))
        return make_response(body, 413)
    return render("feedback/submit.html", status=413, **context)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.SUPERVISOR)
def submit():
    user = _user()
    appointment = services.active_appointment(user.id)
    if request.method == "GET" and "building_id" in request.args:
        form = _submit_form(request.args)  # "show the rooms" without JavaScript
    else:
        form = _submit_form()
    valid = form.validate_on_submit()
    if form.is_submitted():
        data = services.FeedbackInput(
            category_id=form.category_id.data, description=form.description.data or "",
            service_rating=form.service_rating.data, urgency=form.urgency.data,
            building_id=form.building_id.data, room_id=form.room_id.data,
            location_detail=form.location_detail.data or "",
            photos=[f for f in (form.photos.data or []) if f and f.filename])
        try:
            # Every problem at once: what the form found, and what only the service knows
            # (a room of another building) beside the fields the form found no fault with.
            item = services.submit_feedback(user, data) if valid else services.check_input(data)
        except ServiceError as error:
            apply_to_form(form, error)
            valid = False
        if valid:
            flash(_("Thank you: your feedback No. %(id)d is submitted. You will be told of each "
                    "step.", id=item.id), "success")
            return redirect_to(url_for("feedback.item", feedback_id=item.id))
    if request.method == "POST":
        return render_form_errors("feedback/submit.html", "form",
                                  **_submit_context(form, appointment))
    return render("feedback/submit.html", **_submit_context(form, appointment))


@bp.route("/rooms")
@role_required(Role.SUPERVISOR, Role.STAFF, Role.ADMIN)
def rooms():
    """The room picker of a building (htmx swaps it in when the building changes)."""
    form = FeedbackForm(formdata=request.args)
    _location_choices(form)
    return render("feedback/submit.html", "room_field", form=form)


# --- lists -------------------------------------------------------------------------------------


@bp.route("/mine")
@role_required(Role.SUPERVISOR)
def mine():
    """A supervisor's own items; the home page's tiles open it filtered: ``status=resolved``
    (waiting for their confirmation), ``status=open`` (being handled), ``overdue=1``."""
    user = _user()
    status = request.args.get("status", "all")
    if status not in (*S.ALL, "open", "all"):
        status = "all"
    overdue = request.args.get("overdue") == "1"
    pager = paginate(services.items_stmt(user, status=status, overdue=overdue), per_page=10)
    filters = {"status": status, "overdue": overdue}
    return render("feedback/mine.html", "results", pager=pager, filters=filters,
                  appointment=services.active_appointment(user.id), **_labels())


def _queue_key() -> str:
    """The queue filtered to one category follows that category's items; any other queue
    follows every item (any change may move an item into or out of its filters)."""
    category_id = request.args.get("category_id", type=int)
    return category_key(category_id) if category_id else QUEUE_KEY


@bp.route("/")
@staff_required
@cached_page("suppliers", "people", feedback=lambda: [_queue_key()],
             rentals=lambda: [ROOMS_KEY])  # rentals: the building filter
def queue():
    user = _user()
    status = request.args.get("status", "open")
    if status not in (*S.ALL, "open", "all"):
        status = "open"
    category_id = request.args.get("category_id", type=int)
    overdue = request.args.get("overdue", "")  # 1: either deadline missed, or one kind
    if overdue not in ("1", *Feedback.OVERDUE_LABELS):
        overdue = ""
    escalated = request.args.get("escalated") == "1"
    assignee = request.args.get("assignee", "")
    if not (assignee in ("", "me", "none") or assignee.isdigit()):
        assignee = ""
    source = request.args.get("source", "")  # supervisors, or the public through QR codes
    if source not in FeedbackSource.ALL:
        source = ""
    place = places.PlaceFilter.from_args(request.args)  # building, room, dates
    pager = paginate(place.apply(services.items_stmt(
        user, status=status, category_id=category_id, overdue=overdue, assignee=assignee,
        escalated=escalated, source=source)))
    staff = [(user.id, user.name) for user in staff_accounts()]
    filters = {"status": status, "category_id": category_id, "overdue": overdue,
               "escalated": escalated, "assignee": assignee, "source": source}
    return render("feedback/queue.html", "results", pager=pager, filters=filters,
                  source_labels=FeedbackSource.LABELS,
                  categories=_categories(), staff=staff, **_labels(),
                  **places.filter_context(place))


# --- one item ----------------------------------------------------------------------------------


def _staff_choices() -> list:
    return [(user.id, user.name) for user in staff_accounts()]


def _item_context(item: Feedback, form: ActionForm | None = None,
                  failed: str | None = None) -> dict:
    """Everything the item page shows; ``form`` is the failed action's form, with errors."""
    user = _user()
    staff = user.role in services.STAFF
    actions = services.actions_for(user, item)
    staff_choices = _staff_choices() if any(s.name == "accept" for s in actions) else []
    forms = {}
    for step in actions:
        forms[step.name] = ActionForm(
            formdata=None, prefix=step.name, meta={"csrf": False}, expected_status=item.status,
            assignee_id=item.category.default_assignee_id or user.id)
    if form is not None and failed in forms:
        forms[failed] = form
    for candidate in forms.values():
        candidate.assignee_id.choices = select_choices(staff_choices)
        candidate.expected_status.data = item.status
    return {
        "item": item, "actions": actions, "forms": forms, "failed_form": form,
        "failed": failed, "is_staff": staff, "overdue": item.overdue_kinds(services.today()),
        "history": history_for(item) if staff else None, **_labels(),
        **sections_for("feedback.item", item, user),
    }


@bp.route("/<int:feedback_id>", endpoint="item")
@role_required(Role.SUPERVISOR, Role.STAFF, Role.ADMIN)
@cached_page("suppliers", "people", feedback=lambda feedback_id: [item_key(feedback_id)],
             rentals=lambda feedback_id: [ROOMS_KEY],
             # The meetings and suppliers' notes that deal with it (their models name the keys).
             meetings=lambda feedback_id: [key("meetings", "feedback", feedback_id)],
             partners=lambda feedback_id: [key("partners", "feedback", feedback_id)])
def item_page(feedback_id: int):
    item = visible_or_404(Feedback, feedback_id, *item_page_options())
    return render("feedback/item.html", **_item_context(item))


TRANSITION_FIELDS = {
    "accept": ("assignee_id",), "resolve": ("response",), "close": ("handling_rating", "comment"),
    "reopen": ("reason",), "reject": ("reason",), "mark_duplicate": ("reason", "duplicate_of_id"),
}


@bp.route("/<int:feedback_id>/<action>", methods=["POST"])
@role_required(Role.SUPERVISOR, Role.STAFF, Role.ADMIN)
def act(feedback_id: int, action: str):
    """One step of the item's lifecycle.  A refusal beside its field is a 422; a step the
    item's state or the user's role no longer allows (someone moved it on meanwhile) is a 409
    with the message above the item's current actions; never a 500."""
    item = visible_or_404(Feedback, feedback_id)
    if action not in services.WORKFLOW.transitions:
        abort(404)
    # Each action's fields carry its name as a prefix (several forms on one page); the CSRF
    # token is checked for every POST by CSRFProtect, so the form does not add its own.
    form = ActionForm(prefix=action, meta={"csrf": False})
    form.assignee_id.choices = []
    status = 422
    if form.validate_on_submit():
        fields = {name: getattr(form, name).data for name in TRANSITION_FIELDS.get(action, ())}
        try:
            item = services.apply_transition(item, action, _user(),
                                             expected_status=form.expected_status.data or None,
                                             **fields)
        except ServiceError as error:
            apply_to_form(form, error)
            if isinstance(error, StaleRecord) or error.field is None:
                status = 409
        else:
            flash(_("Feedback No. %(id)d: %(status)s.", id=item.id,
                    status=S.LABELS[item.status]), "success")
            if item.notice:
                flash(item.notice, "warning")
            return redirect_to(url_for("feedback.item", feedback_id=feedback_id))
    db.session.rollback()
    item = visible_or_404(Feedback, feedback_id, *item_page_options())
    response = render("feedback/item.html", "actions", status=status,
                      **_item_context(item, form, action))
    if status == 409 and is_htmx():  # the current actions, with the message, in place
        response.headers["HX-Retarget"] = "#feedback-actions"
        response.headers["HX-Reswap"] = "outerHTML"
    return response


@bp.route("/<int:feedback_id>/photos/<name>")
@role_required(Role.SUPERVISOR, Role.STAFF, Role.ADMIN, Role.SUPPLIER)
def photo(feedback_id: int, name: str):
    item = visible_or_404(Feedback, feedback_id)
    if db.session.scalar(sa.select(FeedbackPhoto.id).where(
            FeedbackPhoto.feedback_id == item.id, FeedbackPhoto.file_name == name)) is None:
        abort(404)
    return uploads.send_image(services.PHOTO_FOLDER, name)
