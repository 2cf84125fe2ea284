"""The supervisor roster: terms, early ends, replacements, and the appointment letter (聘书).

Staff and admins manage it; a supervisor may print their own letter.  Only a supervisor in an
active term can submit feedback; an ended term keeps its history (its feedback, its letter).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import selectinload

from ..audit.services import history_for
from ..auth.models import User
from ..authz import role_required, staff_required
from ..core.nav import nav_item
from ..documents import (
    PDF_LIMIT,
    Document,
    Paragraph,
    Section,
    Signature,
    bureau_name,
    document_response,
    runs,
)
from ..errors import ServiceError, apply_to_form
from ..extensions import db, limiter
from ..forms import select_choices
from ..htmx import redirect_to, render, render_form_errors
from ..pagination import paginate
from ..roles import Role
from . import bp, services
from .forms import AppointmentForm, EndTermForm
from .models import Feedback, SupervisorAppointment

nav_item("feedback.roster", _l("Supervisors"), Role.BUREAU, order=32)
A = SupervisorAppointment


def _supervisor_choices(form: AppointmentForm) -> None:
    form.user_id.choices = select_choices([("", _("— choose —"))] + [
        (uid, f"{name} · {email}") for uid, name, email in db.session.execute(
            sa.select(User.id, User.name, User.email).where(
                User.role == Role.SUPERVISOR, User.active.is_(True)).order_by(User.name))])


def _input(form: AppointmentForm) -> services.AppointmentInput:
    return services.AppointmentInput(
        user_id=form.user_id.data or 0, unit=form.unit.data or "", title=form.title.data or "",
        letter_number=form.letter_number.data or "", term_start=form.term_start.data,
        term_end=form.term_end.data)


@bp.route("/roster")
@staff_required
def roster():
    today = services.today()
    scope = request.args.get("scope", "active")
    if scope not in ("active", "all"):
        scope = "active"
    stmt = (sa.select(A)
            .options(selectinload(A.user), selectinload(A.replaces).selectinload(A.user))
            .order_by(A.term_start.desc(), A.id.desc()))
    if scope == "active":
        stmt = stmt.where(A.active_on(today))
    pager = paginate(stmt)
    ids = [appointment.id for appointment in pager.items]
    successors = {a.replaces_id: a for a in db.session.scalars(
        sa.select(A).where(A.replaces_id.in_(ids)).options(selectinload(A.user)))}
    counts = dict(db.session.execute(
        sa.select(Feedback.appointment_id, sa.func.count()).where(
            Feedback.appointment_id.in_(ids)).group_by(Feedback.appointment_id)).all())
    return render("feedback/roster.html", "results", pager=pager, scope=scope, today=today,
                  counts=counts, successors=successors)


def _next_letter_number() -> str:
    year = services.today().year
    count = db.session.scalar(sa.select(sa.func.count()).select_from(A).where(
        A.letter_number.like(f"%〔{year}〕%"))) or 0
    return f"机管监聘〔{year}〕{count + 1:03d}号"


@bp.route("/roster/new", methods=["GET", "POST"])
@staff_required
def appoint():
    form = AppointmentForm()
    _supervisor_choices(form)
    if request.method == "GET":
        today = services.today()
        form.letter_number.data = _next_letter_number()
        form.term_start.data = today
        form.term_end.data = today.replace(year=today.year + 2) - timedelta(days=1) \
            if not (today.month == 2 and today.day == 29) else today + timedelta(days=730)
        form.user_id.data = request.args.get("user_id", type=int)
    if form.validate_on_submit():
        try:
            appointment = services.appoint(_input(form))
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("%(name)s is appointed; appointment letter %(number)s.",
                    name=appointment.user.name, number=appointment.letter_number), "success")
            return redirect_to(url_for("feedback.appointment", appointment_id=appointment.id))
    context = {"form": form, "replacing": None,
               "action": url_for("feedback.appoint")}
    if request.method == "POST":
        return render_form_errors("feedback/appointment_form.html", "form", **context)
    return render("feedback/appointment_form.html", **context)


def _appointment_or_404(appointment_id: int) -> A:
    appointment = db.session.scalar(sa.select(A).where(A.id == appointment_id).options(
        selectinload(A.user), selectinload(A.replaces).selectinload(A.user)))
    if appointment is None:
        abort(404)
    return appointment


def _appointment_context(appointment: A, end_form: EndTermForm | None = None) -> dict:
    today = services.today()
    replaced_by = db.session.scalar(sa.select(A).where(A.replaces_id == appointment.id)
                                    .options(selectinload(A.user)))
    submitted = db.session.scalar(sa.select(sa.func.count()).select_from(Feedback).where(
        Feedback.appointment_id == appointment.id)) or 0
    if end_form is None and appointment.ended_on is None:
        end_form = EndTermForm(formdata=None, ended_on=max(today, appointment.term_start)
                               if today <= appointment.term_end else appointment.term_end)
    return {"appointment": appointment, "replaced_by": replaced_by, "today": today,
            "active": appointment.is_active_on(today), "submitted": submitted,
            "end_form": end_form if appointment.ended_on is None else None,
            # Ended meanwhile (by someone else): why the failed form was refused, instead of it.
            "end_refused": [error for errors in end_form.errors.values() for error in errors]
            if end_form is not None and appointment.ended_on is not None else [],
            "history": history_for(appointment)}


@bp.route("/roster/<int:appointment_id>", endpoint="appointment")
@staff_required
def appointment_page(appointment_id: int):
    appointment = _appointment_or_404(appointment_id)
    return render("feedback/appointment.html", **_appointment_context(appointment))


@bp.route("/roster/<int:appointment_id>/end", methods=["POST"])
@staff_required
def end_term(appointment_id: int):
    appointment = _appointment_or_404(appointment_id)
    form = EndTermForm()
    if form.validate_on_submit():
        try:
            services.end_term(appointment, form.ended_on.data, form.reason.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The term of %(name)s ends on %(date)s.", name=appointment.user.name,
                    date=appointment.ended_on.isoformat()), "success")
            return redirect_to(url_for("feedback.appointment", appointment_id=appointment.id))
    db.session.rollback()
    appointment = _appointment_or_404(appointment_id)
    return render_form_errors("feedback/appointment.html", "end_term",
                              **_appointment_context(appointment, form))


@bp.route("/roster/<int:appointment_id>/replace", methods=["GET", "POST"])
@staff_required
def replace(appointment_id: int):
    old = _appointment_or_404(appointment_id)
    form = AppointmentForm()
    _supervisor_choices(form)
    if request.method == "GET":
        today = services.today()
        form.unit.data, form.title.data = old.unit, old.title
        form.letter_number.data = _next_letter_number()
        form.term_start.data = max(today, old.term_start + timedelta(days=1))
        form.term_end.data = old.term_end
    if form.validate_on_submit():
        try:
            appointment = services.replace(old, _input(form), form.reason.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("%(new)s replaces %(old)s.", new=appointment.user.name, old=old.user.name),
                  "success")
            return redirect_to(url_for("feedback.appointment", appointment_id=appointment.id))
    context = {"form": form, "replacing": old,
               "action": url_for("feedback.replace", appointment_id=old.id)}
    if request.method == "POST":
        return render_form_errors("feedback/appointment_form.html", "form", **context)
    return render("feedback/appointment_form.html", **context)


def letter_document(appointment: A) -> Document:
    """The appointment letter (聘书) as an official document: its number is the letter's."""
    return Document(
        title=_("Appointment letter"), number=appointment.letter_number,
        sections=(Section(None, (
            Paragraph(runs(_("%(name)s (%(unit)s %(title)s):", name=appointment.user.name,
                             unit=appointment.unit, title=appointment.title)), indent=False),
            Paragraph(runs(_(
                "To strengthen the supervision of the logistics services of the district "
                "government compound and to keep raising satisfaction with them, the bureau "
                "appoints you as a service-quality supervisor of the District Administrative "
                "Affairs Management Bureau. You are invited to listen widely to the opinions "
                "of the cadres and staff, to supervise the quality of the canteen, meeting, "
                "cleaning, property and other services, and to put forward your opinions and "
                "suggestions."))),
            Paragraph(runs(_("Term of appointment: %(start)s to %(end)s.",
                             start=format_date(appointment.term_start, "long"),
                             end=format_date(appointment.term_end, "long")))),
        )),),
        signature=Signature(bureau_name(), appointment.term_start))


def _letter_or_404(appointment_id: int) -> A:
    """An appointment whose letter the user may have; a supervisor only their own."""
    appointment = _appointment_or_404(appointment_id)
    if current_user.role == Role.SUPERVISOR and appointment.user_id != current_user.id:
        abort(404)
    return appointment


@bp.route("/roster/<int:appointment_id>/letter.pdf", defaults={"kind": "pdf"})
@bp.route("/roster/<int:appointment_id>/letter.docx", defaults={"kind": "docx"},
          endpoint="letter_docx")
@limiter.limit(PDF_LIMIT)
@role_required(Role.SUPERVISOR, Role.STAFF, Role.ADMIN)
def letter(appointment_id: int, kind: str):
    """The appointment letter (聘书) as PDF or Word; a supervisor may have only their own."""
    appointment = _letter_or_404(appointment_id)
    return document_response(letter_document(appointment), f"appointment-{appointment.id}",
                             kind)
