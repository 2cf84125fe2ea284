"""Survey rules: questionnaire versions, the round lifecycle, invitations and reminders, and
taking one answer per invitee. Every change goes through one write transaction.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app, url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..alerts import send_once
from ..auth.models import User
from ..auth.services import _hash_token as hash_token
from ..catalogue.models import ServiceCategory
from ..database import is_unique_violation, utcnow, write_transaction
from ..errors import Conflict, NotAllowed, Problems, ServiceError
from ..extensions import db
from ..feedback.models import SupervisorAppointment
from ..forms import too_long
from ..i18n import local_today
from ..outbox.services import queue_email
from ..roles import Role
from ..urls import base_url
from ..workflow import Transition, Workflow, locked
from . import figures
from .models import (
    InviteeKind,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    RoundCategory,
    RoundStatus,
    Scale,
    SurveyAnswer,
    SurveyInvitation,
    SurveyResponse,
    SurveyRound,
)

S = RoundStatus
STAFF = Role.BUREAU


def _closing_date_ahead(survey: SurveyRound, actor, details) -> None:
    """A round is published only with a closing date from today on."""
    if survey.closes_on < local_today():
        raise NotAllowed(_l("The closing date cannot be in the past."), field="closes_on")


def _still_taking_answers(survey: SurveyRound, actor, details) -> None:
    """Closing now is possible until the closing date; after it the round is closed."""
    if survey.closes_on < local_today():
        raise NotAllowed(_l("This round already closed on its closing date, %(date)s.",
                            date=format_date(survey.closes_on, "long")))


ROUND_FLOW = Workflow(S.ALL, [
    Transition("publish", (S.DRAFT,), S.OPEN, STAFF, _l("Publish"), rule=_closing_date_ahead),
    Transition("close", (S.OPEN,), S.CLOSED, STAFF, _l("Close now"),
               rule=_still_taking_answers),
], labels=S.LABELS, noun=_l("This survey round"))

ALREADY_ANSWERED = _l("This survey has already been answered through this link; "
                      "only one response per invitee is kept. Nothing was saved.")
ROUND_CLOSED = _l("This survey is closed: answers are no longer taken.")
INVALID_LINK = _l("This survey link is not valid.")
MAX_ANSWER = 4000  # characters of a free-text answer (the page's maxlength and counter)
MISSING = object()


def target_default() -> int:
    return int(current_app.config.get("SURVEY_TARGET_RATE", 90))


# --- questionnaires and their versions ---------------------------------------------------------


def create_questionnaire(title: str, intro: str = "") -> Questionnaire:
    if not title.strip():
        raise ServiceError(_l("This field is required."), field="title")
    with write_transaction():
        questionnaire = Questionnaire(title=title.strip(), intro=intro.strip())
        questionnaire.versions.append(QuestionnaireVersion(number=1))
        db.session.add(questionnaire)
    return questionnaire


def latest_version(questionnaire: Questionnaire) -> QuestionnaireVersion:
    return questionnaire.versions[-1]


def _lock_version(version: QuestionnaireVersion) -> QuestionnaireVersion:
    """The version re-read under its row lock (:func:`portal.workflow.locked`), so an edit and
    a publication at the same moment cannot change a version a round already asks."""
    version = locked(version)
    db.session.expire(version, ["questions"])
    return version


def _editable_version(questionnaire: Questionnaire) -> QuestionnaireVersion:
    """The draft version to edit: the latest, or a copy of it when a round froze it."""
    latest = _lock_version(latest_version(questionnaire))
    if not latest.frozen:
        return latest
    copy = QuestionnaireVersion(number=latest.number + 1)
    for question in latest.questions:
        copy.questions.append(Question(position=question.position, kind=question.kind,
                                       category_id=question.category_id,
                                       prompt=question.prompt))
    questionnaire.versions.append(copy)
    db.session.flush()
    return copy


def _same_question(version: QuestionnaireVersion, question_id: int) -> Question:
    """The question of ``version`` at the place of ``question_id`` (which may belong to the
    frozen version ``version`` was copied from)."""
    original = db.session.get(Question, question_id)
    if original is None or original.version.questionnaire_id != version.questionnaire_id:
        raise ServiceError(_l("This question does not exist."))
    for question in version.questions:
        if question.position == original.position:
            return question
    raise ServiceError(_l("This question does not exist."))


def update_questionnaire(questionnaire: Questionnaire, title: str, intro: str) -> None:
    if not title.strip():
        raise ServiceError(_l("This field is required."), field="title")
    with write_transaction():
        questionnaire.title = title.strip()
        questionnaire.intro = intro.strip()


def add_question(questionnaire: Questionnaire, kind: str, prompt: str,
                 category_id: int | None) -> QuestionnaireVersion:
    problems = Problems()  # every problem at once, each beside its field
    if kind not in QuestionKind.ALL:
        problems.add(_l("Choose a kind of question."), "kind")
    if not prompt.strip():
        problems.add(_l("This field is required."), "prompt")
    if category_id is not None and db.session.get(ServiceCategory, category_id) is None:
        problems.add(_l("Choose a service category."), "category_id")
    elif kind == QuestionKind.SCALE and category_id is None:
        problems.add(_l("A scale question is about one service category."), "category_id")
    problems.raise_any()
    with write_transaction():
        version = _editable_version(questionnaire)
        last = max((q.position for q in version.questions), default=0)
        version.questions.append(Question(position=last + 1, kind=kind, category_id=category_id,
                                          prompt=prompt.strip()))
    return version


def remove_question(questionnaire: Questionnaire, question_id: int) -> QuestionnaireVersion:
    with write_transaction():
        version = _editable_version(questionnaire)
        question = _same_question(version, question_id)
        version.questions.remove(question)
        db.session.flush()
        _renumber(version)
    return version


def move_question(questionnaire: Questionnaire, question_id: int,
                  direction: str) -> QuestionnaireVersion:
    if direction not in ("up", "down"):
        raise ServiceError(_l("Move a question up or down."))
    with write_transaction():
        version = _editable_version(questionnaire)
        question = _same_question(version, question_id)
        ordered = list(version.questions)
        index = ordered.index(question)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(ordered):
            ordered[index], ordered[other] = ordered[other], ordered[index]
            _renumber(version, ordered)
    return version


def _renumber(version: QuestionnaireVersion, ordered: list[Question] | None = None) -> None:
    """Positions 1..n in the given order (two passes: the positions are UNIQUE)."""
    ordered = ordered if ordered is not None else sorted(version.questions,
                                                         key=lambda q: q.position)
    for offset, question in enumerate(ordered, start=1):
        question.position = -offset
    db.session.flush()
    for offset, question in enumerate(ordered, start=1):
        question.position = offset
    db.session.flush()
    db.session.expire(version, ["questions"])


# --- rounds ------------------------------------------------------------------------------------


@dataclass
class RoundInput:
    title: str
    questionnaire_id: int | None
    closes_on: date | None
    anonymous: bool = True
    satisfied_points: tuple[int, ...] = Scale.DEFAULT_SATISFIED
    target_rate: int | None = None
    reminder_days: int | None = 3


def save_round(survey: SurveyRound | None, data: RoundInput) -> SurveyRound:
    """Create a draft round or edit one. Once published, only the title, closing date, target
    and reminder may change: the questions, anonymity and rate definition are fixed."""
    problems = Problems()  # every problem of the input at once, each beside its field
    if not data.title.strip():
        problems.add(_l("This field is required."), "title")
    if data.closes_on is None:
        problems.add(_l("This field is required."), "closes_on")
    if not data.satisfied_points or not set(data.satisfied_points) <= set(Scale.POINTS):
        problems.add(_l("Choose at least one point of the scale."), "satisfied_points")
    target = target_default() if data.target_rate is None else data.target_rate
    if not 0 <= target <= 100:
        problems.add(_l("Enter a percentage from 0 to 100."), "target_rate")
    if data.reminder_days is not None and data.reminder_days <= 0:
        problems.add(_l("Enter a number of days greater than zero, or leave it empty."),
                     "reminder_days")
    if db.session.get(Questionnaire, data.questionnaire_id or 0) is None:
        problems.add(_l("Choose a questionnaire."), "questionnaire_id")
    problems.raise_any()
    mask = Scale.mask(data.satisfied_points)
    if survey is not None and survey.status != S.DRAFT:
        fixed = {"questionnaire_id": data.questionnaire_id != survey.questionnaire_id,
                 "anonymous": data.anonymous != survey.anonymous,
                 "satisfied_points": mask != survey.satisfied_mask}
        for field, changed in fixed.items():
            if changed:
                raise NotAllowed(_l("This cannot change once the round is published."),
                                 field=field)
        if survey.status == S.CLOSED and data.closes_on != survey.closes_on:
            raise NotAllowed(_l("This cannot change once the round is closed."),
                             field="closes_on")
    if (survey is None or survey.status == S.DRAFT or data.closes_on != survey.closes_on) \
            and data.closes_on < local_today():
        raise ServiceError(_l("The closing date cannot be in the past."), field="closes_on")
    with write_transaction():
        if survey is None:
            survey = SurveyRound(status=S.DRAFT)
            db.session.add(survey)
        elif data.closes_on != survey.closes_on:
            # Taking answers again (a later closing date): its figures are counted live, not
            # stored (decided under the round's lock, which storing them also takes).
            survey = locked(survey)
            figures.forget(survey)
        survey.title = data.title.strip()
        survey.questionnaire_id = data.questionnaire_id
        survey.closes_on = data.closes_on
        survey.anonymous = data.anonymous
        survey.satisfied_mask = mask
        survey.target_rate = target
        survey.reminder_days = data.reminder_days
    return survey


def publish_round(survey: SurveyRound, user, expected: str | None = None) -> SurveyRound:
    """Open the round (:meth:`Workflow.apply`: locked, re-checked, audited, once): freeze the
    questionnaire's latest version and snapshot, for each category asked about, the supplier
    whose contract covers it now (:meth:`ServiceCategory.contract_on`).  The fresh round."""

    def change(survey: SurveyRound, step: Transition) -> None:
        version = _lock_version(latest_version(survey.questionnaire))
        if not any(q.kind == QuestionKind.SCALE for q in version.questions):
            raise NotAllowed(_l("The questionnaire needs at least one scale question."))
        if version.frozen_at is None:
            version.frozen_at = utcnow()
        today = local_today()
        survey.version_id = version.id
        survey.published_on = today
        categories = {q.category_id for q in version.questions if q.category_id is not None}
        for category in db.session.scalars(
                sa.select(ServiceCategory).where(ServiceCategory.id.in_(categories))
                .options(selectinload(ServiceCategory.contract))):
            contract = category.contract_on(today)
            db.session.add(RoundCategory(
                round_id=survey.id, category_id=category.id,
                supplier_id=contract.supplier_id if contract is not None else None,
                contract_id=contract.id if contract is not None else None))

    return ROUND_FLOW.apply(survey, "publish", user, expected=expected, change=change)


def close_round(survey: SurveyRound, user, expected: str | None = None) -> SurveyRound:
    """Stop taking answers now, before the closing date, and store the round's figures
    (:mod:`.figures`); the fresh round."""

    def change(survey: SurveyRound, step: Transition) -> None:
        survey.closed_on = local_today()
        figures.store(survey)  # its counts, final now, kept in the same transaction

    return ROUND_FLOW.apply(survey, "close", user, expected=expected, change=change)


# --- invitations -------------------------------------------------------------------------------


def invitation_token(salt: str) -> str:
    """The link's token: derived from the invitation's salt and the secret key, so reminders
    can repeat the link while the database stores only its hash."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"survey-invitation:{salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def invitation_link(invitation: SurveyInvitation) -> str:
    path = url_for("surveys.answer", token=invitation_token(invitation.salt))
    return base_url() + path


def _require_open(survey: SurveyRound) -> None:
    if not survey.accepts_answers(local_today()):
        raise NotAllowed(_l("Invitations go out only while the round is open."))


def _invite(survey: SurveyRound, email: str, *, kind: str, name: str = "", unit: str = "",
            user: User | None = None, appointment_id: int | None = None) -> SurveyInvitation:
    salt = secrets.token_hex(16)
    invitation = SurveyInvitation(
        round_id=survey.id, kind=kind, email=email, name=name, unit=unit,
        user_id=user.id if user is not None else None, appointment_id=appointment_id,
        salt=salt, token_hash=hash_token(invitation_token(salt)))
    db.session.add(invitation)
    queue_email(email, "survey_invitation", locale=user.locale if user is not None else None,
                survey=survey, name=name, link=invitation_link(invitation),
                closes_on=survey.closes_on)
    return invitation


def _invited_emails(survey: SurveyRound) -> set[str]:
    return set(db.session.scalars(sa.select(SurveyInvitation.email)
                                  .where(SurveyInvitation.round_id == survey.id)))


def roster_on(day: date) -> list[tuple[SupervisorAppointment, User]]:
    """Supervisors with an appointment active on ``day`` and an active account."""
    return list(db.session.execute(
        sa.select(SupervisorAppointment, User)
        .join(User, User.id == SupervisorAppointment.user_id)
        .where(SupervisorAppointment.active_on(day), User.active.is_(True))
        .order_by(SupervisorAppointment.unit, User.name)))


def invite_roster(survey: SurveyRound) -> int:
    """Invite every supervisor with an active appointment today who is not invited yet.

    Decided under the round's row lock (:func:`portal.workflow.locked`): a round closed
    meanwhile invites nobody, and of two runs at once the second finds everyone invited."""
    try:
        with write_transaction():
            survey = locked(survey)
            _require_open(survey)
            invited = _invited_emails(survey)
            added = 0
            for appointment, user in roster_on(local_today()):
                if user.email in invited:
                    continue
                invited.add(user.email)
                _invite(survey, user.email, kind=InviteeKind.SUPERVISOR, name=user.name,
                        unit=appointment.unit, user=user, appointment_id=appointment.id)
                added += 1
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):  # someone invited the roster at the same moment
            raise Conflict(_l("The roster was just invited by someone else.")) from None
        raise
    return added


