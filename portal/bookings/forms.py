from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..audit.vocabulary import describe
from ..forms import ChinesePhone, max_length, select_choices, strip_filter
from . import pricing
from .models import (
    Blackout,
    Booking,
    BookingSeries,
    BookingStatus,
    CateringOption,
    Equipment,
    Layout,
    Venue,
    VenueKind,
    VenuePhoto,
    WaitlistEntry,
    WaitlistStatus,
)

_required = DataRequired(message=_l("This field is required."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def session_choices():
    return select_choices(
        (key, pricing.SESSION_LABELS[key])
        for key in ("morning", "afternoon", "evening", "full_day", "custom"))


def layout_choices():
    return select_choices(Layout.LABELS.items())


def equipment_choices():
    return select_choices(Equipment.LABELS.items())


class SlotForm(Form):
    """One venue on one day (a FieldList entry; the parent form carries the CSRF token)."""

    venue_id = SelectField(_l("Venue"), coerce=int, validate_choice=False)
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Choose a date."))])
    session = SelectField(_l("Session"), choices=session_choices, default="morning")
    start = TimeField(lazy_pgettext("time", "From"), validators=[Optional()])
    end = TimeField(lazy_pgettext("time", "To"), validators=[Optional()])

    def times(self):
        """The slot's start and end: the session's, or the custom hours typed."""
        if self.session.data in pricing.SESSIONS:
            return pricing.SESSIONS[self.session.data]
        return self.start.data, self.end.data


class SearchForm(Form):
    """The free-venue search (GET, no CSRF needed)."""

    day = DateField(_l("Date"), validators=[Optional()])
    session = SelectField(_l("Session"), choices=session_choices, default="morning")
    start = TimeField(lazy_pgettext("time", "From"), validators=[Optional()])
    end = TimeField(lazy_pgettext("time", "To"), validators=[Optional()])
    headcount = IntegerField(_l("People"), validators=[Optional(), NumberRange(min=1, max=5000)])
    layout = SelectField(_l("Layout"), choices=lambda: [
        *select_choices([("", _l("Any layout"))]), *layout_choices()], default="")
    equipment = MultiCheckboxField(_l("Equipment"), choices=equipment_choices)


def day_or_every_day(value):
    """A catering line's day select: an ISO date, or "" for every day (None)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value) if value else None


class CateringDayField(SelectField):
    """Which day a kind of catering is served on: every day (None, the default) or one of the
    booking's days (the choices are the days of the slots, set by the view; the service
    refuses a day that is not one of them)."""

    def __init__(self, label=None, **kwargs):
        super().__init__(label, coerce=day_or_every_day, validate_choice=False, default=None,
                         **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Choose one of the booking's days, or every day.")) from None


class BookingForm(FlaskForm):
    title = StringField(_l("Event name"), validators=[_required, Length(max=200)],
                        filters=[strip_filter])
    headcount = IntegerField(_l("Number of people"), validators=[
        InputRequired(message=_l("Enter the number of people.")),
        NumberRange(min=1, max=5000, message=_l("Enter a number from 1 to 5000."))])
    layout = SelectField(_l("Layout"), choices=layout_choices, default=Layout.THEATRE)
    purpose = TextAreaField(_l("Purpose"), validators=[Optional(), Length(max=2000)])
    equipment = MultiCheckboxField(_l("Equipment needed"), choices=equipment_choices)
    slots = FieldList(FormField(SlotForm), min_entries=1, max_entries=20)
    meal_option = SelectField(_l("Meeting meals"), coerce=int, validate_choice=False, default=0)
    meals = IntegerField(_l("Meals per person"), default=0,
                         validators=[Optional(), NumberRange(min=0, max=20)])
    meal_day = CateringDayField(_l("Served on"))
    tea_option = SelectField(_l("Tea breaks"), coerce=int, validate_choice=False, default=0)
    tea_breaks = IntegerField(_l("Tea breaks per person"), default=0,
                              validators=[Optional(), NumberRange(min=0, max=20)])
    tea_break_day = CateringDayField(_l("Served on"))
    banquet_option = SelectField(_l("Banquet"), coerce=int, validate_choice=False, default=0)
    banquet_tables = IntegerField(_l("Tables"), default=0,
                                  validators=[Optional(), NumberRange(min=0, max=200)])
    banquet_day = CateringDayField(_l("Served on"))
    contact_phone = StringField(_l("Contact phone"),
                                validators=[Optional(), max_length(20), ChinesePhone()],
                                filters=[strip_filter])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)])


class StaffBookingForm(BookingForm):
    """Staff also book for government departments, at the internal rate or free."""

    department = StringField(_l("Government department"), validators=[Optional(),
                             Length(max=200)], filters=[strip_filter],
                             description=_l("Leave empty to book in your own name."))
    rate_kind = SelectField(_l("Rate"), choices=lambda: select_choices([
        (pricing.RateKind.EXTERNAL, _l("External rate")),
        (pricing.RateKind.INTERNAL, _l("Internal rate")),
        (pricing.RateKind.FREE, _l("Free of charge")),
    ]), default=pricing.RateKind.INTERNAL)
    category = SelectField(_l("Kind of meeting"), choices=lambda: [
        ("", _l("Ordinary meeting")),
        ("government_session", _l("Government session (people's congress, CPPCC)")),
    ], default="")


class DecisionForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])
    deposit_yuan = IntegerField(_l("Deposit (yuan)"), default=0,
                                validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    deposit_due_on = DateField(_l("Deposit due"), validators=[Optional()])
    actual_headcount = IntegerField(_l("Actual number of people"),
                                    validators=[Optional(), NumberRange(min=0, max=5000)])
    extras_yuan = IntegerField(_l("Extras (yuan)"), default=0,
                               validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    # The state the page showed: a step taken meanwhile by someone else is answered with who.
    expected_status = HiddenField()


class CheckInForm(FlaskForm):
    """The guests arrived (staff, on the day, often on a phone)."""

    arrived_time = TimeField(_l("Arrival time"),
                             validators=[InputRequired(message=_l("Enter a time."))])
    arrived_headcount = IntegerField(_l("People who came"), validators=[
        InputRequired(message=_l("Enter the number of people who came.")),
        NumberRange(min=0, max=5000)])
    arrival_extras = TextAreaField(_l("Extras on the spot"), validators=[Optional(),
                                                                          Length(max=1000)],
                                   filters=[strip_filter],
                                   description=_l("E.g. 10 more tea breaks, a second microphone."))
    expected_status = HiddenField()
    next = HiddenField()


class BlackoutForm(FlaskForm):
    venue_id = SelectField(_l("Venue"), coerce=int, validate_choice=False,
                           description=_l("Choose none to close the whole center."))
    starts_on = DateField(lazy_pgettext("date", "From"),
                          validators=[InputRequired(message=_l("Choose a date."))])
    ends_on = DateField(_l("To (inclusive)"),
                        validators=[InputRequired(message=_l("Choose a date."))])
    reason = StringField(_l("Reason"), validators=[_required, Length(max=200)],
                         filters=[strip_filter])


def weekday_choices():
    return select_choices([
        (0, _l("Monday")), (1, _l("Tuesday")), (2, _l("Wednesday")), (3, _l("Thursday")),
        (4, _l("Friday")), (5, _l("Saturday")), (6, _l("Sunday")),
    ])


class SeriesForm(FlaskForm):
    title = StringField(_l("Meeting"), validators=[_required, Length(max=200)],
                        filters=[strip_filter])
    department = StringField(_l("Government department"), validators=[_required,
                             Length(max=200)], filters=[strip_filter])
    venue_id = SelectField(_l("Venue"), coerce=int, validate_choice=False)
    weekday = SelectField(_l("Every"), coerce=int, choices=weekday_choices, default=0)
    start = TimeField(lazy_pgettext("time", "From"),
                      validators=[InputRequired(message=_l("Enter a time."))])
    end = TimeField(lazy_pgettext("time", "To"),
                    validators=[InputRequired(message=_l("Enter a time."))])
    first_day = DateField(_l("First date"),
                          validators=[InputRequired(message=_l("Choose a date."))])
    last_day = DateField(_l("Last date"),
                         validators=[InputRequired(message=_l("Choose a date."))])
    headcount = IntegerField(_l("Number of people"), validators=[
        InputRequired(message=_l("Enter the number of people.")), NumberRange(min=1, max=5000)])
    layout = SelectField(_l("Layout"), choices=layout_choices, default=Layout.BOARDROOM)
    rate_kind = SelectField(_l("Rate"), choices=lambda: select_choices([
        (pricing.RateKind.INTERNAL, _l("Internal rate")),
        (pricing.RateKind.FREE, _l("Free of charge")),
    ]), default=pricing.RateKind.FREE)
    skip_conflicts = BooleanField(_l("Skip taken dates"))


class VenueForm(FlaskForm):
    """A venue as staff manage it; rates in yuan, capacities per layout (empty: not offered)."""

    code = StringField(_l("Code"), validators=[_required, Length(max=20)], filters=[strip_filter])
    name = StringField(lazy_pgettext("organisation or thing", "Name"),
                       validators=[_required, Length(max=100)],
                       filters=[strip_filter])
    kind = SelectField(_l("Kind"), choices=lambda: select_choices(VenueKind.LABELS.items()))
    building = StringField(_l("Building"), validators=[_required, Length(max=100)],
                           filters=[strip_filter])
    floor = StringField(_l("Floor"), validators=[Optional(), Length(max=20)],
                        filters=[strip_filter])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    opens_at = TimeField(_l("Opens at"), validators=[InputRequired(message=_l("Enter a time."))])
    closes_at = TimeField(_l("Closes at"),
                          validators=[InputRequired(message=_l("Enter a time."))])
    setup_minutes = IntegerField(_l("Setup before (minutes)"), default=30,
                                 validators=[InputRequired(), NumberRange(min=0, max=600)])
    cleanup_minutes = IntegerField(_l("Cleanup after (minutes)"), default=30,
                                   validators=[InputRequired(), NumberRange(min=0, max=600)])
    public = BooleanField(_l("Outside clients may book it"), default=True)
    active = BooleanField(_l("In use"), default=True)
    equipment = MultiCheckboxField(_l("Equipment"), choices=equipment_choices)
    theatre = IntegerField(_l("Theatre"), validators=[Optional(), NumberRange(min=1, max=5000)])
    classroom = IntegerField(_l("Classroom"),
                             validators=[Optional(), NumberRange(min=1, max=5000)])
    boardroom = IntegerField(_l("Boardroom"),
                             validators=[Optional(), NumberRange(min=1, max=5000)])
    banquet = IntegerField(_l("Banquet tables"),
                           description=_l("Guests seated at banquet tables."),
                           validators=[Optional(), NumberRange(min=1, max=5000)])
    external_half_day = DecimalField(_l("External, half day (yuan)"), places=2,
                                     validators=[InputRequired(), NumberRange(min=0)])
    external_evening = DecimalField(_l("External, evening (yuan)"), places=2,
                                    validators=[InputRequired(), NumberRange(min=0)])
    external_full_day = DecimalField(_l("External, full day (yuan)"), places=2,
                                     validators=[InputRequired(), NumberRange(min=0)])
    internal_half_day = DecimalField(_l("Internal, half day (yuan)"), places=2,
                                     validators=[InputRequired(), NumberRange(min=0)])
    internal_evening = DecimalField(_l("Internal, evening (yuan)"), places=2,
                                    validators=[InputRequired(), NumberRange(min=0)])
    internal_full_day = DecimalField(_l("Internal, full day (yuan)"), places=2,
                                     validators=[InputRequired(), NumberRange(min=0)])


class PhotoForm(FlaskForm):
    photo = FileField(_l("Photo"), validators=[FileRequired(message=_l("Choose a file."))])
    caption = StringField(_l("Caption"), validators=[Optional(), Length(max=200)],
                          filters=[strip_filter])


class CateringOptionForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=lambda: select_choices([
        ("meal", _l("Meeting meal (per person)")), ("tea_break", _l("Tea break (per person)")),
        ("banquet", _l("Banquet (per table)"))]))
    name = StringField(lazy_pgettext("organisation or thing", "Name"),
                       validators=[_required, Length(max=100)],
                       filters=[strip_filter])
    price = DecimalField(_l("Price (yuan)"), places=2,
                         validators=[InputRequired(), NumberRange(min=0)])


# How the audit trail reads these records (see portal.audit.vocabulary).
describe(Booking, _l("Booking"), StaffBookingForm, DecisionForm, CheckInForm, labels={
    "arrived_at": CheckInForm.arrived_time,
    "client_id": _l("Client"), "starts_at": _l("Starts"), "expires_at": _l("Request expires"),
    "decided_at": _l("Decided"), "deposit_fen": DecisionForm.deposit_yuan,
    "quote_total_fen": _l("Quote total"), "extras_fen": DecisionForm.extras_yuan,
    "final_total_fen": _l("Final total"), "series_id": _l("Weekly meeting"),
}, choices={"status": BookingStatus.LABELS},
         # slot_seconds: a sum the reports keep of the slots, no one's decision
         hidden=("approved_quote", "slot_seconds"))
describe(Venue, _l("Venue"), VenueForm)
describe(VenuePhoto, _l("Venue photo"), PhotoForm, labels={"venue_id": _l("Venue")},
         display=lambda photo: photo.caption or f"#{photo.id}", hidden=("file_name",))
describe(CateringOption, _l("Catering standard"), CateringOptionForm,
         labels={"unit_price_fen": CateringOptionForm.price})
describe(Blackout, _l("Closure"), BlackoutForm, labels={
    "starts_at": BlackoutForm.starts_on, "ends_at": BlackoutForm.ends_on},
    display=lambda blackout: blackout.reason)
describe(BookingSeries, _l("Weekly meeting"), SeriesForm, labels={
    "starts_at_time": SeriesForm.start, "ends_at_time": SeriesForm.end})


class WaitlistForm(FlaskForm):
    """Join the waitlist of a taken period: venue, day, session or times, people."""

    venue_id = SelectField(_l("Venue"), coerce=int, validate_choice=False)
    day = DateField(_l("Date"), validators=[InputRequired(message=_l("Choose a date."))])
    session = SelectField(_l("Session"), choices=session_choices, default="morning")
    start = TimeField(lazy_pgettext("time", "From"), validators=[Optional()])
    end = TimeField(lazy_pgettext("time", "To"), validators=[Optional()])
    headcount = IntegerField(_l("Number of people"), validators=[
        InputRequired(message=_l("Enter the number of people.")),
        NumberRange(min=1, max=5000, message=_l("Enter a number from 1 to 5000."))])
    title = StringField(_l("Event name"), validators=[Optional(), Length(max=200)],
                        filters=[strip_filter])

    def times(self):
        if self.session.data in pricing.SESSIONS:
            return pricing.SESSIONS[self.session.data]
        return self.start.data, self.end.data


class WaitlistStepForm(FlaskForm):
    """Leave a waitlist (the client) or remove an entry (staff, with a reason)."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)])
    expected_status = HiddenField()


describe(WaitlistEntry, _l("Waitlist entry"), WaitlistForm, WaitlistStepForm, labels={
    "client_id": _l("Client"), "starts_at": _l("Starts"), "ends_at": _l("Ends"),
    "created_at": _l("Joined"), "offered_at": _l("Hold offered"), "booking_id": _l("Booking"),
}, choices={"status": WaitlistStatus.LABELS}, hidden=("active", "ahead"))
