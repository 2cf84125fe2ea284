"""Feedback rules: submitting, the handling lifecycle (one transition table), escalation.

* :func:`submit_feedback` — only a supervisor in an active term submits; photos go through the
  one upload mechanism and are removed again if anything fails, so a refusal leaves nothing.
* :func:`apply_transition` — every step of handling (accept, start, resolve, close, reopen,
  reject, mark_duplicate), for the pages and for other modules (the joint meetings resolve an
  item once its action items are verified).  It takes the step through
  :meth:`WORKFLOW.apply <portal.workflow.Workflow.apply>` (the item locked and re-checked, the
  loser of a race told who moved it), sets the times and the SLA flags, routes an accepted
  item (:func:`route`), writes the timeline event, queues the emails, and escalates an item
  reopened twice.  Staff can never close on a supervisor's behalf: only the supervisor's role
  has the ``close`` transition, and only on their own items; reopening needs a reason.

SLA deadlines are dates in Chinese working days (:mod:`portal.workdays`), fixed at
submission; ``responded_late`` / ``resolved_late`` are decided when the step happens, so the
figures (:mod:`portal.feedback.reports`) need no date arithmetic in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import format_date, lazy_pgettext
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from .. import uploads
from ..alerts import Alert, send_each
from ..auth.models import User
from ..catalogue.models import ServiceCategory
from ..database import is_unique_violation, utcnow, write_transaction
from ..errors import Conflict, NotAllowed, Problems, ServiceError
from ..extensions import db
from ..forms import too_long
from ..i18n import local_today
from ..outbox.services import queue_email
from ..roles import Role
from ..suppliers.models import ServiceContract
from ..urls import base_url
from ..workflow import Transition, Workflow, locked
from .models import (
    Feedback,
    FeedbackEvent,
    FeedbackPhoto,
    FeedbackSource,
    FeedbackStatus,
    SupervisorAppointment,
    Urgency,
)

S = FeedbackStatus
STAFF = Role.BUREAU
SUPERVISOR = (Role.SUPERVISOR,)
REPORTER = "reporter"  # a public (QR) item's reporter, acting through the item's follow link
CONFIRMERS = (Role.SUPERVISOR, REPORTER)  # who confirms (closes) or reopens their own item
PHOTO_FOLDER = "feedback"
MAX_PHOTOS = 5
MAX_DESCRIPTION = Feedback.MAX_DESCRIPTION
MAX_LOCATION = Feedback.MAX_LOCATION
ESCALATE_AFTER_REOPENS = 2
HANDLING = (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS)  # what staff may still refuse

def _public_only(item: Feedback, actor, details: dict) -> None:
    if not item.is_public:
        raise NotAllowed(_l("Only reports through a QR code can be marked as spam."))


def _is_owner(item: Feedback, actor) -> bool:
    """A supervisor owns their own items; a public reporter (through the follow link) the one
    item of that link."""
    if actor.role == REPORTER:
        return item.is_public and actor.feedback_id == item.id
    return item.supervisor_id is not None and item.supervisor_id == actor.id


# The one table of who may do what in which state.
WORKFLOW = Workflow(
    S.ALL,
    [
        Transition("accept", (S.SUBMITTED,), S.ACCEPTED, STAFF, _l("Accept")),
        Transition("start", (S.ACCEPTED,), S.IN_PROGRESS, STAFF, _l("Start work")),
        Transition("resolve", (S.ACCEPTED, S.IN_PROGRESS), S.RESOLVED, STAFF,
                   _l("Record as resolved")),
        Transition("close", (S.RESOLVED,), S.CLOSED, CONFIRMERS, _l("Confirm and close"),
                   owner_only=CONFIRMERS),
        Transition("reopen", (S.RESOLVED,), S.IN_PROGRESS, CONFIRMERS, _l("Reopen"),
                   needs_reason=True, owner_only=CONFIRMERS),
        Transition("reject", HANDLING, S.REJECTED, STAFF, lazy_pgettext("feedback", "Reject"),
                   needs_reason=True),
        Transition("mark_duplicate", HANDLING, S.DUPLICATE, STAFF, _l("Mark as duplicate"),
                   needs_reason=True),
        # Public (QR) items only: hides the item from the queue and the figures, and counts
        # against its address (portal.feedback.public's throttle).
        Transition("mark_spam", (*HANDLING, S.RESOLVED), S.SPAM, STAFF, _l("Mark as spam"),
                   rule=_public_only),
    ],
    labels=S.LABELS, noun=_l("This feedback"),
    owner=_is_owner,
)
# What each step is called on the timeline.
EVENT_LABELS = {
    "submit": lazy_pgettext("feedback event", "Submitted"),
    "accept": lazy_pgettext("feedback event", "Accepted"),
    "start": lazy_pgettext("feedback event", "Work started"),
    "resolve": lazy_pgettext("feedback event", "Resolved"),
    "close": lazy_pgettext("feedback event", "Confirmed and closed"),
    "reopen": lazy_pgettext("feedback event", "Reopened"),
    "reject": lazy_pgettext("feedback event", "Rejected"),
    "mark_duplicate": lazy_pgettext("feedback event", "Marked as duplicate"),
    "escalate": lazy_pgettext("feedback event", "Escalated to the leadership"),
    "mark_spam": lazy_pgettext("feedback event", "Marked as spam"),
}


def today() -> date:
    return local_today()


# Higher modules' reactions to a step, run in its transaction once the timeline event is
# written (the supplier channel tells a supplier that an item was transferred to it):
# ``func(item, name, actor)``.
_transition_listeners: list = []


def on_transition(func):
    _transition_listeners.append(func)
    return func


# --- roster ------------------------------------------------------------------------------------


def active_appointment(user_id: int, on: date | None = None) -> SupervisorAppointment | None:
    return db.session.scalar(
        sa.select(SupervisorAppointment)
        .where(SupervisorAppointment.user_id == user_id,
               SupervisorAppointment.active_on(on or today()))
        .order_by(SupervisorAppointment.term_start.desc()).limit(1))


@dataclass
class AppointmentInput:
    user_id: int
    unit: str
    title: str
    letter_number: str
    term_start: date
    term_end: date


def _check_appointment(data: AppointmentInput, exclude_id: int | None = None) -> User:
    """Every problem of an appointment at once, each beside its field."""
    problems = Problems()
    user = db.session.get(User, data.user_id) if data.user_id else None
    if user is None or user.role != Role.SUPERVISOR or not user.active:
        problems.add(_l("Choose an active account with the supervisor role."), "user_id")
        user = None
    if not data.unit.strip():
        problems.add(_l("Enter the supervisor's unit."), "unit")
    if not data.letter_number.strip():
        problems.add(_l("Enter the appointment letter number."), "letter_number")
    else:
        taken = db.session.scalar(sa.select(SupervisorAppointment.id).where(
            SupervisorAppointment.letter_number == data.letter_number.strip()))
        if taken is not None and taken != exclude_id:
            problems.add(Conflict(_l("This appointment letter number is already used."),
                                  field="letter_number"))
    if data.term_end < data.term_start:
        problems.add(_l("The term must end on or after its first day."), "term_end")
    elif user is not None:
        overlapping = sa.select(SupervisorAppointment.id).where(
            SupervisorAppointment.user_id == user.id,
            SupervisorAppointment.term_start <= data.term_end,
            sa.func.coalesce(SupervisorAppointment.ended_on, SupervisorAppointment.term_end)
            >= data.term_start)
        if exclude_id is not None:
            overlapping = overlapping.where(SupervisorAppointment.id != exclude_id)
        if db.session.scalar(overlapping.limit(1)) is not None:
            problems.add(Conflict(_l("This supervisor already has a term covering part of "
                                     "these dates."), field="term_start"))
    problems.raise_any()
    return user


def _save_appointment(appointment: SupervisorAppointment) -> SupervisorAppointment:
    try:
        with write_transaction():
            db.session.add(appointment)
            db.session.flush()
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):
            raise Conflict(_l("This appointment letter number is already used."),
                           field="letter_number") from None
        raise
    return appointment


def appoint(data: AppointmentInput) -> SupervisorAppointment:
    """A new term for an account with the supervisor role."""
    with write_transaction():
        _check_appointment(data)
        appointment = SupervisorAppointment(
            user_id=data.user_id, unit=data.unit.strip(), title=data.title.strip(),
            letter_number=data.letter_number.strip(), term_start=data.term_start,
            term_end=data.term_end)
        return _save_appointment(appointment)


def end_term(appointment: SupervisorAppointment, on: date, reason: str) -> SupervisorAppointment:
    """End a term early: ``on`` is its last day; the term and its feedback stay on record.

    Decided on the term as it is now, under its row lock (:func:`portal.workflow.locked`):
    of two requests ending it at once, the second finds it ended and is told so."""
    if not (reason or "").strip():
        raise ServiceError(_l("Please give a reason."), field="reason")
    with write_transaction():
        appointment = locked(appointment)
        if appointment.ended_on is not None:
            raise NotAllowed(_l("This term has already ended."), field="ended_on")
        if on is None or not appointment.term_start <= on <= appointment.term_end:
            raise ServiceError(_l("The last day must lie within the term (%(start)s – %(end)s).",
                                  start=appointment.term_start.isoformat(),
                                  end=appointment.term_end.isoformat()), field="ended_on")
        appointment.ended_on = on
        appointment.end_reason = reason.strip()
    return appointment


def replace(old: SupervisorAppointment, data: AppointmentInput,
            reason: str = "") -> SupervisorAppointment:
    """Appoint a successor from ``data.term_start``: the old term ends the day before.

    Decided on the old term under its row lock, so two replacements at once make one."""
    with write_transaction():
        old = locked(old)
        if _replacement_of(old.id) is not None:
            raise Conflict(_l("This term has already been replaced."), field="user_id")
        last_day = data.term_start - timedelta(days=1)
        if not old.term_start <= last_day <= old.last_day:
            raise ServiceError(
                _l("The new term must start after %(start)s and by %(end)s, the day after the "
                   "replaced term's last day.", start=old.term_start.isoformat(),
                   end=(old.last_day + timedelta(days=1)).isoformat()), field="term_start")
        old.ended_on = last_day
        old.end_reason = (reason or "").strip() or str(_l("Replaced"))
        db.session.flush()
        _check_appointment(data)
        appointment = SupervisorAppointment(
            user_id=data.user_id, unit=data.unit.strip(), title=data.title.strip(),
            letter_number=data.letter_number.strip(), term_start=data.term_start,
            term_end=data.term_end, replaces_id=old.id)
        return _save_appointment(appointment)


def _replacement_of(appointment_id: int) -> int | None:
    return db.session.scalar(sa.select(SupervisorAppointment.id).where(
        SupervisorAppointment.replaces_id == appointment_id))


# --- submitting --------------------------------------------------------------------------------


@dataclass
class FeedbackInput:
    category_id: int | None
    description: str
    service_rating: int | None
    urgency: str = "normal"
    building_id: int | None = None
    room_id: int | None = None
    location_detail: str = ""
    photos: list = field(default_factory=list)  # FileStorage objects


def check_input(data: FeedbackInput) -> ServiceCategory:
    """Every problem of a submission at once (:class:`~portal.errors.Problems`), each beside
    its field; the category chosen when there is none."""
    problems = Problems()
    category = db.session.get(ServiceCategory, data.category_id) if data.category_id else None
    if category is None or not category.active:
        problems.add(_l("Choose the service concerned."), "category_id")
    description = (data.description or "").strip()
    if not description:
        problems.add(_l("Describe what happened."), "description")
    elif len(description) > MAX_DESCRIPTION:
        problems.add(too_long(MAX_DESCRIPTION, len(description)), "description")
    if len((data.location_detail or "").strip()) > MAX_LOCATION:
        problems.add(too_long(MAX_LOCATION, len(data.location_detail.strip())),
                     "location_detail")
    if data.service_rating not in (1, 2, 3, 4, 5):
        problems.add(_l("Rate the service from 1 to 5."), "service_rating")
    if data.urgency not in Urgency.ALL:
        problems.add(_l("Choose the urgency."), "urgency")
    if data.room_id:
        from ..rentals.models import Room

        room = db.session.get(Room, data.room_id)
        if room is None or (data.building_id and room.building_id != data.building_id):
            problems.add(_l("Choose a room of the building chosen."), "room_id")
        else:
            data.building_id = room.building_id
    if len([p for p in data.photos if p]) > MAX_PHOTOS:
        problems.add(_l("At most %(n)d photos.", n=MAX_PHOTOS), "photos")
    problems.raise_any()
    return category


def submit_feedback(supervisor: User, data: FeedbackInput) -> Feedback:
    """A supervisor in an active term submits feedback; nothing is saved if anything fails."""
    if supervisor.role != Role.SUPERVISOR:
        raise NotAllowed(_l("Only service-quality supervisors submit feedback."))
    appointment = active_appointment(supervisor.id)
    if appointment is None:
        raise NotAllowed(_l("Your term as a service-quality supervisor is not active today, so "
                            "you cannot submit feedback. Your earlier feedback stays on record."))
    category = check_input(data)
    stored: list[uploads.StoredImage] = []
    try:
        for upload in data.photos:
            if upload:
                stored.append(uploads.store_image(upload, PHOTO_FOLDER, field="photos"))
        with write_transaction():
            day = today()
            item = Feedback(
                supervisor_id=supervisor.id, appointment_id=appointment.id,
                category_id=category.id, building_id=data.building_id or None,
                room_id=data.room_id or None, location_detail=data.location_detail.strip(),
                description=data.description.strip(), service_rating=data.service_rating,
                urgency=data.urgency, status=S.SUBMITTED, submitted_at=utcnow(),
                **category.deadlines(day))
            db.session.add(item)
            db.session.flush()
            for image in stored:
                db.session.add(FeedbackPhoto(feedback_id=item.id, file_name=image.name,
                                             width=image.width, height=image.height))
            db.session.add(FeedbackEvent(feedback_id=item.id, action="submit",
                                         to_status=S.SUBMITTED, actor_id=supervisor.id))
            _notify_staff(item, category, "feedback_submitted", supervisor=supervisor)
    except BaseException:
        for image in stored:
            uploads.delete_image(PHOTO_FOLDER, image.name)
        raise
    return item


# --- handling ----------------------------------------------------------------------------------


def actions_for(user, item: Feedback) -> list[Transition]:
    """The steps this user's page offers (from the one table, with ownership)."""
    return WORKFLOW.offered(item, user)


