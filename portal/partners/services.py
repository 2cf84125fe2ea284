"""The supplier channel's rules.

* Accounts: staff create a supplier account from one of its contacts
  (:func:`invite_contact`): the existing invitation flow (:func:`portal.auth.services.
  create_account` without a password) mails the contact a link to set a password.  Several
  contacts, several accounts; one account per contact.
* Acting: an account may act (post notes, mark action items done) while its contact is still
  on the supplier's list and the supplier has a contract in force (:func:`acting_problem`);
  otherwise it can still log in and read its history.  The check runs again inside each
  step's transaction.
* Notes on a transferred item (:func:`post_note`): the item is locked and re-checked (still
  transferred to this supplier and open, else a 404); a proposed resolution waits for staff
  (:func:`decide_proposal`, through :data:`PROPOSAL_FLOW`), whose confirmation takes the
  feedback's own ``resolve`` step in the same transaction, so the supervisor sees the item
  resolved only then.
* Action items (:func:`complete_action`): the meetings' one action-item workflow, with a note
  and photos through the one uploads mechanism; staff verify as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from .. import uploads
from ..auth import services as accounts
from ..auth.models import User
from ..database import utcnow, write_transaction
from ..errors import NotAllowed, Problems, ServiceError
from ..extensions import db
from ..feedback import services as feedback_services
from ..feedback.models import Feedback, FeedbackStatus
from ..forms import too_long
from ..i18n import local_today
from ..meetings.models import ACTION_FLOW, ActionItem, ActionStatus, Meeting, MeetingStatus
from ..outbox.services import queue_email
from ..roles import Role
from ..suppliers.models import ServiceContract, Supplier, SupplierContact
from ..urls import base_url
from ..workflow import Transition, Workflow, locked
from .models import ActionItemPhoto, NoteKind, ProposalStatus, SupplierNote

P = ProposalStatus
PHOTO_FOLDER = "actions"
MAX_PHOTOS = 3
MAX_BODY = SupplierNote.MAX_BODY
# A transferred item the supplier may still answer.
ANSWERABLE = (FeedbackStatus.ACCEPTED, FeedbackStatus.IN_PROGRESS)

PROPOSAL_FLOW = Workflow(P.ALL, [
    Transition("confirm", (P.PENDING,), P.CONFIRMED, Role.BUREAU,
               _l("Confirm and record as resolved")),
    Transition("decline", (P.PENDING,), P.DECLINED, Role.BUREAU, _l("Decline"),
               needs_reason=True),
], labels=P.LABELS, noun=_l("This proposed resolution"))


class NotTransferred(NotAllowed):
    """The item is not (or no longer) transferred to the user's supplier: as if it did not
    exist (the views answer 404)."""

    status_code = 404


def today() -> date:
    return local_today()


# --- who may act -------------------------------------------------------------------------------


def contract_in_force(supplier_id: int, on: date | None = None) -> bool:
    on = on or today()
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(ServiceContract)
        .where(ServiceContract.supplier_id == supplier_id, ServiceContract.in_force(on))) > 0


def acting_problem(user, on: date | None = None):
    """Why this supplier account may only read (a message), or None when it may act."""
    if user.role != Role.SUPPLIER:
        return _l("Only a supplier's accounts answer here.")
    if user.supplier_contact_id is None:
        return _l("Your contact entry was removed from the supplier's list, so this account "
                  "can only read its history. Ask the bureau to add you again.")
    if not contract_in_force(user.supplier_id, on):
        return _l("Your company has no service contract in force today, so this account can "
                  "only read its history.")
    return None


def require_can_act(user) -> None:
    problem = acting_problem(user)
    if problem is not None:
        raise NotAllowed(problem)


# --- accounts ----------------------------------------------------------------------------------


def accounts_by_contact(supplier_id: int) -> dict[int, User]:
    """The supplier's accounts by the contact they were made for (one query)."""
    rows = db.session.scalars(sa.select(User).where(
        User.supplier_id == supplier_id, User.supplier_contact_id.is_not(None)))
    return {user.supplier_contact_id: user for user in rows}


def invite_contact(contact: SupplierContact) -> User:
    """Create the contact's supplier account and mail the invitation (the existing flow)."""
    if not contact.email:
        raise ServiceError(_l("Add the contact's email address first: the invitation goes "
                              "there."), field="email")
    if db.session.scalar(sa.select(User.id).where(
            User.supplier_contact_id == contact.id)) is not None:
        raise ServiceError(_l("This contact has an account already."))
    return accounts.create_account(
        role=Role.SUPPLIER, email=contact.email, name=contact.name,
        organisation=contact.supplier.name, phone="", supplier_id=contact.supplier_id,
        supplier_contact_id=contact.id)


