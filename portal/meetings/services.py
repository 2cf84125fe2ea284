"""Joint meetings: the rules, each change in one write transaction.

Agenda pre-fill (:func:`prefill_proposals`), per invited supplier:

* its **open feedback** — ``Feedback.supplier_id`` is the supplier and the status is one of
  ``FeedbackStatus.OPEN`` (submitted, accepted, in progress). Resolved items are left out:
  they wait for the supervisor's confirmation, not for the supplier;
* its **action items of earlier meetings not yet verified** (open — overdue ones flagged — or
  done and awaiting verification): carried over until someone verifies them;
* its **latest satisfaction figures**, through the one adapter
  :func:`portal.meetings.satisfaction.supplier_satisfaction` (a snapshot is kept on the item).

The same function makes the preview on the new-meeting form and the items saved with the
meeting; "refresh" adds only what is missing. A fixed number of queries whatever the data size.

Published minutes are locked: changing an item's discussion, decisions or actions then needs
the ``amend`` transition (a reason) and is kept as a :class:`MinutesRevision`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time

import sqlalchemy as sa
from flask import url_for
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..auth.services import staff_accounts  # noqa: F401  (used by the views too)
from ..bookings.models import Booking, BookingStatus
from ..database import utcnow, write_transaction
from ..errors import NotAllowed, Problems, ServiceError
from ..extensions import db
from ..feedback.models import Feedback, FeedbackStatus
from ..forms import too_long
from ..i18n import local_today, local_zone
from ..lists import join_names
from ..outbox.services import queue_email
from ..suppliers.models import Supplier
from ..urls import base_url
from ..workflow import locked
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
    MinutesRevision,
    action_feedback,
    agenda_label,
    short_text,
)
from .satisfaction import as_dicts, supplier_satisfaction

TITLE_LENGTH = 300


def today() -> date:
    return local_today()


_title = short_text
MAX_NAME = 100  # a person's name or position (the forms' and the columns' limit)
MAX_ACTION = 4000  # an action item's description


# --- agenda pre-fill --------------------------------------------------------------------------


@dataclass
class Proposal:
    """An agenda item the pre-fill suggests (not saved yet)."""

    kind: str
    supplier_id: int
    title: str
    feedback: Feedback | None = None
    action: ActionItem | None = None
    figures: list[dict] = field(default_factory=list)
    overdue: bool = False

    @property
    def label(self) -> str:
        return agenda_label(self.kind, self.title, self.feedback, self.action)


def open_feedback_condition(supplier_ids):
    return sa.and_(Feedback.supplier_id.in_(supplier_ids),
                   Feedback.status.in_(FeedbackStatus.OPEN))


def carried_action_condition(supplier_ids, meeting_id: int | None = None):
    condition = sa.and_(ActionItem.supplier_id.in_(supplier_ids),
                        ActionItem.status != ActionStatus.VERIFIED,
                        Meeting.status != MeetingStatus.CANCELLED)
    if meeting_id is not None:
        condition = sa.and_(condition, ActionItem.meeting_id != meeting_id)
    return condition


def prefill_proposals(supplier_ids: list[int], meeting_id: int | None = None,
                      on: date | None = None) -> dict[int, list[Proposal]]:
    """Per supplier id, the items its agenda section starts with (3 queries + the adapter)."""
    on = on or today()
    ids = sorted(set(supplier_ids))
    if not ids:
        return {}
    result: dict[int, list[Proposal]] = {supplier_id: [] for supplier_id in ids}
    feedback = db.session.scalars(
        sa.select(Feedback).where(open_feedback_condition(ids))
        .options(selectinload(Feedback.category))
        .order_by(Feedback.submitted_at, Feedback.id)).all()
    for item in feedback:
        result[item.supplier_id].append(Proposal(
            AgendaKind.FEEDBACK, item.supplier_id,
            _title(item.description), feedback=item,
            overdue=item.is_overdue(on)))
    actions = db.session.scalars(
        sa.select(ActionItem).join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(carried_action_condition(ids, meeting_id))
        .options(selectinload(ActionItem.meeting))
        .order_by(ActionItem.due_on, ActionItem.id)).all()
    for action in actions:
        result[action.supplier_id].append(Proposal(
            AgendaKind.ACTION, action.supplier_id, _title(action.description), action=action,
            overdue=action.is_overdue(on)))
    figures = supplier_satisfaction(ids)
    for supplier_id in ids:
        found = as_dicts(figures.get(supplier_id) or [])
        if found:
            result[supplier_id].append(Proposal(
                AgendaKind.SATISFACTION, supplier_id, "", figures=found))
    return result


def _add_proposals(meeting: Meeting, proposals: dict[int, list[Proposal]]) -> int:
    have_feedback = {item.feedback_id for item in meeting.agenda if item.feedback_id}
    have_actions = {item.carried_action_id for item in meeting.agenda if item.carried_action_id}
    have_figures = {item.supplier_id for item in meeting.agenda
                    if item.kind == AgendaKind.SATISFACTION}
    position = max((item.position for item in meeting.agenda), default=0)
    added = 0
    for supplier in meeting.suppliers:
        for proposal in proposals.get(supplier.id, []):
            if proposal.feedback is not None and proposal.feedback.id in have_feedback:
                continue
            if proposal.action is not None and proposal.action.id in have_actions:
                continue
            if proposal.kind == AgendaKind.SATISFACTION and supplier.id in have_figures:
                continue
            position += 1
            meeting.agenda.append(AgendaItem(
                position=position, kind=proposal.kind, supplier_id=supplier.id,
                title=proposal.title[:TITLE_LENGTH],
                feedback_id=proposal.feedback.id if proposal.feedback else None,
                carried_action_id=proposal.action.id if proposal.action else None,
                figures=proposal.figures or None, discussion="", decisions=""))
            added += 1
    return added


def refresh_agenda(meeting: Meeting) -> int:
    """Add what the pre-fill finds now and the agenda lacks; the number added."""
    _require_open(meeting)
    proposals = prefill_proposals([s.id for s in meeting.suppliers], meeting.id)
    with write_transaction():
        meeting = locked(meeting)
        _require_open(meeting)
        return _add_proposals(meeting, proposals)


# --- meetings ---------------------------------------------------------------------------------


@dataclass
class MeetingInput:
    title: str
    day: date | None
    start: time | None
    end: time | None
    location: str = ""
    booking_id: int | None = None
    supplier_ids: list[int] = field(default_factory=list)
    staff_ids: list[int] = field(default_factory=list)
    chair: str = ""
    recorder: str = ""
    # Book a room for it: the venue, at the meeting's times (a staff booking, internal rate).
    venue_id: int | None = None
    book_room: bool = False


def _local(day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=local_zone())


def booking_choices(around: date | None = None) -> list[Booking]:
    """Conference-center bookings a meeting may be held in: active ones from today on."""
    since = _local(around or today(), time.min)
    return list(db.session.scalars(
        sa.select(Booking).where(Booking.status.in_(BookingStatus.ACTIVE),
                                 Booking.starts_at >= since)
        .order_by(Booking.starts_at, Booking.id).limit(200)))


def _check_meeting(data: MeetingInput) -> tuple[datetime, datetime]:
    if not data.title.strip():
        raise ServiceError(_l("This field is required."), field="title")
    if data.day is None:
        raise ServiceError(_l("Enter the day."), field="day")
    if data.start is None or data.end is None:
        raise ServiceError(_l("Enter the start and end times."), field="start")
    if data.end <= data.start:
        raise ServiceError(_l("The meeting must end after it starts."), field="end")
    if not data.supplier_ids:
        raise ServiceError(_l("Invite at least one supplier."), field="supplier_ids")
    if data.booking_id and db.session.get(Booking, data.booking_id) is None:
        raise ServiceError(_l("Choose a booking."), field="booking_id")
    if data.book_room and not data.venue_id:
        raise ServiceError(_l("Choose the venue to book."), field="venue_id")
    if data.book_room and data.booking_id:
        raise ServiceError(_l("Choose an existing booking or book a room, not both."),
                           field="booking_id")
    return _local(data.day, data.start), _local(data.day, data.end)


def _booking_location(booking_id: int | None) -> str:
    """The venue(s) of a conference-center booking, when no location is typed."""
    if not booking_id:
        return ""
    from ..bookings.calendars import location

    booking = db.session.get(Booking, booking_id)
    venues = {slot.venue_id: slot.venue for slot in booking.slots} if booking else {}
    return join_names(location(venue) for venue in venues.values())[:200] or \
        (booking.title if booking else "")


# Where the booking form's refusals go on the meeting form (one slot: row 0).
_BOOKING_FIELDS = {"slots": "venue_id", "slots-0-venue_id": "venue_id", "layout": "venue_id",
                   "headcount": "venue_id", "rate_kind": "venue_id", "slots-0-day": "day",
                   "slots-0-session": "start", "slots-0-start": "start", "slots-0-end": "end"}


def _meeting_layout(venue_id: int, headcount: int) -> str:
    """Around a table when the room can be set up so for everyone, else its largest layout."""
    from ..bookings.models import Layout, Venue

    venue = db.session.get(Venue, venue_id)
    if venue is None or not venue.layouts or venue.capacity_for(Layout.BOARDROOM) >= headcount:
        return Layout.BOARDROOM
    return max(venue.layouts, key=lambda item: item.capacity).layout


def _book_room(actor, data: MeetingInput, headcount: int) -> Booking:
    """Inside the meeting's write transaction: its room booked through the bookings module
    (:func:`portal.bookings.services.book_internal`: the booking form's rules, internal
    rate, conflict check and answer); a refusal names the meeting form's fields."""
    from ..bookings import services as bookings
    from ..bookings.pricing import RateKind

    request = bookings.BookingInput(
        title=data.title.strip(), headcount=headcount,
        layout=_meeting_layout(data.venue_id, headcount),
        slots=[bookings.SlotInput(data.venue_id, data.day, "custom", data.start, data.end)],
        purpose=str(_l("Joint service-quality meeting")), rate_kind=RateKind.INTERNAL,
        department=str(_l("District Administrative Affairs Management Bureau")))
    try:
        return bookings.book_internal(actor, request)
    except ServiceError as error:
        for problem in error.problems:
            problem.field = _BOOKING_FIELDS.get(problem.field, problem.field)
        raise