@dataclass(frozen=True)
class Routing:
    """Who handles an accepted item: the supplier under the contract in force, or, when the
    category's contract is not in force that day, the bureau's own team (``notice`` says why)."""

    contract: ServiceContract | None
    notice: str = ""


def route(item: Feedback, day: date, assignee: User) -> Routing:
    """Where an item accepted on ``day`` goes.  The category's contract is read through its
    renewals (:meth:`ServiceCategory.contract_on`): a successor in force takes it; a contract
    that has ended with none after it (or has not begun) leaves the item to the bureau."""
    category = item.category
    contract = category.contract_on(day)
    if contract is not None or category.contract is None:
        return Routing(contract)
    latest = category.contract.in_force_on(day)
    team = category.team or assignee.name
    if latest.ends_on < day:
        notice = _l("The service contract for this service ended on %(date)s; the bureau's "
                    "%(team)s handles it instead.", date=format_date(latest.ends_on, "long"),
                    team=team)
    else:
        notice = _l("The service contract for this service only comes into force on "
                    "%(date)s; the bureau's %(team)s handles it until then.",
                    date=format_date(latest.starts_on, "long"), team=team)
    return Routing(None, str(notice))


def apply_transition(item: Feedback | int, name: str, actor: User | None, *,
                     expected_status: str | None = None, **fields) -> Feedback:
    """Take transition ``name`` as ``actor`` through :meth:`Workflow.apply` (lock, re-check,
    write, audit, mail); the fresh item, changed and committed.

    ``item``: the item or its id (the demo and the joint meetings pass either).  ``fields``:
    ``response`` (resolve), ``handling_rating`` and ``comment`` (close), ``reason`` (reject,
    mark_duplicate, reopen), ``duplicate_of_id`` (mark_duplicate), ``assignee_id`` (accept:
    defaults to the category's default assignee, else the actor), ``note`` (a remark on the
    timeline).  ``expected_status``: the state the user saw; if it moved on meanwhile,
    :class:`~portal.workflow.StaleRecord` says who moved it.  Runs in its own write
    transaction (a savepoint when nested).  The returned item's ``notice`` is what the actor
    should be told beyond the new status (an accepted item routed to the bureau's own team).
    """
    if isinstance(item, int):
        found = db.session.get(Feedback, item)
        if found is None:
            raise NotAllowed(_l("This feedback does not exist."))
        item = found
    reason = (fields.get("reason") or "").strip()
    now = utcnow()
    timeline = {"note": (fields.get("note") or "").strip(), "notice": ""}

    def change(item: Feedback, step: Transition) -> None:
        day = today()
        if name == "accept":
            assignee_id = fields.get("assignee_id") or item.category.default_assignee_id or (
                actor.id if actor is not None and actor.role in STAFF else None)
            assignee = db.session.get(User, assignee_id) if assignee_id else None
            if assignee is None or assignee.role not in STAFF or not assignee.active:
                raise ServiceError(_l("Choose an active staff account."), field="assignee_id")
            item.assignee_id = assignee.id
            routing = route(item, day, assignee)
            item.contract_id = routing.contract.id if routing.contract is not None else None
            item.supplier_id = (routing.contract.supplier_id if routing.contract is not None
                                else None)
            if routing.notice:
                timeline["notice"] = routing.notice
                timeline["note"] = " ".join(filter(None, (routing.notice, timeline["note"])))
            _first_response(item, now, day)
        elif name == "resolve":
            response = (fields.get("response") or "").strip()
            if not response:
                raise ServiceError(_l("Write the response the supervisor will read."),
                                   field="response")
            item.response = response
            item.resolved_at = now
            item.resolved_late = day > item.resolution_due_on
            timeline["note"] = response
        elif name == "close":
            rating = fields.get("handling_rating")
            if rating not in (1, 2, 3, 4, 5):
                raise ServiceError(_l("Rate the handling from 1 to 5."), field="handling_rating")
            item.handling_rating = rating
            item.closing_comment = (fields.get("comment") or "").strip()
            item.closed_at = now
            timeline["note"] = item.closing_comment
        elif name == "reopen":
            item.reopen_count += 1
            item.resolved_late = None
            item.resolved_at = None
            timeline["note"] = reason
        elif name in ("reject", "mark_duplicate"):
            if name == "mark_duplicate":
                original_id = fields.get("duplicate_of_id")
                original = db.session.get(Feedback, original_id) if original_id else None
                if original is None or original.id == item.id:
                    raise ServiceError(_l("Enter the number of the original feedback."),
                                       field="duplicate_of_id")
                item.duplicate_of_id = original.id
            item.reason = reason
            _first_response(item, now, day)
            timeline["note"] = reason

    def after(item: Feedback, step: Transition, before: str) -> None:
        db.session.add(FeedbackEvent(feedback_id=item.id, action=name, from_status=before,
                                     to_status=item.status, note=timeline["note"],
                                     actor_id=actor.id if actor is not None else None, at=now))
        db.session.flush()
        _notify(item, name, actor)
        for listener in _transition_listeners:
            listener(item, name, actor)
        if name == "reopen" and item.reopen_count >= ESCALATE_AFTER_REOPENS:
            escalate(item, ESCALATE_REOPENED, actor)

    fresh = WORKFLOW.apply(item, name, actor, reason=reason, expected=expected_status,
                           change=change, after=after)
    fresh.notice = timeline["notice"]
    return fresh


