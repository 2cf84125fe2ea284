"""The supplier channel's pages: a supplier's accounts see only their own supplier's records
(each model's ``visible_to``); staff invite contacts and decide proposed resolutions."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from .. import uploads
from ..authz import role_required, staff_required, visible_or_404
from ..core.nav import nav_item
from ..errors import ServiceError, apply_to_form
from ..extensions import db
from ..feedback.models import Feedback, FeedbackStatus
from ..htmx import redirect_to, render
from ..i18n import local_today
from ..markdown import render_markdown
from ..meetings.models import ActionItem, ActionStatus, Meeting
from ..pages import page_section
from ..pagination import paginate
from ..reporting import half_year_choices, period_from_request
from ..roles import Role
from ..suppliers.models import ContractState, SupplierContact
from ..suppliers.scorecard import scorecard
from ..workflow import StaleRecord
from . import bp, services
from .forms import ActionDoneForm, DecisionForm, NoteForm
from .models import ActionItemPhoto, NoteKind, ProposalStatus, SupplierNote

SUPPLIER = Role.SUPPLIER
nav_item("partners.feedback", _l("Transferred feedback"), (SUPPLIER,), order=30)
nav_item("partners.actions", _l("Our action items"), (SUPPLIER,), order=31)
nav_item("partners.contracts", _l("Our contracts"), (SUPPLIER,), order=32)
nav_item("partners.meetings", _l("Joint meeting minutes"), (SUPPLIER,), order=33)
nav_item("partners.scorecard_page", _l("Our scorecard"), (SUPPLIER,), order=34)


def _user():
    return current_user._get_current_object()


def _labels() -> dict:
    return {"feedback_labels": FeedbackStatus.LABELS, "action_labels": ActionStatus.LABELS,
            "note_labels": NoteKind.LABELS, "proposal_labels": ProposalStatus.LABELS,
            "contract_labels": ContractState.LABELS, "today": local_today(),
            "acting_problem": services.acting_problem(_user())
            if current_user.role == SUPPLIER else None}


# --- transferred feedback --------------------------------------------------------------------

FEEDBACK_STATES = ("waiting", "open", "all")


@bp.route("/feedback")
@role_required(SUPPLIER)
def feedback():
    state = request.args.get("state", "waiting")
    if state not in FEEDBACK_STATES:
        state = "waiting"
    pager = paginate(services.feedback_stmt(_user(), "" if state == "all" else state))
    return render("partners/feedback.html", "results", pager=pager, state=state, **_labels())


def _item_context(item: Feedback, form: NoteForm | None = None) -> dict:
    return {"item": item, "notes": services.notes_of(item.id, _user()),
            "form": form or NoteForm(),
            "answerable": item.status in services.ANSWERABLE, **_labels()}


def item_page_options() -> tuple:
    """What a supplier's item page shows (built on call, as the feedback pages' options)."""
    return (selectinload(Feedback.category), selectinload(Feedback.photos),
            selectinload(Feedback.contract), selectinload(Feedback.room),
            selectinload(Feedback.building))


@bp.route("/feedback/<int:feedback_id>")
@role_required(SUPPLIER)
def feedback_item(feedback_id: int):
    item = visible_or_404(Feedback, feedback_id, *item_page_options())
    return render("partners/feedback_item.html", **_item_context(item))


@bp.route("/feedback/<int:feedback_id>/notes", methods=["POST"])
@role_required(SUPPLIER)
def post_note(feedback_id: int):
    item = visible_or_404(Feedback, feedback_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            note = services.post_note(_user(), item, services.NoteInput(
                kind=form.kind.data, body=form.body.data or ""))
        except services.NotTransferred:
            abort(404)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("Posted: %(kind)s.", kind=NoteKind.LABELS[note.kind]), "success")
            return redirect_to(url_for("partners.feedback_item", feedback_id=feedback_id))
    db.session.rollback()
    item = visible_or_404(Feedback, feedback_id, *item_page_options())
    return render("partners/feedback_item.html", "note_form", status=422,
                  **_item_context(item, form))


@bp.route("/proposals/<int:note_id>/<action>", methods=["POST"])
@staff_required
def decide(note_id: int, action: str):
    """Staff confirm (the feedback is resolved) or decline a supplier's proposed resolution.
    A refusal beside its field (a decline without reason) is the item's page again, 422; a
    step no longer possible (someone decided meanwhile) is 409 with the message."""
    note = visible_or_404(SupplierNote, note_id)
    if action not in services.PROPOSAL_FLOW.transitions:
        abort(404)
    form = DecisionForm(prefix=f"proposal-{note_id}")
    if form.validate_on_submit():
        try:
            services.decide_proposal(note, action, _user(), reason=form.reason.data or "",
                                     response=form.response.data or "",
                                     expected=form.expected_status.data or None)
        except ServiceError as error:
            apply_to_form(form, error)
            status = 409 if isinstance(error, StaleRecord) or error.field is None else 422
        else:
            flash(_("The proposed resolution is %(status)s.",
                    status=ProposalStatus.LABELS[note.status]), "success")
            return redirect_to(url_for("feedback.item", feedback_id=note.feedback_id)
                               + "#supplier-notes")
    else:
        status = 422
    db.session.rollback()
    from ..feedback import views as feedback_views

    item = visible_or_404(Feedback, note.feedback_id, *feedback_views.item_page_options())
    context = feedback_views._item_context(item)
    context["decision_problems"] = {note_id: [str(e) for e in form.form_errors]}
    if status == 422:
        form.expected_status.data = ProposalStatus.PENDING
        context["decision_forms"] = {**context.get("decision_forms", {}), note_id: form}
    return render("feedback/item.html", status=status, **context)


@page_section("feedback.item")
def feedback_notes_section(item, user) -> dict:
    """The staff's view of the supplier's notes on an item, with the decision forms."""
    if user.role not in Role.BUREAU or item.supplier_id is None:
        return {"supplier_notes": []}
    notes = services.notes_of(item.id, user)
    forms = {}
    for note in notes:
        if note.status == ProposalStatus.PENDING:
            form = DecisionForm(prefix=f"proposal-{note.id}", formdata=None)
            form.expected_status.data = note.status
            forms[note.id] = form
    return {"supplier_notes": notes, "decision_forms": forms,
            "note_labels": NoteKind.LABELS, "proposal_labels": ProposalStatus.LABELS}


# --- action items ----------------------------------------------------------------------------

ACTION_STATES = ("open", "due", "all")


@bp.route("/actions")
@role_required(SUPPLIER)
def actions():
    state = request.args.get("state", "open")
    if state not in ACTION_STATES:
        state = "open"
    pager = paginate(services.actions_stmt(_user(), "" if state == "all" else state))
    return render("partners/actions.html", "results", pager=pager, state=state, **_labels())


def _action_context(action: ActionItem, form: ActionDoneForm | None = None) -> dict:
    if form is None:
        form = ActionDoneForm(formdata=None)
        form.expected_status.data = action.status
    user = _user()
    return {"action": action, "photos": services.action_photos(action.id), "form": form,
            "can_complete": user.role == SUPPLIER
            and services.ACTION_FLOW.can(action, user, "complete"), **_labels()}


@bp.route("/actions/<int:action_id>", methods=["GET", "POST"])
@role_required(SUPPLIER, *Role.BUREAU)
def action(action_id: int):
    item = visible_or_404(ActionItem, action_id, selectinload(ActionItem.meeting))
    if request.method == "GET":
        return render("partners/action.html", **_action_context(item))
    if current_user.role != SUPPLIER:
        abort(403)
    form = ActionDoneForm()
    status = 422
    if form.validate_on_submit():
        try:
            services.complete_action(
                _user(), item, form.note.data or "",
                [f for f in (form.photos.data or []) if f and f.filename],
                expected=form.expected_status.data or None)
        except ServiceError as error:
            apply_to_form(form, error)
            if isinstance(error, StaleRecord) or error.field is None:
                status = 409
        else:
            flash(_("Marked as done: the bureau will check it."), "success")
            return redirect_to(url_for("partners.action", action_id=action_id))
    db.session.rollback()
    item = visible_or_404(ActionItem, action_id, selectinload(ActionItem.meeting))
    return render("partners/action.html", "done_form", status=status,
                  **_action_context(item, form))


@bp.route("/actions/<int:action_id>/photos/<name>")
@role_required(SUPPLIER, *Role.BUREAU)
def action_photo(action_id: int, name: str):
    item = visible_or_404(ActionItem, action_id)
    if db.session.scalar(sa.select(ActionItemPhoto.id).where(
            ActionItemPhoto.action_item_id == item.id,
            ActionItemPhoto.file_name == name)) is None:
        abort(404)
    return uploads.send_image(services.PHOTO_FOLDER, name)


# --- contracts, minutes, scorecard -----------------------------------------------------------


@bp.route("/contracts")
@role_required(SUPPLIER)
def contracts():
    pager = paginate(services.contracts_stmt(_user()))
    return render("partners/contracts.html", "results", pager=pager, **_labels())


@bp.route("/meetings")
@role_required(SUPPLIER)
def meetings():
    pager = paginate(services.meetings_stmt(_user()))
    return render("partners/meetings.html", "results", pager=pager, **_labels())


@bp.route("/meetings/<int:meeting_id>")
@role_required(SUPPLIER)
def meeting(meeting_id: int):
    """Published minutes: the general remarks, and the agenda items about this supplier or
    about no supplier in particular (another supplier's items stay with it)."""
    item = visible_or_404(Meeting, meeting_id, selectinload(Meeting.agenda))
    supplier_id = current_user.supplier_id
    agenda = [entry for entry in item.agenda if entry.supplier_id in (None, supplier_id)]
    own_actions = db.session.scalars(
        services.actions_stmt(_user()).where(ActionItem.meeting_id == item.id)).all()
    return render("partners/meeting.html", meeting=item, agenda=agenda, actions=own_actions,
                  md=render_markdown, **_labels())


@bp.route("/scorecard")
@role_required(SUPPLIER)
def scorecard_page():
    supplier = services.own_supplier(_user())
    period, period_error = period_from_request()
    figures = scorecard(supplier, period)
    return render("suppliers/scorecard.html", supplier=supplier, period=period,
                  period_error=period_error, half_years=half_year_choices(period),
                  report_endpoint="partners.scorecard_page", report_args={},
                  state_labels=ContractState.LABELS, supplier_view=True, **figures)


# --- staff: a contact's account --------------------------------------------------------------


@bp.route("/contacts/<int:contact_id>/account", methods=["POST"])
@staff_required
def invite(contact_id: int):
    """Create the contact's supplier account; the invitation mail sets its password."""
    contact = db.session.get(SupplierContact, contact_id)
    if contact is None:
        abort(404)
    NoteForm().validate_on_submit()  # the CSRF token
    back = url_for("suppliers.supplier", supplier_id=contact.supplier_id) + "#contacts"
    try:
        user = services.invite_contact(contact)
    except ServiceError as error:
        flash(str(error.message), "error")
    else:
        flash(_("An account is created for %(name)s; the invitation is mailed to %(email)s.",
                name=user.name, email=user.email), "success")
    return redirect_to(back)


@page_section("suppliers.supplier")
def supplier_accounts_section(supplier, user) -> dict:
    return {"contact_accounts": services.accounts_by_contact(supplier.id)}