def _suppliers(ids: list[int]) -> list[Supplier]:
    found = list(db.session.scalars(sa.select(Supplier).where(Supplier.id.in_(ids or [0]))))
    if len(found) != len(set(ids)):
        raise ServiceError(_l("Choose suppliers from the list."), field="supplier_ids")
    return found


def create_meeting(actor, data: MeetingInput) -> Meeting:
    """A planned meeting with its invited suppliers, attendees and pre-filled agenda."""
    starts_at, ends_at = _check_meeting(data)
    suppliers = _suppliers(data.supplier_ids)
    staff = staff_accounts(data.staff_ids)
    proposals = prefill_proposals([s.id for s in suppliers])
    with write_transaction():
        booking_id = data.booking_id or None
        if data.book_room:  # saved with the meeting or not at all
            booking_id = _book_room(actor, data, max(1, len(staff) + len(suppliers))).id
        location = data.location.strip() or _booking_location(booking_id)
        meeting = Meeting(title=data.title.strip(), starts_at=starts_at, ends_at=ends_at,
                          location=location, booking_id=booking_id,
                          chair=data.chair.strip(), recorder=data.recorder.strip(),
                          status=MeetingStatus.PLANNED, created_by_id=actor.id, summary="",
                          cancel_reason="")
        meeting.suppliers = suppliers
        db.session.add(meeting)
        for user in staff:
            meeting.attendees.append(MeetingAttendee(user_id=user.id, name="", title=""))
        for supplier in suppliers:
            _add_representative(meeting, supplier)
        db.session.flush()
        _add_proposals(meeting, proposals)
    return meeting