def _first_response(item: Feedback, now, day: date) -> None:
    if item.first_response_at is None:
        item.first_response_at = now
        item.responded_late = day > item.response_due_on


# --- notifications and escalation ----------------------------------------------------------


def feedback_link(item_id: int) -> str:
    return base_url() + url_for("feedback.item", feedback_id=item_id)


def _notify_staff(item: Feedback, category: ServiceCategory, template: str, **context) -> None:
    """The assignee, else the category's default assignee, else the feedback desk."""
    recipient = item.assignee or category.default_assignee
    if recipient is None and item.assignee_id:
        recipient = db.session.get(User, item.assignee_id)
    if recipient is not None and recipient.active:
        address, locale = recipient.email, recipient.locale
    else:
        address, locale = current_app.config.get("FEEDBACK_DESK_EMAIL"), None
    if address:
        queue_email(address, template, locale=locale, item=item, category=category,
                    link=feedback_link(item.id), **context)


def _notify(item: Feedback, name: str, actor) -> None:
    """Tell the other side: staff steps to the supervisor, the supervisor's to the handler."""
    category = item.category
    if name in ("close", "reopen"):
        _notify_staff(item, category, "feedback_supervisor_step", action=name,
                      action_label=EVENT_LABELS[name], actor=actor)
        return
    if item.is_public:
        _notify_reporter(item, name)
        return
    supervisor = item.supervisor
    if supervisor is None or not supervisor.active:
        return
    supplier = item.supplier
    queue_email(supervisor.email, "feedback_status", locale=supervisor.locale, item=item,
                category=category, action=name, action_label=EVENT_LABELS[name],
                status_label=S.LABELS[item.status], supplier=supplier,
                link=feedback_link(item.id))


