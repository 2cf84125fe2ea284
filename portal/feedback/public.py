"""The public QR channel: anyone in the compound reports through a place's QR code.

* **Places and their codes.**  A place is a room (rentals), a venue or a canteen hall
  (bookings).  Its QR URL carries ``sign_place()``: the place's kind and id signed with the
  app's secret key (itsdangerous), so a tampered id fails the signature and is a 404, while a
  genuine code of a room since removed or disposed finds no open place and says so politely.
* **Submitting.**  :func:`submit_public` enters the item into the SAME feedback queue with
  ``source = "public"`` and the place; it follows the same transition table
  (:data:`portal.feedback.services.WORKFLOW`) and SLA.  Photos go through the one upload
  mechanism with the supervisor form's messages.  The reporter receives a follow link whose
  token only they hold (the database keeps its SHA-256, as the survey links do).
* **Abuse resistance** (no third-party captcha): rate limits per address and per place
  (Flask-Limiter, in the view), a honeypot field and a minimum fill time (:func:`form_stamp`,
  a signed timestamp), size limits, and the staff action ``mark_spam`` (a transition): an
  address with :data:`SPAM_THROTTLE` items marked spam in :data:`SPAM_WINDOW_DAYS` days is
  refused further reports for that window.  Only a hash of the address is stored.
* **Closing.**  A public item is resolved by staff like any other; only its reporter, through
  the follow link, confirms and closes it (with a rating) or reopens it.  Nobody closes it on
  their behalf: an unconfirmed item stays "resolved".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, Signer
from sqlalchemy.orm import selectinload

from .. import uploads
from ..bookings.models import Venue, VenueKind
from ..catalogue.models import ServiceCategory
from ..database import utcnow, write_transaction
from ..errors import NotAllowed, Problems, ServiceError
from ..extensions import db
from ..outbox.services import queue_email
from ..rentals.models import Building, Room, RoomStatus
from ..urls import base_url
from . import services
from .models import Feedback, FeedbackEvent, FeedbackPhoto, FeedbackSource, FeedbackStatus

S = FeedbackStatus
MAX_PHOTOS = 3
MAX_CONTACT = 200
MIN_FILL_SECONDS = 3  # a person needs more than this to read, type and tap; a bot does not
MAX_FORM_AGE = 24 * 3600  # an older form is refused as expired (filled again)
SPAM_THROTTLE = 3  # items marked spam from one address ...
SPAM_WINDOW_DAYS = 30  # ... within this many days: the address may report no more
ROOM, VENUE = "r", "v"
# The service a place's form preselects (by category code), where that makes sense.
PRESELECT = {VenueKind.BANQUET_HALL: "canteen", VenueKind.HALL: "meeting",
             VenueKind.MEETING_ROOM: "meeting"}
REPORTER = "reporter"  # the workflow role of a public reporter acting through their link


# --- places and their signed codes --------------------------------------------------------


@dataclass(frozen=True)
class Place:
    kind: str  # ROOM or VENUE
    id: int
    name: str
    building_id: int | None = None
    room_id: int | None = None
    venue_id: int | None = None
    category_code: str = ""


def _signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="feedback-qr-place")


def sign_place(kind: str, place_id: int) -> str:
    """The token of a place's QR URL: ``r12.<signature>`` (short, so the code stays coarse)."""
    return _signer().sign(f"{kind}{place_id}").decode()


def unsign_place(token: str) -> tuple[str, int] | None:
    """(kind, id) of a genuine token; None for anything tampered with or malformed."""
    try:
        value = _signer().unsign(token or "").decode()
    except (BadSignature, UnicodeDecodeError):
        return None
    kind, number = value[:1], value[1:]
    if kind not in (ROOM, VENUE) or not number.isdigit():
        return None
    return kind, int(number)


class PlaceGone(Exception):
    """A genuine code whose place no longer exists or is no longer in use."""