def _add_representative(meeting: Meeting, supplier: Supplier) -> None:
    """A newly invited supplier's primary contact is put on the list as its representative."""
    contact = supplier.primary_contact
    if contact is not None:
        meeting.attendees.append(MeetingAttendee(supplier_id=supplier.id, name=contact.name,
                                                 title=contact.title))


def _uninvite(meeting: Meeting, supplier_ids: set[int]) -> None:
    """Inside a write transaction: suppliers no longer invited take their pre-filled agenda
    items and their representatives with them; a topic staff typed for one stays, without
    the supplier. Refused if one of those items already has minutes or action items."""
    theirs = [item for item in meeting.agenda if item.supplier_id in supplier_ids]
    for item in theirs:
        if item.has_minutes:
            raise NotAllowed(_l(
                "%(supplier)s cannot be removed: its agenda item \"%(item)s\" already has "
                "minutes or action items.", supplier=item.supplier.name, item=item.label))
    for item in theirs:
        if item.kind == AgendaKind.OTHER:
            item.supplier_id = None
        else:
            meeting.agenda.remove(item)
    for attendee in list(meeting.attendees):
        if attendee.supplier_id in supplier_ids:
            meeting.attendees.remove(attendee)


def update_meeting(meeting: Meeting, data: MeetingInput, actor=None) -> Meeting:
    """Change a planned meeting: newly invited suppliers get their pre-filled items and
    representative, suppliers no longer invited lose theirs (:func:`_uninvite`); its room
    may be booked now (by ``actor``), in the same transaction."""
    _require_planned(meeting)
    starts_at, ends_at = _check_meeting(data)
    suppliers = _suppliers(data.supplier_ids)
    with write_transaction():
        meeting = locked(meeting)  # held or cancelled meanwhile: no longer changed here
        _require_planned(meeting)
        before = {s.id for s in meeting.suppliers}
        removed = before - {s.id for s in suppliers}
        _uninvite(meeting, removed)  # (refusals come before any change)
        for supplier in suppliers:
            if supplier.id not in before:
                _add_representative(meeting, supplier)
        booking_id = data.booking_id or None
        if data.book_room:
            headcount = max(1, len(meeting.attendees) or len(suppliers))
            booking_id = _book_room(actor, data, headcount).id
        meeting.title = data.title.strip()
        meeting.starts_at, meeting.ends_at = starts_at, ends_at
        meeting.location = data.location.strip() or _booking_location(booking_id)
        meeting.booking_id = booking_id
        meeting.chair, meeting.recorder = data.chair.strip(), data.recorder.strip()
        meeting.suppliers = suppliers
        db.session.flush()
        _add_proposals(meeting, prefill_proposals([s.id for s in suppliers], meeting.id))
    return meeting


