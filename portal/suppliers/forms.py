"""Forms of suppliers and service contracts; choices from the database are set by the views."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from ..audit.vocabulary import describe
from ..forms import ChinesePhone, max_length, strip_filter
from ..validators import UnifiedSocialCreditCode
from .models import ServiceContract, Supplier, SupplierContact

_required = DataRequired(message=_l("This field is required."))
MAX_AMOUNT = Decimal("9999999999.99")


class SupplierForm(FlaskForm):
    name = StringField(lazy_pgettext("organisation or thing", "Name"),
                       validators=[_required, Length(max=200)],
                       filters=[strip_filter])
    uscc = StringField(_l("Unified social credit code"),
                       validators=[_required, Length(max=30), UnifiedSocialCreditCode()],
                       filters=[strip_filter],
                       description=_l("18 characters; the last one is a check character."))
    address = StringField(_l("Address"), validators=[Optional(), Length(max=200)],
                          filters=[strip_filter])
    category_ids = SelectMultipleField(_l("Services provided"), coerce=int,
                                       validators=[Optional()])
    integrity_signed_on = DateField(_l("Integrity agreement signed on"),
                                    validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])


class ContactForm(FlaskForm):
    """One contact person of a supplier."""

    name = StringField(_l("Contact person"), validators=[_required, Length(max=100)],
                       filters=[strip_filter])
    title = StringField(_l("Role or job title"), validators=[Optional(), Length(max=100)],
                        filters=[strip_filter])
    phone = StringField(_l("Phone"), validators=[Optional(), max_length(20), ChinesePhone()],
                        filters=[strip_filter])
    email = StringField(_l("Email"), validators=[
        Optional(), Length(max=254),
        Email(message=_l("Enter a valid email address."), check_deliverability=False)],
        filters=[strip_filter])


class DocumentForm(FlaskForm):
    document = FileField(_l("Document (PDF or image)"))


class ContractForm(FlaskForm):
    supplier_id = SelectField(_l("Supplier"), coerce=int,
                              validators=[DataRequired(message=_l("Choose a supplier."))])
    category_id = SelectField(_l("Service"), coerce=int,
                              validators=[DataRequired(message=_l("Choose a service."))])
    number = StringField(_l("Contract number"), validators=[_required, Length(max=50)],
                         filters=[strip_filter])
    title = StringField(_l("Contract title"), validators=[_required, Length(max=200)],
                        filters=[strip_filter])
    starts_on = DateField(lazy_pgettext("contract", "First day"),
                          validators=[InputRequired(message=_l("Enter the first day."))])
    ends_on = DateField(lazy_pgettext("contract", "Last day"),
                        validators=[InputRequired(message=_l("Enter the last day."))])
    amount = DecimalField(_l("Amount (yuan)"), places=2, default=Decimal(0), validators=[
        InputRequired(message=_l("Enter the amount.")),
        NumberRange(min=0, max=MAX_AMOUNT, message=_l("Enter an amount of zero or more."))])
    payment_terms = TextAreaField(_l("Payment terms"), validators=[Optional(),
                                                                  Length(max=4000)])
    response_hours = IntegerField(_l("SLA: response within (hours)"), validators=[
        Optional(), NumberRange(min=1, max=10000,
                                message=_l("Enter a number of hours greater than zero."))])
    fix_hours = IntegerField(_l("SLA: fixed within (hours)"), validators=[
        Optional(), NumberRange(min=1, max=10000,
                                message=_l("Enter a number of hours greater than zero."))])


# How the audit trail reads these records (see portal.audit.vocabulary).
describe(Supplier, _l("Supplier"), SupplierForm, labels={
    "integrity_file_label": _l("Integrity agreement document")}, hidden=("integrity_file",))
describe(SupplierContact, _l("Supplier contact"), ContactForm,
         labels={"supplier_id": _l("Supplier")})
describe(ServiceContract, _l("Service contract"), ContractForm, labels={
    "document_file_label": DocumentForm.document,
    "successor_id": lazy_pgettext("contract", "Renewed by")},
    display=lambda contract: contract.number, hidden=("document_file",))