def place_for(token: str) -> Place | None:
    """The place of a QR token: None if the token is not genuine (a 404); :class:`PlaceGone`
    if it is genuine but the room was removed or disposed, or the venue closed."""
    found = unsign_place(token)
    if found is None:
        return None
    kind, place_id = found
    if kind == ROOM:
        room = db.session.get(Room, place_id)
        if room is None or room.status == RoomStatus.DISPOSED:
            raise PlaceGone
        return Place(ROOM, room.id, room.label, building_id=room.building_id, room_id=room.id,
                     category_code="cleaning")
    venue = db.session.get(Venue, place_id)
    if venue is None or not venue.active:
        raise PlaceGone
    return Place(VENUE, venue.id, venue.name, venue_id=venue.id,
                 category_code=PRESELECT.get(venue.kind, ""))


def qr_url(kind: str, place_id: int) -> str:
    return base_url() + url_for("feedback.public_form",
                                                    token=sign_place(kind, place_id))


def building_names() -> list[str]:
    """Every building with a place to label: the rentals' buildings and the venues'."""
    rentals = db.session.scalars(sa.select(Building.name)).all()
    venues = db.session.scalars(sa.select(Venue.building).where(Venue.active.is_(True))
                                .distinct()).all()
    return sorted({*rentals, *venues})


def places_of(building: str, limit: int = 500) -> list[Place]:
    """The places of one building for its QR sheet: rooms in use, then venues and halls."""
    rooms = db.session.scalars(
        sa.select(Room).join(Building, Building.id == Room.building_id)
        .where(Building.name == building, Room.status != RoomStatus.DISPOSED)
        .options(selectinload(Room.building)).order_by(Room.code).limit(limit)).all()
    venues = db.session.scalars(
        sa.select(Venue).where(Venue.building == building, Venue.active.is_(True))
        .order_by(Venue.code).limit(limit)).all()
    return ([Place(ROOM, r.id, r.label, building_id=r.building_id, room_id=r.id) for r in rooms]
            + [Place(VENUE, v.id, v.name, venue_id=v.id) for v in venues])


# --- the form's stamp: the minimum fill time ------------------------------------------------


def _stamp_signer() -> Signer:
    return Signer(current_app.config["SECRET_KEY"], salt="feedback-qr-form")


def form_stamp(now: float | None = None) -> str:
    """A signed time for the form's hidden field: when the page was served."""
    return _stamp_signer().sign(str(int(now if now is not None else time.time()))).decode()


def check_stamp(stamp: str, now: float | None = None) -> None:
    """ServiceError unless the form was served at least :data:`MIN_FILL_SECONDS` ago (and not
    more than a day ago); the message goes above the form (field None)."""
    now = now if now is not None else time.time()
    try:
        served = int(_stamp_signer().unsign(stamp or "").decode())
    except (BadSignature, ValueError, UnicodeDecodeError):
        raise ServiceError(_l("This form has expired. Please check what you wrote and send "
                              "it again.")) from None
    if now - served > MAX_FORM_AGE:
        raise ServiceError(_l("This form has expired. Please check what you wrote and send "
                              "it again."))
    if now - served < MIN_FILL_SECONDS:
        raise ServiceError(_l("That was very quick. Please check what you wrote and send it "
                              "again."))


# --- addresses and the spam throttle ---------------------------------------------------------


def address_hash(address: str) -> str:
    """The client address as stored: keyed SHA-256, so the table holds no addresses."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"feedback-qr:{address}".encode(), hashlib.sha256).hexdigest()


def is_throttled(address: str) -> bool:
    """Has this address had :data:`SPAM_THROTTLE` items marked spam within the window?"""
    since = utcnow() - timedelta(days=SPAM_WINDOW_DAYS)
    count = db.session.scalar(sa.select(sa.func.count(Feedback.id)).where(
        Feedback.reporter_address_hash == address_hash(address),
        Feedback.status == S.SPAM, Feedback.submitted_at >= since))
    return count >= SPAM_THROTTLE


# --- submitting --------------------------------------------------------------------------------


@dataclass
class PublicInput:
    category_id: int | None
    description: str
    service_rating: int | None
    contact: str = ""
    photos: list = field(default_factory=list)


def _check_contact(contact: str, problems: Problems) -> str:
    from email_validator import EmailNotValidError, validate_email

    from ..forms import _PHONE

    contact = (contact or "").strip()
    if not contact:
        return ""
    if len(contact) > MAX_CONTACT:
        problems.add(_l("Enter a phone number or an email address."), "contact")
    elif "@" in contact:
        try:
            contact = validate_email(contact, check_deliverability=False).normalized
        except EmailNotValidError:
            problems.add(_l("Enter a valid email address, or leave it empty."), "contact")
    elif not _PHONE.match(contact.replace(" ", "")):
        problems.add(_l("Enter a phone number or an email address."), "contact")
    return contact


def check_public(data: PublicInput) -> tuple[ServiceCategory, str]:
    """Every problem at once, with the supervisor form's messages where the fields agree."""
    photos = [p for p in data.photos if p]
    too_many = len(photos) > MAX_PHOTOS
    base = services.FeedbackInput(category_id=data.category_id, description=data.description,
                                  service_rating=data.service_rating, photos=[])
    problems = Problems()
    category = None
    try:
        category = services.check_input(base)
    except ServiceError as error:
        problems.add(error)
    contact = _check_contact(data.contact, problems)
    if too_many:
        problems.add(_l("At most %(n)d photos.", n=MAX_PHOTOS), "photos")
    problems.raise_any()
    return category, contact