def _notify_reporter(item: Feedback, name: str) -> None:
    """A public reporter who left an email hears of the resolution (the closing message, with
    the follow link to confirm or reopen) and of a refusal; nothing else, and no spam."""
    if name not in ("resolve", "reject", "mark_duplicate") or not item.reporter_email:
        return
    from .public import follow_link, follow_token

    queue_email(item.reporter_email, "feedback_public_outcome", item=item,
                category=item.category, action=name, action_label=EVENT_LABELS[name],
                status_label=S.LABELS[item.status], link=follow_link(follow_token(item.id)))


def admin_recipients() -> list[tuple[str, str | None]]:
    rows = db.session.execute(sa.select(User.email, User.locale).where(
        User.role == Role.ADMIN, User.active.is_(True)).order_by(User.id)).all()
    return [(email, locale) for email, locale in rows]


# Why an item is escalated: the mark of its one alert (send_once) and the timeline's note.
# "overdue" is the resolution deadline (the mark kept from before the first-response one).
ESCALATE_RESPONSE, ESCALATE_RESOLUTION, ESCALATE_REOPENED = (
    "response_overdue", "overdue", "reopened")
ESCALATION_NOTES = {ESCALATE_RESPONSE: _l("First response overdue"),
                    ESCALATE_RESOLUTION: _l("Resolution overdue"),
                    ESCALATE_REOPENED: _l("Reopened twice")}


