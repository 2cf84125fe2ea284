"""A rent period's payment notice (缴费通知单) and a payment's receipt (收据): each a page to
print and an official document as PDF (:mod:`portal.documents`, the same data), and the
voiding of a receipt by staff.

Who may see them is who may see the lease: the tenant's own account and the bureau's staff;
another tenant's notice or receipt is a 404 (:func:`portal.authz.visible_or_404` on the lease,
then the period or payment must belong to it).  Notices exist only for a lease in force (a
draft's schedule is a proposal).  The bureau's account details come from the settings
(``RENTALS_ACCOUNT_*``, ``RENTALS_PAYMENT_INSTRUCTIONS``).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, flash, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..authz import role_required, staff_required, visible_or_404
from ..documents import (
    PDF_LIMIT,
    Document,
    Paragraph,
    Section,
    Signature,
    Table,
    bureau_name,
    pdf_response,
    render_pdf,
    runs,
)
from ..errors import ServiceError, apply_to_form
from ..extensions import db, limiter
from ..htmx import redirect_to, render
from ..i18n import amount_in_capitals, money, to_local
from ..lists import join_names
from ..roles import Role
from ..workflow import StaleRecord
from . import bp, services
from .forms_leases import VoidReceiptForm
from .models import (
    Lease,
    LeaseRoom,
    LeaseStatus,
    Payment,
    PaymentAllocation,
    PaymentMethod,
    ReceiptStatus,
    RentPeriod,
    Room,
)

IN_FORCE = (LeaseStatus.ACTIVE, LeaseStatus.ENDED, LeaseStatus.TERMINATED)
VIEWERS = (Role.CLIENT, Role.STAFF, Role.ADMIN)


@dataclass(frozen=True)
class Paper:
    """What a notice or a receipt says: the same for the page and the PDF."""

    title: str
    number: str
    addressee: str
    intro: str
    rows: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]
    issued_on: object  # a date
    voided: bool = False

    def document(self) -> Document:
        blocks = [Paragraph(runs(self.addressee), indent=False)] if self.addressee else []
        blocks += [Paragraph(runs(self.intro)),
                  Table((runs(_("Item")), runs(_("Details"))),
                        tuple((runs(label), runs(value)) for label, value in self.rows),
                        widths=(1, 2.6))]
        blocks += [Paragraph(runs(note)) for note in self.notes]
        return Document(title=self.title, number=self.number, sections=(Section(None,
                        tuple(blocks)),), signature=Signature(bureau_name(), self.issued_on))


def _rooms(lease: Lease) -> str:
    return join_names(sorted(item.room.label for item in lease.rooms))


def _period_text(period: RentPeriod) -> str:
    return _("%(start)s to %(end)s", start=format_date(period.starts_on, "long"),
             end=format_date(period.ends_on, "long"))


def _capitals(fen: int) -> str:
    return _("RMB %(capitals)s", capitals=amount_in_capitals(fen))


def account_rows() -> list[tuple[str, str]]:
    """The bureau's account details from the settings (— when not configured)."""
    config = current_app.config
    return [(_("Account name"), config.get("RENTALS_ACCOUNT_NAME") or bureau_name()),
            (_("Bank"), config.get("RENTALS_ACCOUNT_BANK") or "—"),
            (_("Account number"), config.get("RENTALS_ACCOUNT_NUMBER") or "—")]


def notice_number(lease: Lease, period: RentPeriod) -> str:
    return f"{lease.reference}-{period.starts_on:%Y%m%d}"


def notice_paper(lease: Lease, period: RentPeriod) -> Paper:
    rows = [(_("Tenant"), lease.tenant.name), (_("Lease"), lease.reference),
            (_("Leased rooms"), _rooms(lease)), (_("Rent period"), _period_text(period)),
            *([(_("Amount of the period"), money(period.amount_fen)),
               (_("Paid so far"), money(period.paid_fen))] if period.paid_fen else []),
            (_("Amount to pay"), money(period.open_fen)),
            (_("Amount in capitals"), _capitals(period.open_fen)),
            (_("Due on"), format_date(period.due_on, "long")),
            *account_rows(),
            (_("Reference to quote"), notice_number(lease, period))]
    instructions = current_app.config.get("RENTALS_PAYMENT_INSTRUCTIONS") or _(
        "Pay by bank transfer to the account above, quoting the reference, or at the rentals "
        "desk. The bureau issues a receipt for every payment; you can download it from your "
        "lease page.")
    intro = (_("The rent of the period below is paid in full. This notice is for your "
               "records.") if period.open_fen <= 0 else
             _("Under lease %(ref)s the rent of the period below is due on %(date)s. Please "
               "pay it by then.", ref=lease.reference,
               date=format_date(period.due_on, "long")))
    return Paper(title=_("Payment notice"), number=notice_number(lease, period),
                 addressee=_("%(name)s:", name=lease.tenant.name), intro=intro,
                 rows=tuple(rows), notes=(instructions,), issued_on=services.today())