# --- mail ------------------------------------------------------------------------------------


def _link(endpoint: str, **values) -> str:
    return base_url() + url_for(endpoint, **values)


def supplier_recipients(supplier_id: int) -> list[tuple[str, str | None]]:
    """The supplier's active accounts and its primary contact's email (once each)."""
    rows = db.session.execute(sa.select(User.email, User.locale).where(
        User.supplier_id == supplier_id, User.active.is_(True)).order_by(User.id)).all()
    recipients = [(email, locale) for email, locale in rows]
    contact = db.session.scalar(
        sa.select(SupplierContact).where(SupplierContact.supplier_id == supplier_id)
        .order_by(SupplierContact.position, SupplierContact.id).limit(1))
    if contact is not None and contact.email and contact.email.lower() not in {
            email for email, _locale in recipients}:
        recipients.append((contact.email, None))
    return recipients


@feedback_services.on_transition
def tell_supplier(item: Feedback, name: str, actor) -> None:
    """An accepted item routed to a supplier: its accounts and contact are told, once."""
    if name != "accept" or item.supplier_id is None:
        return
    for email, locale in supplier_recipients(item.supplier_id):
        queue_email(email, "feedback_transferred", locale=locale, item=item,
                    category=item.category, supplier=item.supplier,
                    link=_link("partners.feedback_item", feedback_id=item.id))


def _tell_staff(item: Feedback, note: SupplierNote) -> None:
    recipient = item.assignee
    address = recipient.email if recipient is not None and recipient.active else \
        current_app.config.get("FEEDBACK_DESK_EMAIL")
    if address:
        queue_email(address, "supplier_note", locale=recipient.locale if recipient else None,
                    item=item, note=note, kind_label=NoteKind.LABELS[note.kind],
                    supplier=item.supplier,
                    link=_link("feedback.item", feedback_id=item.id) + "#supplier-notes")


# --- transferred items -------------------------------------------------------------------------


def pending_proposal_condition():
    return sa.exists().where(SupplierNote.feedback_id == Feedback.id,
                             SupplierNote.status == P.PENDING)


def waiting_condition():
    """SQL: transferred items still waiting for the supplier's answer (open, no proposal
    pending with staff)."""
    return sa.and_(Feedback.status.in_(ANSWERABLE), ~pending_proposal_condition())


def feedback_stmt(user, state: str = ""):
    stmt = (sa.select(Feedback).where(Feedback.visible_to(user))
            .options(selectinload(Feedback.category))
            .order_by(Feedback.resolution_due_on, Feedback.id))
    if state == "waiting":
        stmt = stmt.where(waiting_condition())
    elif state == "open":
        stmt = stmt.where(Feedback.status.in_(FeedbackStatus.OPEN))
    return stmt


def notes_of(feedback_id: int, user) -> list[SupplierNote]:
    return list(db.session.scalars(
        sa.select(SupplierNote).where(SupplierNote.feedback_id == feedback_id,
                                      SupplierNote.visible_to(user))
        .options(selectinload(SupplierNote.author), selectinload(SupplierNote.decided_by))
        .order_by(SupplierNote.id)))


@dataclass
class NoteInput:
    kind: str
    body: str


def post_note(user, item: Feedback, data: NoteInput) -> SupplierNote:
    """A progress note or a proposed resolution on an item transferred to the user's
    supplier; the item locked and re-checked; staff are told."""
    body = (data.body or "").strip()
    problems = Problems()
    if data.kind not in NoteKind.ALL:
        problems.add(_l("Choose what you are posting."), "kind")
    if not body:
        problems.add(_l("Write what you have done or propose."), "body")
    elif len(body) > MAX_BODY:
        problems.add(too_long(MAX_BODY, len(body)), "body")
    problems.raise_any()
    with write_transaction():
        fresh = locked(item)
        if fresh is None or fresh.supplier_id != user.supplier_id \
                or fresh.status not in ANSWERABLE:
            raise NotTransferred(_l("This feedback is not transferred to your company."))
        require_can_act(user)
        if data.kind == NoteKind.PROPOSAL and db.session.scalar(
                sa.select(SupplierNote.id).where(SupplierNote.feedback_id == fresh.id,
                                                 SupplierNote.status == P.PENDING)) is not None:
            raise ServiceError(_l("A proposed resolution is already waiting for the bureau; "
                                  "post a progress note meanwhile."), field="kind")
        note = SupplierNote(
            feedback_id=fresh.id, supplier_id=user.supplier_id, author_id=user.id,
            kind=data.kind, body=body,
            status=P.PENDING if data.kind == NoteKind.PROPOSAL else None)
        db.session.add(note)
        db.session.flush()
        _tell_staff(fresh, note)
    return note


