"""Forms of the feedback pages; the rules behind them live in :mod:`portal.feedback.services`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..audit.vocabulary import describe
from ..forms import int_or_none as _int_or_none
from ..forms import max_length, select_choices, strip_filter
from .models import (
    Feedback,
    FeedbackPhoto,
    FeedbackSource,
    FeedbackStatus,
    SupervisorAppointment,
    Urgency,
)

RATINGS = select_choices([
    (5, _l("5 – very satisfied")), (4, _l("4 – satisfied")), (3, _l("3 – acceptable")),
    (2, _l("2 – dissatisfied")), (1, _l("1 – very dissatisfied"))])


class FeedbackForm(FlaskForm):
    """What a supervisor submits; the same rules (and messages) as
    :func:`portal.feedback.services.check_input`, which also checks what only the database
    knows (the service is offered, the room is in the building)."""

    category_id = SelectField(_l("Service"), coerce=_int_or_none, validate_choice=False,
                              validators=[InputRequired(_l("Choose the service concerned."))])
    building_id = SelectField(_l("Building"), coerce=_int_or_none, validate_choice=False)
    room_id = SelectField(_l("Room"), coerce=_int_or_none, validate_choice=False)
    location_detail = StringField(_l("Where exactly"),
                                  validators=[Optional(), max_length(Feedback.MAX_LOCATION)],
                                  filters=[strip_filter],
                                  description=_l("For example: third floor, east corridor."))
    description = TextAreaField(_l("What happened"), filters=[strip_filter], validators=[
        DataRequired(_l("Describe what happened.")), max_length(Feedback.MAX_DESCRIPTION)])
    service_rating = RadioField(_l("Your rating of the service"), choices=RATINGS,
                                coerce=_int_or_none, validate_choice=False,
                                validators=[InputRequired(_l("Rate the service from 1 to 5."))])
    urgency = SelectField(_l("Urgency"), choices=select_choices(Urgency.LABELS.items()),
                          default="normal")
    photos = MultipleFileField(_l("Photos (up to 5)"),
                               description=_l("JPEG, PNG, WebP or GIF images."))


class ActionForm(FlaskForm):
    """One form for every transition button; the fields used depend on the transition."""

    expected_status = HiddenField()
    assignee_id = SelectField(_l("Assign to"), coerce=_int_or_none, validate_choice=False)
    response = TextAreaField(_l("Response to the supervisor"),
                             validators=[Optional(), Length(max=4000)], filters=[strip_filter])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=2000)],
                           filters=[strip_filter])
    duplicate_of_id = IntegerField(_l("Number of the original feedback"),
                                   validators=[Optional()])
    handling_rating = RadioField(_l("Your rating of the handling"), choices=RATINGS,
                                 coerce=_int_or_none, validate_choice=False)
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)],
                            filters=[strip_filter])


class AppointmentForm(FlaskForm):
    user_id = SelectField(_l("Supervisor account"), coerce=_int_or_none, validate_choice=False,
                          validators=[InputRequired(
                              _l("Choose an active account with the supervisor role."))])
    unit = StringField(_l("Unit"), validators=[DataRequired(), Length(max=200)],
                       filters=[strip_filter],
                       description=_l("The committee, office or bureau, e.g. 区财政局办公室."))
    title = StringField(_l("Title"), validators=[Optional(), Length(max=100)],
                        filters=[strip_filter])
    letter_number = StringField(_l("Appointment letter number"),
                                validators=[DataRequired(), Length(max=50)],
                                filters=[strip_filter])
    term_start = DateField(_l("Term starts"), validators=[InputRequired()])
    term_end = DateField(_l("Term ends (last day)"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason for the replacement"),
                           validators=[Optional(), Length(max=2000)], filters=[strip_filter])


class EndTermForm(FlaskForm):
    ended_on = DateField(_l("Last day of the term"), validators=[InputRequired()])
    reason = TextAreaField(_l("Reason"), validators=[Length(max=2000)], filters=[strip_filter])


# How the audit trail reads these records (see portal.audit.vocabulary).
describe(Feedback, _l("Feedback"), FeedbackForm, ActionForm, labels={
    "supervisor_id": _l("Supervisor"), "appointment_id": _l("Appointment letter number"),
    "assignee_id": ActionForm.assignee_id, "supplier_id": _l("Supplier"),
    "contract_id": _l("Service contract"), "duplicate_of_id": _l("Duplicate of"),
    "closing_comment": ActionForm.comment, "reopen_count": _l("Times reopened"),
    "escalated_at": _l("Escalated"),
    "submitted_at": lazy_pgettext("feedback time", "Submitted"),
    "first_response_at": _l("First response"),
    "resolved_at": lazy_pgettext("feedback time", "Resolved"),
    "closed_at": lazy_pgettext("feedback time", "Closed"),
    "response_due_on": _l("First response due"),
    "resolution_due_on": _l("Resolution due"), "responded_late": _l("First response late"),
    "resolved_late": _l("Resolved late"),
    "source": _l("Source"), "venue_id": _l("Venue"), "place_label": _l("QR code of"),
    "reporter_contact": _l("Reporter's contact"),
}, choices={"status": FeedbackStatus.LABELS, "urgency": Urgency.LABELS,
            "source": FeedbackSource.LABELS},
    hidden=("follow_token_hash", "reporter_address_hash"),
    display=lambda item: _l("No. %(id)d", id=item.id))
describe(FeedbackPhoto, _l("Feedback photo"), labels={"feedback_id": _l("Feedback")},
         display=lambda photo: f"#{photo.id}", hidden=("file_name",))
describe(SupervisorAppointment, _l("Supervisor appointment"), AppointmentForm, EndTermForm,
         labels={"end_reason": EndTermForm.reason, "replaces_id": _l("Replaces")},
         display=lambda appointment: appointment.letter_number)


class PublicForm(FlaskForm):
    """The QR code's phone page (no login): the supervisor form's fields and messages where
    they agree, an optional contact, and two hidden guards (:mod:`portal.feedback.public`):
    ``website`` is a honeypot people never see, ``started`` the signed time the page was
    served (the minimum fill time)."""

    category_id = FeedbackForm.category_id
    description = FeedbackForm.description
    photos = MultipleFileField(_l("Photos (up to 3)"),
                               description=_l("JPEG, PNG, WebP or GIF images."))
    service_rating = FeedbackForm.service_rating
    contact = StringField(_l("Your phone or email (optional)"), filters=[strip_filter],
                          validators=[Optional(), max_length(200)],
                          description=_l("Only to tell you the outcome; leave it empty to stay "
                                         "anonymous."))
    website = StringField(_l("Leave this field empty"), validators=[Optional(), Length(max=200)])
    started = HiddenField()


class FollowForm(FlaskForm):
    """The reporter's step on the follow page: confirm (with a rating) or reopen."""

    action = HiddenField()
    expected_status = HiddenField()
    handling_rating = ActionForm.handling_rating
    comment = ActionForm.comment
    reason = ActionForm.reason
