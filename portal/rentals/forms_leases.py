"""Forms of the lease pages: the lease itself, transitions, renewal, deposit and payments.

Amounts are typed in yuan (up to two decimals) and handed to the services in fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from ..audit.vocabulary import describe
from ..forms import select_choices, strip_filter
from .models import (
    DepositStatus,
    Lease,
    LeaseStatus,
    Payment,
    PaymentCycle,
    PaymentMethod,
    ReceiptStatus,
)

MAX_YUAN = Decimal("100000000")  # a hundred million yuan: more is a typing error


def finite(form, field):
    """DecimalField accepts "NaN" and "Infinity"; no amount or percentage is either."""
    if field.data is not None and not field.data.is_finite():
        raise ValidationError(_l("Enter a number."))


class Yuan:
    """An amount in yuan, not negative, with at most two decimals, below :data:`MAX_YUAN`."""

    def __call__(self, form, field):
        value = field.data
        if value is None:
            return
        finite(form, field)
        if value < 0:
            raise ValidationError(_l("Enter an amount of zero or more."))
        if value.as_tuple().exponent < -2:
            raise ValidationError(_l("Enter the amount in yuan with at most two decimals."))
        if abs(value) >= MAX_YUAN:
            raise ValidationError(_l("Enter an amount below 100,000,000 yuan."))


def to_fen(value: Decimal | None) -> int | None:
    if value is None:
        return None
    return int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_yuan(fen: int | None) -> Decimal | None:
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _date_required():
    return InputRequired(message=_l("Choose a date."))


def _amount(label, required=False, **kwargs):
    validators = [InputRequired(message=_l("Enter an amount."))] if required else [Optional()]
    return DecimalField(label, places=2, validators=[*validators, Yuan()],
                        render_kw={"inputmode": "decimal"}, **kwargs)


def cycle_choices():
    return select_choices(PaymentCycle.LABELS.items())


def method_choices():
    return select_choices(PaymentMethod.LABELS.items())


class LeaseForm(FlaskForm):
    tenant_id = SelectField(_l("Tenant"), coerce=int, validate_choice=False,
                            validators=[DataRequired(_l("Choose a tenant."))])
    room_ids = SelectMultipleField(
        lazy_pgettext("room list", "Rooms"), coerce=int, validate_choice=False,
        validators=[DataRequired(_l("Choose at least one room."))],
        description=_l("Hold Ctrl (or ⌘) to choose several rooms."))
    start = DateField(lazy_pgettext("lease", "First day"), validators=[_date_required()])
    end = DateField(lazy_pgettext("lease", "Last day"), validators=[_date_required()])
    payment_cycle = SelectField(_l("Payment cycle"), choices=cycle_choices, default="monthly")
    monthly_rent = _amount(_l("Monthly rent (yuan)"),
                           description=_l("Leave empty for area × standard."))
    rent_override_reason = TextAreaField(
        _l("Reason for a different rent"), validators=[Optional(), Length(max=1000)],
        filters=[strip_filter])
    deposit_due = _amount(_l("Deposit due (yuan)"), default=Decimal(0))
    rent_free_until = DateField(_l("Rent-free until"), validators=[Optional()],
                                description=_l("The last day of a rent-free fit-out period."))
    yearly_increase_pct = DecimalField(
        _l("Yearly increase (%)"), places=2, default=Decimal(0),
        validators=[Optional(), finite], render_kw={"inputmode": "decimal"},
        description=_l("Applied on each anniversary of the first day."))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)],
                         filters=[strip_filter])


class LeaseActionForm(FlaskForm):
    """A transition: the reason (send back, terminate) and the last day (terminate)."""

    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=1000)],
                           filters=[strip_filter])
    terminated_on = DateField(_l("Last day of the lease"), validators=[Optional()])
    expected_status = HiddenField()  # the state the page showed


class RenewForm(FlaskForm):
    end = DateField(_l("New last day"), validators=[_date_required()])
    monthly_rent = _amount(_l("New monthly rent (yuan)"),
                           description=_l("Leave empty for area × standard."))
    rent_override_reason = TextAreaField(
        _l("Reason for a different rent"), validators=[Optional(), Length(max=1000)],
        filters=[strip_filter])


class DepositForm(FlaskForm):
    deposit_received = _amount(_l("Deposit received (yuan)"), required=True)
    received_on = DateField(_l("Received on"), validators=[_date_required()])
    expected_status = HiddenField()  # the deposit's state the page showed


class SettleDepositForm(FlaskForm):
    returned = _amount(_l("Returned (yuan)"), required=True)
    deducted = _amount(_l("Deducted (yuan)"), default=Decimal(0))
    deduction_reason = TextAreaField(_l("Reason for the deduction"),
                                     validators=[Optional(), Length(max=1000)],
                                     filters=[strip_filter])
    settled_on = DateField(_l("Settled on"), validators=[_date_required()])
    expected_status = HiddenField()  # the deposit's state the page showed


class PaymentForm(FlaskForm):
    paid_on = DateField(_l("Paid on"), validators=[_date_required()])
    amount = _amount(_l("Amount (yuan)"), required=True)
    method = SelectField(_l("Method"), choices=method_choices, default="bank_transfer")
    # The portal issues the receipt (收据) and its number; this is the bank's reference of
    # the transfer or another external one, if any.
    receipt_no = StringField(_l("Bank or external reference"),
                             validators=[Optional(), Length(max=50)], filters=[strip_filter])
    # Made when the form is rendered: the same form submitted twice records one payment.
    idempotency_key = HiddenField()


class VoidReceiptForm(FlaskForm):
    reason = TextAreaField(_l("Reason for voiding"),
                           validators=[DataRequired(), Length(max=1000)],
                           filters=[strip_filter])
    expected_status = HiddenField()  # the receipt's state the page showed


__all__ = ["DepositForm", "LeaseActionForm", "LeaseForm", "PaymentForm", "RenewForm",
           "SettleDepositForm", "VoidReceiptForm", "to_fen", "to_yuan"]


# How the audit trail reads these records (see portal.audit.vocabulary).
describe(Lease, _l("Lease"), LeaseForm, LeaseActionForm, labels={
    "start_date": LeaseForm.start, "end_date": LeaseForm.end,
    "deposit_received_fen": DepositForm.deposit_received,
    "deposit_received_on": DepositForm.received_on,
    "deposit_returned_fen": _l("Deposit returned"),
    "deposit_deducted_fen": _l("Deposit deducted"),
    "deposit_deduction_reason": SettleDepositForm.deduction_reason,
    "deposit_settled_on": _l("Deposit settled on"), "predecessor_id": _l("Renews lease"),
    "approved_by_id": _l("Approved by"), "approved_at": _l("Approved"),
    "deposit_status": lazy_pgettext("lease", "Deposit"),
}, choices={"status": LeaseStatus.LABELS, "deposit_status": DepositStatus.LABELS})
describe(Payment, _l("Payment"), PaymentForm, labels={
    "lease_id": _l("Lease"), "credit_fen": _l("Kept as credit"),
    "recorded_by_id": _l("Recorded by"), "receipt_year": _l("Receipt year"),
    "receipt_number": _l("Receipt number"), "receipt_code": _l("Receipt no."),
    "receipt_status": _l("Receipt"), "void_reason": VoidReceiptForm.reason,
    "voided_at": _l("Voided"), "voided_by_id": _l("Voided by")},
    choices={"receipt_status": ReceiptStatus.LABELS},
    display=lambda payment: payment.receipt_code or f"#{payment.id}",
    hidden=("idempotency_key",))