def receipt_paper(payment: Payment) -> Paper:
    lease = payment.lease
    paid_for = [_("%(period)s: %(amount)s", period=_period_text(allocation.period),
                  amount=money(allocation.amount_fen))
                for allocation in sorted(payment.allocations,
                                         key=lambda a: a.period.starts_on)]
    if payment.credit_fen:
        paid_for.append(_("Credit for later periods: %(amount)s",
                          amount=money(payment.credit_fen)))
    rows = [(_("Received from"), lease.tenant.name), (_("Lease"), lease.reference),
            (_("Leased rooms"), _rooms(lease)), (_("Amount"), money(payment.amount_fen)),
            (_("Amount in capitals"), _capitals(payment.amount_fen)),
            (_("Paid for"), "\n".join(paid_for) or "—"),
            (_("Method"), str(PaymentMethod.LABELS[payment.method])),
            (_("Paid on"), format_date(payment.paid_on, "long"))]
    if payment.receipt_no:
        rows.append((_("Bank or external reference"), payment.receipt_no))
    notes = []
    if payment.voided:
        rows.append((_("Voided"), _("%(date)s: %(reason)s",
                                    date=format_date(to_local(payment.voided_at).date(), "long"),
                                    reason=payment.void_reason)))
        notes.append(_("This receipt is void. Its number is not issued again."))
    title = _("Receipt (void)") if payment.voided else _("Receipt")
    return Paper(title=title, number=payment.receipt_code, addressee="",
                 intro=_("The bureau has received the payment below."), rows=tuple(rows),
                 notes=tuple(notes), issued_on=to_local(payment.created_at).date(),
                 voided=payment.voided)


# --- loading what the user may see -----------------------------------------------------------


def _lease_options() -> tuple:
    return (selectinload(Lease.tenant),
            selectinload(Lease.rooms).selectinload(LeaseRoom.room).selectinload(Room.building))


def _period_or_404(lease_id: int, period_id: int) -> tuple[Lease, RentPeriod]:
    lease = visible_or_404(Lease, lease_id, *_lease_options())
    period = db.session.get(RentPeriod, period_id)
    if period is None or period.lease_id != lease.id or lease.status not in IN_FORCE:
        abort(404)
    return lease, period


def _payment_or_404(lease_id: int, payment_id: int) -> Payment:
    lease = visible_or_404(Lease, lease_id, *_lease_options())
    payment = db.session.scalar(
        db.select(Payment).where(Payment.id == payment_id, Payment.lease_id == lease.id)
        .options(selectinload(Payment.allocations).selectinload(PaymentAllocation.period),
                 selectinload(Payment.voided_by)))
    if payment is None:
        abort(404)
    return payment


def _filename(stem: str) -> str:
    return f"{stem}.pdf"


# --- the pages -------------------------------------------------------------------------------


@bp.route("/leases/<int:lease_id>/periods/<int:period_id>/notice")
@role_required(*VIEWERS)
def payment_notice(lease_id: int, period_id: int):
    """The payment notice of one rent period, to print (the PDF beside it)."""
    lease, period = _period_or_404(lease_id, period_id)
    return render("rentals/paper.html", paper=notice_paper(lease, period), lease=lease,
                  kind="notice", bureau=bureau_name(),
                  pdf_url=url_for("rentals.payment_notice_pdf", lease_id=lease.id,
                                  period_id=period.id))


@bp.route("/leases/<int:lease_id>/periods/<int:period_id>/notice.pdf")
@limiter.limit(PDF_LIMIT)
@role_required(*VIEWERS)
def payment_notice_pdf(lease_id: int, period_id: int):
    lease, period = _period_or_404(lease_id, period_id)
    paper = notice_paper(lease, period)
    return pdf_response(render_pdf(paper.document()), _filename(f"notice-{paper.number}"))


def _receipt_page(payment: Payment, form: VoidReceiptForm | None = None, status: int = 200):
    can_void = services.can_void(current_user_object(), payment)
    return render("rentals/paper.html", status=status, paper=receipt_paper(payment),
                  lease=payment.lease, kind="receipt", payment=payment, bureau=bureau_name(),
                  receipt_labels=ReceiptStatus.LABELS,
                  void_form=form or (VoidReceiptForm(formdata=None) if can_void else None),
                  pdf_url=url_for("rentals.receipt_pdf", lease_id=payment.lease_id,
                                  payment_id=payment.id))


def current_user_object():
    return current_user._get_current_object()


@bp.route("/leases/<int:lease_id>/payments/<int:payment_id>/receipt")
@role_required(*VIEWERS)
def receipt(lease_id: int, payment_id: int):
    """A payment's receipt, to print (the PDF beside it); staff may void it here."""
    return _receipt_page(_payment_or_404(lease_id, payment_id))


@bp.route("/leases/<int:lease_id>/payments/<int:payment_id>/receipt.pdf")
@limiter.limit(PDF_LIMIT)
@role_required(*VIEWERS)
def receipt_pdf(lease_id: int, payment_id: int):
    payment = _payment_or_404(lease_id, payment_id)
    paper = receipt_paper(payment)
    return pdf_response(render_pdf(paper.document()), _filename(f"receipt-{paper.number}"))


@bp.route("/leases/<int:lease_id>/payments/<int:payment_id>/void", methods=["POST"])
@staff_required
def receipt_void(lease_id: int, payment_id: int):
    """Void the receipt with a reason; a receipt voided already is a 409 that says by whom."""
    payment = _payment_or_404(lease_id, payment_id)
    form = VoidReceiptForm()
    status = 422
    if form.validate_on_submit():
        try:
            payment = services.void_receipt(current_user_object(), payment,
                                            form.reason.data or "",
                                            expected=form.expected_status.data or None)
        except ServiceError as error:
            apply_to_form(form, error)
            db.session.rollback()
            status = 409 if isinstance(error, StaleRecord) or error.field is None else 422
            if status == 409:
                flash(str(error.message), "warning")
                form = None
            payment = _payment_or_404(lease_id, payment_id)
        else:
            flash(_("Receipt %(number)s is void.", number=payment.receipt_code), "success")
            return redirect_to(url_for("rentals.receipt", lease_id=lease_id,
                                       payment_id=payment_id))
    return _receipt_page(payment, form, status=status)

