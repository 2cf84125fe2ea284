"""Survey forms. Choices from the database (questionnaires, categories) are set by the views;
the rules live in :mod:`portal.surveys.services`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..audit.vocabulary import describe
from ..forms import max_length, select_choices, strip_filter
from ..lists import join_names
from .models import (
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    RoundStatus,
    Scale,
    SurveyRound,
)

_required = DataRequired(message=_l("This field is required."))


class MultiCheckbox(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class QuestionnaireForm(FlaskForm):
    title = StringField(_l("Questionnaire title"), validators=[_required, Length(max=200)],
                        filters=[strip_filter])
    intro = TextAreaField(_l("Introduction shown to respondents"),
                          validators=[Length(max=2000)], filters=[strip_filter])


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Question type"), choices=select_choices(QuestionKind.LABELS.items()),
                       default=QuestionKind.SCALE)
    category_id = SelectField(_l("Service category"), coerce=str, choices=[],
                              description=_l("Required for a scale question."))
    prompt = StringField(_l("Question"), validators=[_required, Length(max=300)],
                         filters=[strip_filter])


def satisfied_choices():
    return select_choices((str(point), Scale.LABELS[point]) for point in Scale.POINTS)


class RoundForm(FlaskForm):
    title = StringField(_l("Survey title"), validators=[_required, Length(max=200)],
                        filters=[strip_filter])
    questionnaire_id = SelectField(_l("Questionnaire"), coerce=str, choices=[],
                                   validators=[InputRequired(_l("Choose a questionnaire."))],
                                   description=_l("The round asks the questionnaire's latest "
                                                  "version, frozen when the round is "
                                                  "published."))
    closes_on = DateField(_l("Closes on"), validators=[InputRequired(
        message=_l("This field is required."))],
        description=_l("The last day answers are taken."))
    anonymous = BooleanField(_l("Anonymous: answers cannot be linked to the people who gave "
                                "them"), default=True)
    satisfied_points = MultiCheckbox(
        _l("Counted as satisfied"), choices=satisfied_choices(), coerce=int,
        default=list(Scale.DEFAULT_SATISFIED),
        description=_l("Satisfaction rate = answers on these points ÷ valid answers "
                       "(“cannot judge” is not valid)."))
    target_rate = IntegerField(_l("Target rate (%)"), validators=[
        Optional(), NumberRange(min=0, max=100, message=_l("Enter a percentage from 0 to 100."))])
    reminder_days = IntegerField(
        _l("Automatic reminder, days before closing"),
        validators=[Optional(), NumberRange(min=1, max=60,
                                            message=_l("Enter a number from 1 to 60."))],
        description=_l("Leave empty for no automatic reminder."))


class AddressesForm(FlaskForm):
    addresses = TextAreaField(_l("Email addresses"), validators=[_required, max_length(20000)],
                              description=_l("One per line: staff of the units the bureau "
                                             "serves; no account is needed."))
    unit = StringField(_l("Unit"), validators=[Length(max=200)], filters=[strip_filter])


class ConfirmForm(FlaskForm):
    """A POST with nothing but its CSRF token (invite, remind)."""


class RoundActionForm(ConfirmForm):
    """Publish or close a round: the state the page showed travels with it, so a step taken
    meanwhile by someone else is answered with who took it."""

    expected_status = HiddenField()


# How the audit trail reads these records (see portal.audit.vocabulary).
describe(Questionnaire, _l("Questionnaire"), QuestionnaireForm)
describe(QuestionnaireVersion, _l("Questionnaire version"), labels={
    "questionnaire_id": _l("Questionnaire"), "number": _l("Version"), "frozen_at": _l("Frozen")},
    display=lambda version: _l("Version %(number)d", number=version.number))
describe(Question, _l("Question"), QuestionForm, labels={
    "version_id": _l("Questionnaire version"), "position": _l("Order in lists")},
    display=lambda question: question.prompt)
describe(SurveyRound, _l("Survey round"), RoundForm, labels={
    "version_id": _l("Questionnaire version"), "satisfied_mask": RoundForm.satisfied_points,
    "published_on": _l("Published on"), "closed_on": _l("Closed early on"),
    "figures_stored_at": _l("Figures stored")},
    choices={"status": RoundStatus.LABELS,
             "satisfied_mask": lambda: {str(mask): join_names(
                 Scale.LABELS[point] for point in Scale.points(mask))
                 for mask in range(2, 31, 2)}},
    routine=("figures_stored_at",))  # bookkeeping of the stored figures, not a decision