def decide_proposal(note: SupplierNote, name: str, actor, *, reason: str = "",
                    response: str = "", expected: str | None = None) -> SupplierNote:
    """Staff confirm a proposed resolution (the feedback's ``resolve`` step, with the
    proposal or the staff's edited text as the response) or decline it with a reason."""
    if name not in PROPOSAL_FLOW.transitions:
        raise NotAllowed(_l("This action is not possible in the record's current state."))

    def change(note: SupplierNote, step) -> None:
        note.decided_by_id, note.decided_at = actor.id, utcnow()
        if name == "decline":
            note.decision_note = reason.strip()
            return
        item = db.session.get(Feedback, note.feedback_id)
        if item is None or item.supplier_id != note.supplier_id:
            raise NotAllowed(_l("This feedback is no longer transferred to this supplier."))
        text = (response or "").strip() or note.body
        note.decision_note = "" if text == note.body else text
        feedback_services.apply_transition(item, "resolve", actor, response=text)

    def after(note: SupplierNote, step, before: str) -> None:
        author = note.author
        if author is not None and author.active:
            queue_email(author.email, "proposal_decided", locale=author.locale, note=note,
                        item=note.feedback, status_label=P.LABELS[note.status],
                        link=_link("partners.feedback_item", feedback_id=note.feedback_id))

    return PROPOSAL_FLOW.apply(note, name, actor, reason=reason, expected=expected,
                               change=change, after=after)


# --- action items, contracts, meetings ---------------------------------------------------------


def actions_stmt(user, state: str = ""):
    stmt = (sa.select(ActionItem).where(ActionItem.visible_to(user))
            .options(selectinload(ActionItem.meeting))
            .order_by(ActionItem.status, ActionItem.due_on, ActionItem.id))
    if state == "open":
        stmt = stmt.where(ActionItem.status == ActionStatus.OPEN)
    elif state == "due":
        stmt = stmt.where(ActionItem.due(today()))
    return stmt


def action_photos(action_id: int) -> list[ActionItemPhoto]:
    return list(db.session.scalars(sa.select(ActionItemPhoto).where(
        ActionItemPhoto.action_item_id == action_id).order_by(ActionItemPhoto.id)))


def complete_action(user, action: ActionItem, note: str, photos, *,
                    expected: str | None = None) -> ActionItem:
    """The supplier marks its action item done, with what it did and up to
    :data:`MAX_PHOTOS` photos; nothing is kept if anything fails."""
    note = (note or "").strip()
    photos = [photo for photo in photos if photo]
    problems = Problems()
    if not note:
        problems.add(_l("Describe what was done."), "note")
    elif len(note) > MAX_BODY:
        problems.add(too_long(MAX_BODY, len(note)), "note")
    if len(photos) > MAX_PHOTOS:
        problems.add(_l("At most %(n)d photos.", n=MAX_PHOTOS), "photos")
    problems.raise_any()
    require_can_act(user)
    stored: list[uploads.StoredImage] = []
    try:
        for upload in photos:
            stored.append(uploads.store_image(upload, PHOTO_FOLDER, field="photos"))

        def change(action: ActionItem, step) -> None:
            require_can_act(user)
            action.done_at = utcnow()
            action.note = (action.note + "\n" + note).strip()
            for image in stored:
                db.session.add(ActionItemPhoto(action_item_id=action.id, file_name=image.name,
                                               width=image.width, height=image.height))

        return ACTION_FLOW.apply(action, "complete", user, expected=expected, change=change)
    except BaseException:
        for image in stored:
            uploads.delete_image(PHOTO_FOLDER, image.name)
        raise


def contracts_stmt(user):
    return (sa.select(ServiceContract).where(ServiceContract.visible_to(user))
            .options(selectinload(ServiceContract.category))
            .order_by(ServiceContract.starts_on.desc(), ServiceContract.id.desc()))


def meetings_stmt(user):
    return (sa.select(Meeting).where(Meeting.visible_to(user),
                                     Meeting.status == MeetingStatus.PUBLISHED)
            .order_by(Meeting.starts_at.desc(), Meeting.id.desc()))


def own_supplier(user) -> Supplier:
    return db.session.get(Supplier, user.supplier_id)