# The transitions :func:`act` makes; ``amend`` is not one of them: an amendment changes the
# minutes, so it goes only through the editors that store a revision (:func:`_edit_minutes`).
ACTS = ("hold", "publish", "cancel")


def act(meeting: Meeting, name: str, actor, reason: str = "",
        expected: str | None = None) -> Meeting:
    """hold, publish or cancel through the one transition mechanism (the table decides what
    is allowed; publishing needs every action item's owner and due date); the fresh meeting.
    Publishing and cancelling tell the attendees (:func:`_notify_attendees`)."""
    if name == "amend":
        raise NotAllowed(_l("Published minutes are amended item by item in the minutes "
                            "editor, with a reason; each amendment is kept as a revision."))
    if name not in ACTS:
        raise NotAllowed(_l("This action is not possible in the record's current state."))

    def change(meeting: Meeting, step) -> None:
        if name == "publish":
            meeting.published_at = utcnow()
        if name == "cancel":
            meeting.cancel_reason = reason.strip()

    def after(meeting: Meeting, step, before: str) -> None:
        if name in ("publish", "cancel"):
            _notify_attendees(meeting)

    return MEETING_FLOW.apply(meeting, name, actor, reason=reason, expected=expected,
                              change=change, after=after)


def meeting_recipients(meeting: Meeting) -> list[tuple[str, str | None, int | None]]:
    """Who hears of a published or cancelled meeting: (email, locale, supplier id or None).

    The bureau's attendees with an active account (in their language, with a link to the
    meeting) and each invited supplier's primary contact with an email address (in Chinese,
    with that supplier's own action items; suppliers have no account, so no link).
    """
    recipients, seen = [], set()
    for attendee in meeting.attendees:
        user = attendee.user
        if user is not None and user.active and user.email and user.email not in seen:
            seen.add(user.email)
            recipients.append((user.email, user.locale, None))
    for supplier in meeting.suppliers:
        contact = supplier.primary_contact
        if contact is not None and contact.email and contact.email not in seen:
            seen.add(contact.email)
            recipients.append((contact.email, None, supplier.id))
    return recipients


