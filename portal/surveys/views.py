"""Survey back office (staff and admins): rounds, the questionnaire builder, invitations.

Results and the trend are in :mod:`portal.surveys.results`; the public answer page, reached
through a one-time link without logging in, in :mod:`portal.surveys.answer`.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..audit.services import history_for
from ..authz import staff_required, visible_or_404
from ..catalogue.models import ServiceCategory
from ..core.nav import nav_item
from ..errors import ServiceError, apply_to_form
from ..extensions import db
from ..forms import select_choices
from ..htmx import is_htmx, redirect_to, render, render_form_errors
from ..i18n import local_today
from ..page_cache import cached_page
from ..pagination import paginate
from ..workflow import StaleRecord
from . import bp, services
from .forms import (
    AddressesForm,
    ConfirmForm,
    QuestionForm,
    QuestionnaireForm,
    RoundActionForm,
    RoundForm,
)
from .models import (
    InviteeKind,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    RoundStatus,
    Scale,
    SurveyInvitation,
    SurveyRound,
)
from .reports import rounds_trend

nav_item("surveys.rounds", _l("Surveys"), ("staff", "admin"), order=40)

STATE_BADGE = {RoundStatus.DRAFT: "", RoundStatus.OPEN: "good", RoundStatus.CLOSED: "warning"}


def _labels() -> dict:
    return {"state_labels": RoundStatus.LABELS, "state_badge": STATE_BADGE,
            "kind_labels": QuestionKind.LABELS, "scale_labels": Scale.LABELS,
            "invitee_labels": InviteeKind.LABELS, "today": local_today()}


# --- rounds ------------------------------------------------------------------------------------


@bp.route("/")
@staff_required
@cached_page("surveys", "suppliers", feedback=lambda: [])  # every round; the categories
def rounds():
    drafts = list(db.session.scalars(
        sa.select(SurveyRound).where(SurveyRound.status == RoundStatus.DRAFT)
        .order_by(SurveyRound.created_at.desc())))
    published = list(reversed(rounds_trend()))  # newest first
    closing = request.args.get("closing") == "1"  # the work list's "rounds closing soon"
    if closing:
        ids = set(db.session.scalars(sa.select(SurveyRound.id).where(
            SurveyRound.closing(local_today()))))
        published = [point for point in published if point.round_id in ids]
    return render("surveys/rounds.html", drafts=[] if closing else drafts, published=published,
                  closing=closing, closing_within=SurveyRound.CLOSING_WITHIN, **_labels())


def _questionnaire_choices():
    return select_choices(
        (str(q.id), q.title) for q in db.session.scalars(
            sa.select(Questionnaire).order_by(Questionnaire.title)))


def _round_input(form: RoundForm) -> services.RoundInput:
    return services.RoundInput(
        title=form.title.data or "",
        questionnaire_id=int(form.questionnaire_id.data) if (form.questionnaire_id.data or "")
        .isdigit() else None,
        closes_on=form.closes_on.data, anonymous=form.anonymous.data,
        satisfied_points=tuple(form.satisfied_points.data or ()),
        target_rate=form.target_rate.data, reminder_days=form.reminder_days.data)


def _round_form_page(form: RoundForm, survey: SurveyRound | None, status: int = 200):
    return render("surveys/round_form.html", "form", status=status, form=form, survey=survey,
                  **_labels())


@bp.route("/rounds/new", methods=["GET", "POST"])
@staff_required
def round_new():
    form = RoundForm()
    form.questionnaire_id.choices = _questionnaire_choices()
    if request.method == "GET":
        form.target_rate.data = services.target_default()
        form.reminder_days.data = 3
        if request.args.get("questionnaire", "").isdigit():
            form.questionnaire_id.data = request.args["questionnaire"]
    if form.validate_on_submit():
        try:
            survey = services.save_round(None, _round_input(form))
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("Round saved as a draft."), "success")
            return redirect_to(url_for("surveys.round", round_id=survey.id))
    if request.method == "POST":
        return render_form_errors("surveys/round_form.html", "form", form=form, survey=None,
                                  **_labels())
    return _round_form_page(form, None)


@bp.route("/rounds/<int:round_id>/edit", methods=["GET", "POST"])
@staff_required
def round_edit(round_id: int):
    survey = visible_or_404(SurveyRound, round_id)
    if request.method == "GET":
        form = RoundForm(obj=survey)
        form.questionnaire_id.data = str(survey.questionnaire_id)
        form.satisfied_points.data = list(survey.satisfied_points)
    else:
        form = RoundForm()
    form.questionnaire_id.choices = _questionnaire_choices()
    if form.validate_on_submit():
        try:
            services.save_round(survey, _round_input(form))
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("Round saved."), "success")
            return redirect_to(url_for("surveys.round", round_id=survey.id))
    if request.method == "POST":
        return render_form_errors("surveys/round_form.html", "form", form=form, survey=survey,
                                  **_labels())
    return _round_form_page(form, survey)


def _round_page(survey: SurveyRound, status: int = 200, error: str | None = None,
                field: str | None = None):
    """The round; ``error``: why a step was refused, shown beside the fact it is about
    (``field``, e.g. the closing date) or above the page."""
    version = survey.version or services.latest_version(survey.questionnaire)
    counts = _invitation_counts(survey.id)
    return render("surveys/round.html", survey=survey, version=version, counts=counts,
                  action_error=error, action_field=field,
                  confirm=RoundActionForm(formdata=None),
                  history=history_for(survey),
                  actions=services.ROUND_FLOW.offered(survey, current_user),
                  status=status, **_labels())


@bp.route("/rounds/<int:round_id>", endpoint="round")
@staff_required
def show_round(round_id: int):
    survey = visible_or_404(SurveyRound, round_id, selectinload(SurveyRound.questionnaire))
    return _round_page(survey)


ROUND_STEPS = {"publish": (services.publish_round,
                           _l("The round is open. Invite the roster from its invitations page.")),
               "close": (services.close_round, _l("The round is closed."))}


@bp.route("/rounds/<int:round_id>/<any(publish, close):action>", methods=["POST"])
@staff_required
def round_act(round_id: int, action: str):
    """Publish or close: a step the round's state no longer allows (someone took it
    meanwhile) is a 409 saying who; a rule of the step (the closing date) a 422."""
    survey = visible_or_404(SurveyRound, round_id)
    form = RoundActionForm()
    if not form.validate_on_submit():
        abort(400)
    step, done = ROUND_STEPS[action]
    try:
        step(survey, current_user._get_current_object(),
             expected=form.expected_status.data or None)
    except ServiceError as error:
        db.session.rollback()
        survey = visible_or_404(SurveyRound, round_id)  # the page shows the latest state
        code = 409 if isinstance(error, StaleRecord) or error.field is None else 422
        return _round_page(survey, status=code, error=str(error.message), field=error.field)
    flash(str(done), "success")
    return redirect_to(url_for("surveys.round", round_id=round_id))


# --- invitations -------------------------------------------------------------------------------


def _invitation_counts(round_id: int) -> dict:
    total, answered = db.session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(SurveyInvitation.responded))
        .where(SurveyInvitation.round_id == round_id)).one()
    return {"total": total, "answered": answered, "pending": total - answered,
            "rate": round(100 * answered / total, 1) if total else None}


def _invitations_page(survey: SurveyRound, addresses_form: AddressesForm | None = None,
                      status: int = 200, error: str | None = None):
    pager = paginate(sa.select(SurveyInvitation).where(SurveyInvitation.round_id == survey.id)
                     .order_by(SurveyInvitation.unit, SurveyInvitation.name,
                               SurveyInvitation.email))
    roster = services.roster_on(local_today())
    invited = set(db.session.scalars(sa.select(SurveyInvitation.email)
                                     .where(SurveyInvitation.round_id == survey.id)))
    return render("surveys/invitations.html", "invitations", status=status, survey=survey,
                  pager=pager, counts=_invitation_counts(survey.id),
                  roster_new=sum(1 for _a, user in roster if user.email not in invited),
                  roster_size=len(roster), confirm=ConfirmForm(),
                  addresses_form=addresses_form or AddressesForm(formdata=None),
                  action_error=error, **_labels())


@bp.route("/rounds/<int:round_id>/invitations")
@staff_required
def invitations(round_id: int):
    return _invitations_page(visible_or_404(SurveyRound, round_id))


@bp.route("/rounds/<int:round_id>/invitations/roster", methods=["POST"])
@staff_required
def invite_roster(round_id: int):
    survey = visible_or_404(SurveyRound, round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        added = services.invite_roster(survey)
    except ServiceError as error:
        return _invitations_page(survey, status=422, error=str(error.message))
    flash(_("%(n)d supervisors invited.", n=added), "success")
    return redirect_to(url_for("surveys.invitations", round_id=round_id))


@bp.route("/rounds/<int:round_id>/invitations/addresses", methods=["POST"])
@staff_required
def invite_addresses(round_id: int):
    survey = visible_or_404(SurveyRound, round_id)
    form = AddressesForm()
    if form.validate_on_submit():
        try:
            added = services.invite_addresses(survey, form.addresses.data, form.unit.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("%(n)d addresses invited.", n=added), "success")
            return redirect_to(url_for("surveys.invitations", round_id=round_id))
    return _invitations_page(survey, form, status=422)


@bp.route("/rounds/<int:round_id>/invitations/remind", methods=["POST"])
@staff_required
def remind(round_id: int):
    survey = visible_or_404(SurveyRound, round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        sent = services.send_reminders(survey)
    except ServiceError as error:
        return _invitations_page(survey, status=422, error=str(error.message))
    if survey.anonymous:
        flash(_("%(n)d reminders sent to every invitee (anonymous round).", n=sent), "success")
    else:
        flash(_("%(n)d reminders sent to invitees who have not answered.", n=sent), "success")
    return redirect_to(url_for("surveys.invitations", round_id=round_id))


# --- questionnaires ----------------------------------------------------------------------------


@bp.route("/questionnaires", methods=["GET", "POST"])
@staff_required
def questionnaires():
    form = QuestionnaireForm()
    if form.validate_on_submit():
        try:
            questionnaire = services.create_questionnaire(form.title.data, form.intro.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            return redirect_to(url_for("surveys.questionnaire",
                                       questionnaire_id=questionnaire.id))
    items = list(db.session.scalars(
        sa.select(Questionnaire).options(selectinload(Questionnaire.versions))
        .order_by(Questionnaire.title)))
    return render("surveys/questionnaires.html", "create", form=form, items=items,
                  status=422 if request.method == "POST" else 200)


def _categories() -> list[ServiceCategory]:
    return list(db.session.scalars(sa.select(ServiceCategory)
                                   .order_by(ServiceCategory.sort_order, ServiceCategory.id)))


def _question_form(blank: bool = False) -> QuestionForm:
    form = QuestionForm(formdata=None) if blank else QuestionForm()
    form.category_id.choices = select_choices(
        [("", _("— none —"))] + [(str(c.id), c.label) for c in _categories()])
    return form


def _builder(questionnaire: Questionnaire, question_form: QuestionForm | None = None,
             form: QuestionnaireForm | None = None, status: int = 200, block: str | None = None,
             error: str | None = None):
    version = services.latest_version(questionnaire)
    used_by = dict(db.session.execute(
        sa.select(SurveyRound.version_id, sa.func.count())
        .where(SurveyRound.questionnaire_id == questionnaire.id,
               SurveyRound.version_id.is_not(None))
        .group_by(SurveyRound.version_id)).all())
    return render("surveys/questionnaire.html", block, status=status,
                  questionnaire=questionnaire, version=version, used_by=used_by,
                  question_form=question_form or _question_form(blank=True),
                  form=form or QuestionnaireForm(formdata=None, obj=questionnaire),
                  confirm=ConfirmForm(), builder_error=error, **_labels())


def _load_questionnaire(questionnaire_id: int) -> Questionnaire:
    return visible_or_404(Questionnaire, questionnaire_id, selectinload(
        Questionnaire.versions).selectinload(QuestionnaireVersion.questions)
        .selectinload(Question.category))


@bp.route("/questionnaires/<int:questionnaire_id>", methods=["GET", "POST"])
@staff_required
def questionnaire(questionnaire_id: int):
    item = _load_questionnaire(questionnaire_id)
    if request.method == "GET":
        return _builder(item)
    form = QuestionnaireForm()
    if form.validate_on_submit():
        try:
            services.update_questionnaire(item, form.title.data, form.intro.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("Questionnaire saved."), "success")
            return redirect_to(url_for("surveys.questionnaire", questionnaire_id=item.id))
    return _builder(item, form=form, status=422, block="details")


@bp.route("/questionnaires/<int:questionnaire_id>/questions", methods=["POST"])
@staff_required
def question_add(questionnaire_id: int):
    item = _load_questionnaire(questionnaire_id)
    form = _question_form()
    if form.validate_on_submit():
        category = form.category_id.data
        try:
            services.add_question(item, form.kind.data, form.prompt.data,
                                  int(category) if (category or "").isdigit() else None)
        except ServiceError as error:
            db.session.rollback()
            item = _load_questionnaire(questionnaire_id)
            apply_to_form(form, error)
        else:
            if is_htmx():
                db.session.expire_all()
                return _builder(_load_questionnaire(questionnaire_id), block="builder")
            return redirect_to(url_for("surveys.questionnaire", questionnaire_id=item.id))
    return _builder(item, question_form=form, status=422, block="builder")


def _question_change(questionnaire_id: int, change):
    item = _load_questionnaire(questionnaire_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        change(item)
    except ServiceError as error:
        db.session.rollback()
        return _builder(_load_questionnaire(questionnaire_id), status=422, block="builder",
                        error=str(error.message))
    db.session.expire_all()
    if is_htmx():
        return _builder(_load_questionnaire(questionnaire_id), block="builder")
    return redirect_to(url_for("surveys.questionnaire", questionnaire_id=questionnaire_id))


@bp.route("/questionnaires/<int:questionnaire_id>/questions/<int:question_id>/remove",
          methods=["POST"])
@staff_required
def question_remove(questionnaire_id: int, question_id: int):
    return _question_change(questionnaire_id,
                            lambda item: services.remove_question(item, question_id))


@bp.route("/questionnaires/<int:questionnaire_id>/questions/<int:question_id>/"
          "<any(up, down):direction>", methods=["POST"])
@staff_required
def question_move(questionnaire_id: int, question_id: int, direction: str):
    return _question_change(questionnaire_id,
                            lambda item: services.move_question(item, question_id, direction))


from . import answer, results  # noqa: E402,F401
