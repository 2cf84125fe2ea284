"""Forms of the rentals inventory: buildings, rooms, the inline room status, tenants.

Choices that come from the database (buildings, client accounts) are set by the views.
The rules (credit code and ID checks, a leased room keeps its status...) live in the services.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectField, StringField, TextAreaField
from wtforms.validators import (
    DataRequired,
    Email,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from ..audit.vocabulary import describe
from ..forms import ChinesePhone, max_length, select_choices, strip_filter
from .models import Building, Room, RoomPhoto, RoomStatus, Tenant, UseType

_required = DataRequired(message=_l("This field is required."))
MAX_AREA = Decimal("99999999.99")  # Numeric(10, 2)
MAX_STANDARD = Decimal("100000")  # yuan per m² per month: more is a typing mistake


class Finite:
    """Refuse NaN and infinity (which Decimal accepts) before any comparison is made."""

    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        if field.data is not None and not field.data.is_finite():
            raise StopValidation(self.message)


class GreaterThanZero:
    def __init__(self, message=None):
        self.message = message

    def __call__(self, form, field):
        if field.data is not None and field.data <= 0:
            raise ValidationError(self.message)


def stored_status_choices():
    return select_choices((status, RoomStatus.LABELS[status]) for status in RoomStatus.STORED)


def use_type_choices():
    return select_choices(UseType.LABELS.items())


TENANT_KINDS = {"organisation": _l("Organisation"), "person": _l("Person")}


class BuildingForm(FlaskForm):
    name = StringField(lazy_pgettext("organisation or thing", "Name"),
                       validators=[_required, Length(max=100)],
                       filters=[strip_filter])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)],
                          filters=[strip_filter])


class RoomForm(FlaskForm):
    building_id = SelectField(_l("Building"), coerce=int, validators=[
        DataRequired(message=_l("Choose a building."))])
    code = StringField(_l("Room number"), validators=[_required, Length(max=20)],
                       filters=[strip_filter], description=_l("Unique within the building."))
    floor = StringField(_l("Floor"), validators=[Optional(), Length(max=10)],
                        filters=[strip_filter])
    area = DecimalField(_l("Usable area (m²)"), places=2, validators=[
        InputRequired(message=_l("Enter the area.")),
        Finite(message=_l("The area must be greater than zero.")),
        GreaterThanZero(message=_l("The area must be greater than zero.")),
        NumberRange(max=MAX_AREA)])
    use_type = SelectField(_l("Use"), choices=use_type_choices, default="office")
    rent_standard = DecimalField(
        _l("Rent standard (yuan per m² per month)"), places=2, default=Decimal(0),
        validators=[InputRequired(message=_l("Enter the rent standard.")),
                    Finite(message=_l("Enter an amount from 0 to 100,000.")),
                    NumberRange(min=0, max=MAX_STANDARD,
                                message=_l("Enter an amount from 0 to 100,000."))])
    facilities = TextAreaField(_l("Facilities"), validators=[Optional(), Length(max=2000)])
    status = SelectField(_l("Status"), choices=stored_status_choices, default=RoomStatus.IDLE,
                         description=_l("Whether the room is leased follows from its leases."))
    office_department = StringField(
        _l("Department using it"), validators=[Optional(), Length(max=200)],
        filters=[strip_filter], description=_l("For office space only."))


class RoomStatusForm(FlaskForm):
    """The inline status change of one room (a row of the room list, or the room's page)."""

    status = SelectField(_l("Status"), choices=stored_status_choices)
    office_department = StringField(_l("Department using it"),
                                    validators=[Optional(), Length(max=200)],
                                    filters=[strip_filter])


class TenantForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=lambda: select_choices(TENANT_KINDS.items()),
                       default="organisation")
    name = StringField(lazy_pgettext("organisation or thing", "Name"),
                       validators=[_required, Length(max=200)],
                       filters=[strip_filter])
    code = StringField(
        _l("Credit code or ID number"), validators=[_required, Length(max=30)],
        filters=[strip_filter],
        description=_l("Unified social credit code for an organisation, resident ID number "
                       "for a person (18 characters)."))
    contact_name = StringField(_l("Contact person"), validators=[Optional(), Length(max=100)],
                               filters=[strip_filter])
    phone = StringField(_l("Phone"), validators=[Optional(), max_length(20), ChinesePhone()],
                        filters=[strip_filter])
    email = StringField(_l("Email"), validators=[
        Optional(), Length(max=254),
        Email(message=_l("Enter a valid email address."), check_deliverability=False)],
        filters=[strip_filter])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)],
                          filters=[strip_filter])
    user_id = SelectField(_l("Client account"), coerce=int, default=0,
                          description=_l("The account that may see this tenant's leases and "
                                         "bills."))


# How the audit trail reads these records (see portal.audit.vocabulary).
describe(Building, _l("Building"), BuildingForm)
describe(Room, _l("Room"), RoomForm, labels={"area_m2": RoomForm.area},
         choices={"status": RoomStatus.LABELS}, display=lambda room: room.code)
describe(RoomPhoto, _l("Room photo"), labels={"room_id": _l("Room")},
         display=lambda photo: photo.caption or f"#{photo.id}", hidden=("file_name",))
describe(Tenant, _l("Tenant"), TenantForm, labels={
    "uscc": _l("Unified social credit code"), "id_number": _l("Resident ID number")},
    choices={"kind": TENANT_KINDS})