def parse_addresses(text: str) -> list[str]:
    """One address per line (commas and semicolons separate too); invalid ones refused."""
    addresses, bad = [], []
    for part in re.split(r"[\s,;，；、]+", text or ""):
        part = part.strip()
        if not part:
            continue
        try:
            address = validate_email(part, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            bad.append(part)
            continue
        if address not in addresses:
            addresses.append(address)
    if bad:
        raise ServiceError(_l("Not an email address: %(bad)s", bad=", ".join(bad[:5])),
                           field="addresses")
    if not addresses:
        raise ServiceError(_l("Enter at least one email address."), field="addresses")
    return addresses


def invite_addresses(survey: SurveyRound, text: str, unit: str = "") -> int:
    """Invite staff of served units by address (no account needed); repeats are skipped."""
    addresses = parse_addresses(text)
    try:
        with write_transaction():
            survey = locked(survey)  # open as it is now, as for the roster
            _require_open(survey)
            invited = _invited_emails(survey)
            users = {u.email: u for u in db.session.scalars(
                sa.select(User).where(User.email.in_(addresses)))}
            added = 0
            for address in addresses:
                if address in invited:
                    continue
                user = users.get(address)
                _invite(survey, address, kind=InviteeKind.UNIT_STAFF,
                        name=user.name if user is not None else "", unit=unit.strip(),
                        user=user)
                added += 1
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):  # invited at the same moment by someone else
            raise Conflict(_l("Some of these addresses were just invited; try again."),
                           field="addresses") from None
        raise
    return added