def _notify_attendees(meeting: Meeting) -> None:
    """Inside the step's transaction: one mail per recipient (a lost race sends none)."""
    link = base_url() + url_for("meetings.meeting", meeting_id=meeting.id)
    for email, locale, supplier_id in meeting_recipients(meeting):
        actions = [action for action in meeting.actions
                   if supplier_id is None or action.supplier_id == supplier_id]
        queue_email(email, "meeting_status", locale=locale, meeting=meeting,
                    status_label=MeetingStatus.LABELS[meeting.status], actions=actions,
                    link=link if supplier_id is None else None)


def _require_open(meeting: Meeting) -> None:
    if meeting.status == MeetingStatus.CANCELLED:
        raise NotAllowed(_l("The meeting is cancelled."))


def _require_planned(meeting: Meeting) -> None:
    if meeting.status != MeetingStatus.PLANNED:
        raise NotAllowed(_l("Only a planned meeting can be changed."))


def _edit_minutes(meeting: Meeting, actor, reason: str, edit: Callable[[Meeting], object]):
    """Change the minutes: ``edit(meeting)`` runs on the meeting re-read under its row lock,
    so an edit and the publication cannot cross. Once the minutes are published the edit is
    the ``amend`` step of :data:`MEETING_FLOW` (a reason, checked on the fresh state, and a
    :class:`MinutesRevision` from :func:`_amendment`). Returns what ``edit`` returns."""
    result = []
    with write_transaction():
        fresh = locked(meeting)
        _require_open(fresh)
        if fresh.locked:
            MEETING_FLOW.apply(fresh, "amend", actor, reason=reason,
                               change=lambda record, step: result.append(edit(record)))
        else:
            result.append(edit(fresh))
    return result[0]


def _amendment(meeting: Meeting, actor, reason: str, what: str, before: dict,
               after: dict) -> None:
    """Inside :func:`_edit_minutes`: an amendment of published minutes keeps a revision."""
    if not meeting.locked:
        return
    db.session.add(MinutesRevision(meeting_id=meeting.id, reason=reason.strip(),
                                   what=short_text(what, 300), before=before, after=after,
                                   actor_id=actor.id))


# --- agenda -----------------------------------------------------------------------------------


def add_agenda_item(meeting: Meeting, title: str, supplier_id: int | None = None,
                    actor=None, reason: str = "") -> AgendaItem:
    _require_open(meeting)
    if not title.strip():
        raise ServiceError(_l("This field is required."), field="title")
    if supplier_id and supplier_id not in {s.id for s in meeting.suppliers}:
        raise ServiceError(_l("Choose one of the invited suppliers."), field="supplier_id")

    def edit(meeting: Meeting) -> AgendaItem:
        item = AgendaItem(position=max((i.position for i in meeting.agenda), default=0) + 1,
                          kind=AgendaKind.OTHER, supplier_id=supplier_id or None,
                          title=title.strip()[:TITLE_LENGTH], discussion="", decisions="")
        meeting.agenda.append(item)
        _amendment(meeting, actor, reason, title, {}, {"agenda_item": title.strip()})
        return item

    return _edit_minutes(meeting, actor, reason, edit)


def remove_agenda_item(item: AgendaItem, actor=None, reason: str = "") -> None:
    meeting = item.meeting
    _require_open(meeting)
    if item.actions:
        raise NotAllowed(_l("This item has action items: remove them first."))

    def edit(meeting: Meeting) -> None:
        _amendment(meeting, actor, reason, item.label, _item_state(item), {})
        meeting.agenda.remove(item)

    _edit_minutes(meeting, actor, reason, edit)