def escalation(item: Feedback, why: str, actor=None, admins=None) -> Alert:
    """The alert telling the admins once per reason (:data:`ESCALATION_NOTES`) that the item
    is escalated; when sent, ``escalated_at`` is set and the timeline says why, in the same
    transaction. ``admins``: the recipients, when the caller has read them already."""
    item_id = item.id

    def recorded() -> None:
        fresh = db.session.get(Feedback, item_id)
        if fresh.escalated_at is None:
            fresh.escalated_at = utcnow()
        db.session.add(FeedbackEvent(
            feedback_id=item_id, action="escalate", from_status=fresh.status,
            to_status=fresh.status, actor_id=actor.id if actor is not None else None,
            note=str(ESCALATION_NOTES[why])))
        db.session.flush()

    return Alert("feedback_escalated", "feedback", item_id, why,
                 admin_recipients() if admins is None else admins, "feedback_escalated",
                 {"item": item, "category": item.category, "why": why,
                  "link": feedback_link(item_id)}, recorded=recorded)


def escalate(item: Feedback, why: str, actor=None) -> bool:
    """Escalate the item now (:func:`escalation`); True if it was sent now."""
    return bool(send_each([escalation(item, why, actor)]))


# --- lists -------------------------------------------------------------------------------------


def items_stmt(user, *, status: str = "", category_id: int | None = None,
               overdue: bool | str = False, assignee: str = "", escalated: bool = False,
               on: date | None = None, source: str = ""):
    """Feedback the user may see, newest first, with what a list row shows.  ``overdue``:
    either deadline missed (true), or one kind (``Feedback.OVERDUE_LABELS``' keys)."""
    on = on or today()
    stmt = (sa.select(Feedback).where(Feedback.visible_to(user))
            # Four many-to-one: joined into the page's statement (one round trip, not five).
            .options(joinedload(Feedback.category), joinedload(Feedback.supervisor),
                     joinedload(Feedback.assignee), joinedload(Feedback.supplier))
            .order_by(Feedback.submitted_at.desc(), Feedback.id.desc()))
    if status == "open":
        stmt = stmt.where(Feedback.status.in_(S.OPEN))
    elif status in S.ALL:
        stmt = stmt.where(Feedback.status == status)
    else:  # "all": every state but spam, which only its own filter shows
        stmt = stmt.where(Feedback.status != S.SPAM)
    if source in FeedbackSource.ALL:
        stmt = stmt.where(Feedback.source == source)
    if category_id:
        stmt = stmt.where(Feedback.category_id == category_id)
    if overdue == Feedback.OVERDUE_RESPONSE:
        stmt = stmt.where(Feedback.response_overdue(on))
    elif overdue == Feedback.OVERDUE_RESOLUTION:
        stmt = stmt.where(Feedback.resolution_overdue(on))
    elif overdue:
        stmt = stmt.where(Feedback.overdue(on))
    if escalated:
        stmt = stmt.where(Feedback.escalated_at.is_not(None))
    if assignee == "me":
        stmt = stmt.where(Feedback.assignee_id == user.id)
    elif assignee == "none":
        stmt = stmt.where(Feedback.assignee_id.is_(None))
    elif assignee.isdigit():
        stmt = stmt.where(Feedback.assignee_id == int(assignee))
    return stmt