def _to_remind(survey: SurveyRound) -> list[SurveyInvitation]:
    """Who a reminder run writes to. A named round reminds the invitees who have not answered.
    An anonymous round reminds every invitee (the email thanks those who have answered), so
    the outbox, the reminder counts and their times never tell who has answered; nobody, once
    everyone has answered."""
    stmt = (sa.select(SurveyInvitation).where(SurveyInvitation.round_id == survey.id)
            .options(selectinload(SurveyInvitation.user)).order_by(SurveyInvitation.id))
    if not survey.anonymous:
        return list(db.session.scalars(stmt.where(SurveyInvitation.responded.is_(False))))
    invitations = list(db.session.scalars(stmt))
    return invitations if not all(i.responded for i in invitations) else []


def _remind(survey: SurveyRound) -> int:
    now, sent = utcnow(), 0
    for invitation in _to_remind(survey):
        queue_email(invitation.email, "survey_reminder",
                    locale=invitation.user.locale if invitation.user is not None else None,
                    survey=survey, name=invitation.name, link=invitation_link(invitation),
                    closes_on=survey.closes_on)
        invitation.reminders += 1
        invitation.last_reminded_at = now
        sent += 1
    return sent


def send_reminders(survey: SurveyRound) -> int:
    """One reminder run (see :func:`_to_remind` for who gets one); the number sent."""
    with write_transaction():
        survey = locked(survey)  # not closed meanwhile
        _require_open(survey)
        return _remind(survey)