def follow_token(item_id: int) -> str:
    """The follow link's token, as the survey links do it: derived from the item and the
    secret key (so the closing mail can repeat the link) while the database keeps only its
    SHA-256 (:func:`token_hash`)."""
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"feedback-follow:{item_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def follow_link(token: str) -> str:
    return base_url() + url_for("feedback.follow", token=token)


def submit_public(place: Place, data: PublicInput, address: str) -> tuple[Feedback, str]:
    """A report through a QR code: the item and the follow link's token (shown once, and
    mailed when the reporter left an email).  Nothing is saved if anything fails."""
    if is_throttled(address):
        raise NotAllowed(_l("Reports from this connection are paused for a while. Please ask "
                            "the service desk on site."))
    category, contact = check_public(data)
    stored: list[uploads.StoredImage] = []
    try:
        for upload in data.photos:
            if upload:
                stored.append(uploads.store_image(upload, services.PHOTO_FOLDER,
                                                  field="photos"))
        with write_transaction():
            day = services.today()
            item = Feedback(
                source=FeedbackSource.PUBLIC, category_id=category.id,
                building_id=place.building_id, room_id=place.room_id, venue_id=place.venue_id,
                place_label=place.name[:200], reporter_contact=contact,
                reporter_address_hash=address_hash(address),
                description=data.description.strip(), service_rating=data.service_rating,
                urgency="normal", status=S.SUBMITTED, submitted_at=utcnow(),
                **category.deadlines(day))
            db.session.add(item)
            db.session.flush()
            token = follow_token(item.id)
            item.follow_token_hash = token_hash(token)
            for image in stored:
                db.session.add(FeedbackPhoto(feedback_id=item.id, file_name=image.name,
                                             width=image.width, height=image.height))
            db.session.add(FeedbackEvent(feedback_id=item.id, action="submit",
                                         to_status=S.SUBMITTED, actor_id=None))
            services._notify_staff(item, category, "feedback_submitted", supervisor=None)
            if item.reporter_email:
                queue_email(item.reporter_email, "feedback_public_received", item=item,
                            category=category, link=follow_link(token))
    except BaseException:
        for image in stored:
            uploads.delete_image(services.PHOTO_FOLDER, image.name)
        raise
    return item, token


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find_by_token(token: str) -> Feedback | None:
    """The public item of a follow link; spam is not shown to anyone through a link."""
    if not token or len(token) > 100:
        return None
    return db.session.scalar(sa.select(Feedback).where(
        Feedback.follow_token_hash == token_hash(token),
        Feedback.source == FeedbackSource.PUBLIC, Feedback.status != S.SPAM)
        .options(selectinload(Feedback.category), selectinload(Feedback.photos),
                 selectinload(Feedback.events)))


@dataclass(frozen=True)
class Reporter:
    """The anonymous reporter of one public item, acting through its follow link: the
    workflow's actor for ``close`` and ``reopen`` (role :data:`REPORTER`, owner of that item
    only)."""

    feedback_id: int
    role: str = REPORTER
    id: None = None

    @property
    def name(self) -> str:
        return str(_l("the reporter (QR code)"))