def move_agenda_item(item: AgendaItem, direction: str) -> None:
    """Move one place up or down (positions are renumbered 1..n)."""
    if direction not in ("up", "down"):
        return
    with write_transaction():
        meeting = locked(item.meeting)  # decided on the meeting as it is now
        _require_open(meeting)
        if meeting.locked:
            raise NotAllowed(_l("The minutes are published: the agenda order is final."))
        items = list(meeting.agenda)
        index = items.index(item)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(items):
            return
        items[index], items[other] = items[other], items[index]
        for position, entry in enumerate(items, start=1):
            if entry.position != position:
                entry.position = position
    db.session.expire(meeting, ["agenda"])


def _item_state(item: AgendaItem) -> dict:
    return {"title": item.label, "discussion": item.discussion, "decisions": item.decisions}


def save_minutes(item: AgendaItem, discussion: str, decisions: str, actor,
                 reason: str = "") -> AgendaItem:
    """An agenda item's discussion (Markdown) and decisions."""
    meeting = item.meeting
    _require_open(meeting)
    if meeting.status == MeetingStatus.PLANNED:
        raise NotAllowed(_l("Minutes are recorded once the meeting is held."))

    def edit(meeting: Meeting) -> AgendaItem:
        before = _item_state(item)
        item.discussion = (discussion or "").strip()
        item.decisions = (decisions or "").strip()
        after = _item_state(item)
        if after != before:
            _amendment(meeting, actor, reason, item.label, before, after)
        return item

    return _edit_minutes(meeting, actor, reason, edit)


def save_summary(meeting: Meeting, summary: str, actor, reason: str = "") -> Meeting:
    _require_open(meeting)

    def edit(meeting: Meeting) -> Meeting:
        before = {"summary": meeting.summary}
        meeting.summary = (summary or "").strip()
        if meeting.summary != before["summary"]:
            _amendment(meeting, actor, reason, str(_l("Summary")), before,
                       {"summary": meeting.summary})
        return meeting

    return _edit_minutes(meeting, actor, reason, edit)


# --- attendees --------------------------------------------------------------------------------


def add_attendee(meeting: Meeting, *, user_id: int | None = None, name: str = "",
                 title: str = "", supplier_id: int | None = None,
                 contact_id: int | None = None) -> MeetingAttendee:
    """A member of staff, or a supplier's representative: typed, or one of the invited
    suppliers' contacts (name, title and supplier taken from the contact)."""
    with write_transaction():
        meeting = locked(meeting)  # cancelled or published meanwhile: refused
        _require_open(meeting)
        if meeting.locked:
            raise NotAllowed(_l("The minutes are published: the attendance list is final."))
        problems = Problems()  # every problem at once, each beside its field
        if contact_id:
            contact = next((c for s in meeting.suppliers for c in s.contacts
                            if c.id == contact_id), None)
            if contact is None:
                problems.add(_l("Choose a contact of an invited supplier."), "contact_id")
            else:
                name, title = contact.name, title or contact.title
                supplier_id = contact.supplier_id
        name, title = name.strip(), title.strip()
        if user_id is None and not name and not problems.has("contact_id"):
            problems.add(_l("Enter the representative's name."), "name")
        for field, text in (("name", name), ("title", title)):
            if len(text) > MAX_NAME:
                problems.add(too_long(MAX_NAME, len(text)), field)
        if user_id is not None and not staff_accounts([user_id]):
            problems.add(_l("Choose a member of staff."), "user_id")
        elif user_id is not None and any(a.user_id == user_id for a in meeting.attendees):
            problems.add(_l("This person is already on the list."), "user_id")
        if supplier_id and supplier_id not in {s.id for s in meeting.suppliers}:
            problems.add(_l("Choose one of the invited suppliers."), "supplier_id")
        problems.raise_any()
        attendee = MeetingAttendee(user_id=user_id, name=name, title=title,
                                   supplier_id=supplier_id or None)
        meeting.attendees.append(attendee)
    return attendee


def remove_attendee(attendee: MeetingAttendee) -> None:
    with write_transaction():
        meeting = locked(attendee.meeting)
        if meeting.locked:
            raise NotAllowed(_l("The minutes are published: the attendance list is final."))
        meeting.attendees.remove(attendee)