def send_due_reminders(today: date | None = None) -> int:
    """The tick: rounds closing within their ``reminder_days`` get one automatic reminder run,
    exactly once (the send-once mark is claimed in the same transaction as the emails)."""
    today = today or local_today()
    rounds = db.session.scalars(
        sa.select(SurveyRound).where(SurveyRound.status == S.OPEN,
                                     SurveyRound.reminder_days.is_not(None),
                                     SurveyRound.closes_on >= today)).all()
    sent = 0
    for survey in rounds:
        if (survey.closes_on - today).days > survey.reminder_days:
            continue
        with write_transaction():
            if send_once("survey_reminder", "survey_round", survey.id,
                         f"{survey.reminder_days}d", [], "survey_reminder"):
                sent += _remind(survey)
    return sent


# --- answering -----------------------------------------------------------------------------


def find_invitation(token: str) -> SurveyInvitation | None:
    return db.session.scalar(
        sa.select(SurveyInvitation).where(SurveyInvitation.token_hash == hash_token(token or ""))
        .options(selectinload(SurveyInvitation.round)))


@dataclass
class AnswerInput:
    values: dict[int, int | None]  # scale question id -> 1..4, or None (cannot judge)
    texts: dict[int, str]  # text question id -> text


def submit_response(token: str, data: AnswerInput) -> SurveyResponse:
    """Take an invitee's answers once. The invitation is marked answered by a conditional
    UPDATE in the same transaction as the response: of two submissions at once only one
    changes the row, the other is refused and saves nothing. A named round's response also
    names its invitation under a UNIQUE constraint."""
    invitation = find_invitation(token)
    if invitation is None:
        raise ServiceError(INVALID_LINK)
    survey = invitation.round
    if not survey.accepts_answers(local_today()):
        raise NotAllowed(ROUND_CLOSED)
    if invitation.responded:
        raise Conflict(ALREADY_ANSWERED)
    questions = survey.version.questions
    problems = Problems()  # every unanswered or too long answer at once, beside its question
    for question in questions:
        if question.kind == QuestionKind.SCALE:
            value = data.values.get(question.id, MISSING)
            if value is MISSING:
                problems.add(_l("Please answer every question (choose “cannot judge” if you "
                                "have not used the service)."), f"q{question.id}")
            elif value is not None and value not in Scale.POINTS:
                problems.add(_l("Choose a point of the scale."), f"q{question.id}")
        elif len((data.texts.get(question.id) or "").strip()) > MAX_ANSWER:
            problems.add(too_long(MAX_ANSWER, len(data.texts[question.id].strip())),
                         f"q{question.id}")
    problems.raise_any()
    invitation_id = invitation.id
    try:
        with write_transaction():
            # Closed meanwhile? Decided on the round as it is now (a close holds this lock).
            if not locked(survey).accepts_answers(local_today()):
                raise NotAllowed(ROUND_CLOSED)
            marked = db.session.execute(
                sa.update(SurveyInvitation)
                .where(SurveyInvitation.id == invitation_id,
                       SurveyInvitation.responded.is_(False))
                .values(responded=True,
                        responded_at=None if survey.anonymous else utcnow())
                .execution_options(synchronize_session=False))
            if marked.rowcount != 1:
                raise Conflict(ALREADY_ANSWERED)
            if survey.anonymous:
                # PostgreSQL stamps every row a transaction writes with its id (xmin): the
                # response and the one invitation marked with it would share it. Rewriting
                # every answered invitation of the round here gives them all the same stamp,
                # so it no longer singles anyone out.
                db.session.execute(
                    sa.update(SurveyInvitation)
                    .where(SurveyInvitation.round_id == survey.id,
                           SurveyInvitation.responded.is_(True))
                    .values(responded=True)
                    .execution_options(synchronize_session=False))
            response = SurveyResponse(
                round_id=survey.id, anonymous=survey.anonymous,
                invitation_id=None if survey.anonymous else invitation_id,
                submitted_at=None if survey.anonymous else utcnow())
            for question in questions:
                if question.kind == QuestionKind.SCALE:
                    response.answers.append(SurveyAnswer(question_id=question.id,
                                                         value=data.values.get(question.id)))
                elif (data.texts.get(question.id) or "").strip():
                    response.answers.append(SurveyAnswer(
                        question_id=question.id, text=data.texts[question.id].strip()))
            db.session.add(response)
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):
            raise Conflict(ALREADY_ANSWERED) from None
        raise
    return response
