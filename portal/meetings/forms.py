"""Forms of joint meetings; choices from the database are set by the views."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy.orm import selectinload
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..audit.vocabulary import describe
from ..forms import strip_filter
from .models import (
    ActionItem,
    ActionStatus,
    AgendaItem,
    AgendaKind,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
    short_text,
)

_required = DataRequired(message=_l("This field is required."))
REASON_HINT = _l("The minutes are published: say why they are amended (kept as a revision).")


def _reason():
    return TextAreaField(_l("Reason for the amendment"),
                         validators=[Optional(), Length(max=2000)], description=REASON_HINT)


class MeetingForm(FlaskForm):
    title = StringField(_l("Meeting title"), validators=[_required, Length(max=200)],
                        filters=[strip_filter])
    day = DateField(_l("Meeting day"), validators=[InputRequired(message=_l("Enter the day."))])
    start = TimeField(_l("Starts at"), validators=[
        InputRequired(message=_l("Enter the start and end times."))])
    end = TimeField(_l("Ends at"), validators=[
        InputRequired(message=_l("Enter the start and end times."))])
    booking_id = SelectField(_l("Conference-center booking"), coerce=int, default=0,
                             description=_l("Optional: the booking of the room it is held in."))
    venue_id = SelectField(_l("Venue to book"), coerce=int, default=0)
    book_room = BooleanField(_l("Book this room for the meeting's times"),
                             description=_l("A staff booking at the internal rate, saved with "
                                            "the meeting; nothing is saved if the room is "
                                            "taken."))
    location = StringField(_l("Location"), validators=[Optional(), Length(max=200)],
                           filters=[strip_filter])
    supplier_ids = SelectMultipleField(_l("Invited suppliers"), coerce=int,
                                       validators=[Optional()])
    staff_ids = SelectMultipleField(_l("Staff attending"), coerce=int, validators=[Optional()])
    chair = StringField(_l("Chair"), validators=[Optional(), Length(max=100)],
                        filters=[strip_filter])
    recorder = StringField(_l("Minutes taken by"), validators=[Optional(), Length(max=100)],
                           filters=[strip_filter])


class AgendaItemForm(FlaskForm):
    title = StringField(_l("Topic"), validators=[_required, Length(max=300)],
                        filters=[strip_filter])
    supplier_id = SelectField(_l("Supplier"), coerce=int, default=0)
    reason = _reason()


class MinutesForm(FlaskForm):
    discussion = TextAreaField(_l("Discussion"), validators=[Optional(), Length(max=20000)],
                               description=_l("Markdown: **bold**, lists, links."))
    decisions = TextAreaField(_l("Decisions"), validators=[Optional(), Length(max=10000)])
    reason = _reason()


class SummaryForm(FlaskForm):
    summary = TextAreaField(_l("General remarks"), validators=[Optional(), Length(max=20000)])
    reason = _reason()


class ActionForm(FlaskForm):
    description = TextAreaField(_l("What is to be done"),
                                validators=[_required, Length(max=4000)], filters=[strip_filter])
    supplier_id = SelectField(_l("Responsible supplier"), coerce=int, default=0)
    responsible_person = StringField(_l("Responsible person"),
                                     validators=[Optional(), Length(max=100)],
                                     filters=[strip_filter])
    due_on = DateField(_l("Complete by"), validators=[Optional()])
    feedback_ids = SelectMultipleField(_l("Answers feedback"), coerce=int,
                                       validators=[Optional()])
    reason = _reason()


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)])
    # The state the page showed: a step taken meanwhile by someone else is answered with who.
    expected_status = HiddenField()


class AttendeeForm(FlaskForm):
    user_id = SelectField(_l("Member of staff"), coerce=int, default=0)
    contact_id = SelectField(_l("Or one of the suppliers' contacts"), coerce=int, default=0)
    name = StringField(_l("Or a supplier's representative"),
                       validators=[Optional(), Length(max=100)], filters=[strip_filter])
    title = StringField(_l("Position"), validators=[Optional(), Length(max=100)],
                        filters=[strip_filter])
    supplier_id = SelectField(_l("Supplier"), coerce=int, default=0)


class ResolveForm(FlaskForm):
    response = TextAreaField(_l("Answer to the supervisor"),
                             validators=[_required, Length(max=4000)])


# How the audit trail reads these records (see portal.audit.vocabulary).
describe(Meeting, _l("Joint meeting"), MeetingForm, SummaryForm, labels={
    "starts_at": MeetingForm.start, "ends_at": MeetingForm.end,
    "cancel_reason": _l("Reason for cancelling"), "published_at": _l("Minutes published")},
    choices={"status": MeetingStatus.LABELS})
describe(MeetingAttendee, _l("Attendee"), AttendeeForm, labels={"meeting_id": _l("Meeting"),
                                                               "attended": _l("Present")},
         display=lambda attendee: attendee.display_name,
         load=(selectinload(MeetingAttendee.user),))
describe(AgendaItem, _l("Agenda item"), AgendaItemForm, MinutesForm, labels={
    "meeting_id": _l("Meeting"), "kind": _l("Kind"), "feedback_id": _l("Feedback"),
    "carried_action_id": _l("Carried-over action"), "figures": _l("Satisfaction figures")},
    choices={"kind": AgendaKind.LABELS}, display=lambda item: short_text(item.title, 40))
describe(ActionItem, _l("Action item"), ActionForm, labels={
    "meeting_id": _l("Meeting"), "agenda_item_id": _l("Agenda item"), "done_at": _l("Done"),
    "verified_at": _l("Verified"), "verified_by_id": _l("Verified by")},
    choices={"status": ActionStatus.LABELS},
    display=lambda action: short_text(action.description, 40))