def mark_attendance(meeting: Meeting, present_ids: set[int]) -> None:
    """Everyone on the list is marked present or absent."""
    with write_transaction():
        meeting = locked(meeting)
        _require_open(meeting)
        if meeting.status == MeetingStatus.PLANNED:
            raise NotAllowed(_l("Attendance is marked once the meeting is held."))
        if meeting.locked:
            raise NotAllowed(_l("The minutes are published: the attendance list is final."))
        for attendee in meeting.attendees:
            attendee.attended = attendee.id in present_ids


# --- action items -----------------------------------------------------------------------------


@dataclass
class ActionInput:
    description: str
    supplier_id: int | None = None
    responsible_person: str = ""
    due_on: date | None = None
    feedback_ids: list[int] = field(default_factory=list)


def linkable_feedback(meeting: Meeting) -> list[Feedback]:
    """Feedback an action of this meeting may answer: its invited suppliers' feedback on the
    agenda, or still open."""
    ids = [s.id for s in meeting.suppliers] or [0]
    on_agenda = [item.feedback_id for item in meeting.agenda if item.feedback_id] or [0]
    return list(db.session.scalars(
        sa.select(Feedback).where(sa.or_(Feedback.id.in_(on_agenda),
                                         open_feedback_condition(ids)))
        .options(selectinload(Feedback.category))
        .order_by(Feedback.id)))


def _action_state(action: ActionItem) -> dict:
    return {"description": action.description, "supplier_id": action.supplier_id,
            "responsible_person": action.responsible_person,
            "due_on": action.due_on.isoformat() if action.due_on else None,
            "feedback_ids": sorted(f.id for f in action.feedback)}


def meeting_day(meeting: Meeting) -> date:
    """The meeting's date in the bureau's time zone."""
    return meeting.starts_at.astimezone(local_zone()).date()


def _check_due_date(meeting: Meeting, due_on: date | None) -> None:
    """An action item decided at a meeting cannot fall due before that meeting."""
    day = meeting_day(meeting)
    if due_on is not None and due_on < day:
        raise ServiceError(_l("An action item cannot fall due before its meeting "
                              "(%(date)s).", date=format_date(day, "medium")), field="due_on")


def save_action(meeting: Meeting, action: ActionItem | None, data: ActionInput, actor,
                agenda_item: AgendaItem | None = None, reason: str = "") -> ActionItem:
    _require_open(meeting)
    if meeting.status == MeetingStatus.PLANNED:
        raise NotAllowed(_l("Action items are recorded once the meeting is held."))
    problems = Problems()  # every problem at once, each beside its field
    description = data.description.strip()
    if not description:
        problems.add(_l("Describe what is to be done."), "description")
    elif len(description) > MAX_ACTION:
        problems.add(too_long(MAX_ACTION, len(description)), "description")
    if len(data.responsible_person.strip()) > MAX_NAME:
        problems.add(too_long(MAX_NAME, len(data.responsible_person.strip())),
                     "responsible_person")
    if data.supplier_id and data.supplier_id not in {s.id for s in meeting.suppliers}:
        problems.add(_l("Choose one of the invited suppliers."), "supplier_id")
    try:
        _check_due_date(meeting, data.due_on)
    except ServiceError as error:
        problems.add(error.message, error.field)
    allowed = {f.id: f for f in linkable_feedback(meeting)}
    if action is not None:
        allowed.update({f.id: f for f in action.feedback})
    unknown = set(data.feedback_ids) - allowed.keys()
    if unknown:
        problems.add(_l("Choose feedback from the list."), "feedback_ids")
    problems.raise_any()

    def edit(meeting: Meeting) -> ActionItem:
        nonlocal action
        before = _action_state(action) if action is not None else {}
        fields = {"description": data.description.strip(),
                  "supplier_id": data.supplier_id or None,
                  "responsible_person": data.responsible_person.strip(),
                  "due_on": data.due_on,
                  "feedback": [allowed[i] for i in sorted(set(data.feedback_ids))]}
        if action is None:
            action = ActionItem(meeting_id=meeting.id, status=ActionStatus.OPEN, note="",
                                agenda_item_id=agenda_item.id if agenda_item else None,
                                **fields)
            meeting.actions.append(action)
        else:
            for name, value in fields.items():
                setattr(action, name, value)
        db.session.flush()
        after = _action_state(action)
        if before != after:
            _amendment(meeting, actor, reason, action.description, before, after)
        return action

    return _edit_minutes(meeting, actor, reason, edit)


def delete_action(action: ActionItem, actor, reason: str = "") -> None:
    meeting = action.meeting
    _require_open(meeting)

    def edit(meeting: Meeting) -> None:
        _amendment(meeting, actor, reason, action.description, _action_state(action), {})
        meeting.actions.remove(action)

    _edit_minutes(meeting, actor, reason, edit)


def act_on_action(action: ActionItem, name: str, actor, reason: str = "",
                  expected: str | None = None) -> ActionItem:
    """complete, verify or reopen an action item (follow-up, not a change of the minutes)
    through the one transition mechanism; the fresh action item. Verifying and reopening
    tell the responsible supplier's primary contact (:func:`_notify_supplier`)."""

    def change(action: ActionItem, step) -> None:
        if name == "complete":
            action.done_at = utcnow()
        elif name == "verify":
            action.verified_at, action.verified_by_id = utcnow(), actor.id
        else:
            action.done_at = action.verified_at = action.verified_by_id = None
            action.note = (action.note + "\n" + reason.strip()).strip()

    def after(action: ActionItem, step, before: str) -> None:
        if name in ("verify", "reopen"):
            _notify_supplier(action, reason.strip() if name == "reopen" else "")

    return ACTION_FLOW.apply(action, name, actor, reason=reason, expected=expected,
                             change=change, after=after)


def _notify_supplier(action: ActionItem, reason: str) -> None:
    """Inside the step's transaction: the responsible supplier's primary contact hears that
    its action item was verified or reopened (nobody, when it has no email address)."""
    contact = action.supplier.primary_contact if action.supplier is not None else None
    if contact is not None and contact.email:
        queue_email(contact.email, "action_status", action=action, meeting=action.meeting,
                    status_label=ActionStatus.LABELS[action.status], reason=reason)


# --- feedback answered by verified actions ----------------------------------------------------


def ready_to_resolve_condition():
    """SQL: feedback still open whose linked action items (one or more) are all verified."""
    linked = sa.select(action_feedback.c.action_id).where(
        action_feedback.c.feedback_id == Feedback.id)
    unverified = (sa.select(action_feedback.c.action_id)
                  .join(ActionItem, ActionItem.id == action_feedback.c.action_id)
                  .where(action_feedback.c.feedback_id == Feedback.id,
                         ActionItem.status != ActionStatus.VERIFIED))
    return sa.and_(Feedback.status.in_(FeedbackStatus.OPEN), linked.exists(),
                   ~unverified.exists())


def ready_to_resolve_stmt():
    return (sa.select(Feedback).where(ready_to_resolve_condition())
            .options(selectinload(Feedback.category), selectinload(Feedback.supplier))
            .order_by(Feedback.submitted_at, Feedback.id))


def resolve_answered_feedback(feedback_id: int, actor, response: str) -> Feedback:
    """Resolve a feedback item answered by verified action items, in one step; the
    supervisor is then asked (by the feedback module's notification) to confirm and rate it.

    The feedback module's one transition function does the work, so its rules, timeline,
    audit and emails apply unchanged; an item nobody accepted yet is accepted by ``actor``
    first, in the same transaction.
    """
    from ..feedback.services import apply_transition

    not_ready = NotAllowed(_l("This feedback is not ready to resolve: it is closed already, "
                              "or an action item linked to it is not verified yet."))
    item = db.session.get(Feedback, feedback_id)
    if item is None:
        raise not_ready
    with write_transaction():
        item = locked(item)  # two resolutions at once: the second finds it resolved
        ready = db.session.scalar(sa.select(Feedback.id).where(
            Feedback.id == feedback_id, ready_to_resolve_condition()))
        if item is None or ready is None:
            raise not_ready
        if item.status == FeedbackStatus.SUBMITTED:
            item = apply_transition(item, "accept", actor)
        return apply_transition(item, "resolve", actor, response=response)
