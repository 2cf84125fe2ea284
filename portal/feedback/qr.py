"""The public QR channel's pages (rules in :mod:`portal.feedback.public`).

* ``/feedback/qr`` (staff): a building's sheet of QR codes, one per room, venue and canteen
  hall, each with the place's name under it, as SVG on screen and as a PDF for printing.
* ``/feedback/q/<token>`` (no login): the phone page a code opens.
* ``/feedback/t/<token>`` (no login): the reporter's follow page, where they confirm and
  rate (close) or reopen the resolved item.
"""

from __future__ import annotations

import segno
import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ..authz import staff_required
from ..catalogue.models import ServiceCategory
from ..documents import css_stack, html_to_pdf, pdf_response
from ..errors import NotAllowed, ServiceError, apply_to_form
from ..extensions import db, limiter
from ..forms import select_choices
from ..htmx import render
from ..workflow import StaleRecord
from . import bp, public, services
from .forms import FollowForm, PublicForm
from .models import FeedbackStatus

S = FeedbackStatus


def _address_limit() -> str:
    return current_app.config.get("FEEDBACK_QR_ADDRESS_LIMIT", "20 per hour")


def _place_limit() -> str:
    return current_app.config.get("FEEDBACK_QR_PLACE_LIMIT", "60 per hour")


def _place_key() -> str:
    return "feedback-qr-place:" + (request.view_args or {}).get("token", "")


def _private(response):
    """A page of one reporter's link: no shared cache keeps it, no referrer leaves it."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


# --- the staff's sheet of codes ----------------------------------------------------------------


def qr_svg(url: str, scale: int = 4) -> Markup:
    """The code as inline SVG (segno, error correction M, no XML declaration)."""
    svg = segno.make(url, error="m").svg_inline(scale=scale, border=2)
    return Markup(svg)  # noqa: S704 - segno's own markup, the URL is encoded as modules


def _sheet(building: str):
    places = public.places_of(building)
    return [(place, public.qr_url(place.kind, place.id)) for place in places]


@bp.route("/qr")
@staff_required
def qr_sheet():
    buildings = public.building_names()
    building = request.args.get("building", "")
    if building and building not in buildings:
        abort(404)
    sheet = [(place, url, qr_svg(url)) for place, url in _sheet(building)] if building else []
    return render("feedback/qr_sheet.html", buildings=buildings, building=building, sheet=sheet)


@bp.route("/qr.pdf")
@limiter.limit("20 per minute")
@staff_required
def qr_sheet_pdf():
    building = request.args.get("building", "")
    if building not in public.building_names():
        abort(404)
    sheet = [(place, url, qr_svg(url, scale=3)) for place, url in _sheet(building)]
    html = render_template("feedback/qr_sheet_pdf.html", building=building, sheet=sheet,
                           font=css_stack("hei"), lang=str(get_locale() or "zh_Hans_CN"))
    return pdf_response(html_to_pdf(html), f"qr-{building}.pdf")


# --- the public phone page ---------------------------------------------------------------------


def _categories():
    return db.session.scalars(
        sa.select(ServiceCategory).where(ServiceCategory.active.is_(True))
        .order_by(ServiceCategory.sort_order, ServiceCategory.id)).all()


def public_form(place: public.Place, formdata=None) -> PublicForm:
    form = PublicForm() if formdata is None else PublicForm(formdata=formdata)
    categories = _categories()
    form.category_id.choices = select_choices(
        [("", _("— choose —"))] + [(c.id, c.label) for c in categories])
    if not form.is_submitted() and place.category_code:
        form.category_id.data = next((c.id for c in categories
                                      if c.code == place.category_code), None)
    form.photos.description = _("Up to %(n)d JPEG, PNG, WebP or GIF images, up to %(mb)d MB "
                                "each.", n=public.MAX_PHOTOS,
                                mb=current_app.config["UPLOAD_IMAGE_MAX_MB"])
    form.started.data = public.form_stamp()  # every page served restarts the clock
    return form


def _form_page(place, form, status=200):
    return _private(render("feedback/public_form.html", status=status, place=place, form=form,
                           token=request.view_args["token"], max_photos=public.MAX_PHOTOS))


def _place_or_gone(token: str):
    try:
        place = public.place_for(token)
    except public.PlaceGone:
        return None, _private(render("feedback/public_gone.html", status=410))
    if place is None:
        abort(404)
    return place, None


@bp.route("/q/<token>", methods=["GET", "POST"], endpoint="public_form")
@limiter.limit(_address_limit, methods=["POST"])
@limiter.limit(_place_limit, methods=["POST"], key_func=_place_key)
def public_form_page(token: str):
    place, gone = _place_or_gone(token)
    if gone is not None:
        return gone
    if request.method == "GET":
        return _form_page(place, public_form(place))
    stamp = request.form.get("started", "")
    form = public_form(place)
    if (request.form.get("website") or "").strip():  # the honeypot: thanks, and nothing kept
        return _private(render("feedback/public_thanks.html", place=place))
    valid = form.validate_on_submit()
    data = public.PublicInput(
        category_id=form.category_id.data, description=form.description.data or "",
        service_rating=form.service_rating.data, contact=form.contact.data or "",
        photos=[f for f in (form.photos.data or []) if f and f.filename])
    try:
        try:
            public.check_stamp(stamp)
        except ServiceError as problem:
            apply_to_form(form, problem)  # above the form; the fields are checked too
            valid = False
        if valid:
            item, follow = public.submit_public(place, data, get_remote_address())
            flash(_("Thank you: your report No. %(id)d is received. Keep this page's link to "
                    "follow it; it is yours alone.", id=item.id), "success")
            return redirect(url_for("feedback.follow", token=follow))
        public.check_public(data)
    except NotAllowed as refusal:  # the address is throttled after repeated spam
        apply_to_form(form, refusal)
        return _form_page(place, form, status=429)
    except ServiceError as problem:
        apply_to_form(form, problem)
    return _form_page(place, form, status=422)


def too_large(message: str):
    """A report larger than the request cap: the form again (empty: the body was not read)
    with the reason beside the photos field, as the supervisor form does."""
    place, gone = _place_or_gone(request.view_args.get("token", ""))
    if gone is not None:
        return gone
    form = public_form(place, formdata=MultiDict())
    form.photos.errors = [message + " " + _("Please fill in the form again.")]
    return _form_page(place, form, status=413)


# --- the reporter's follow page ----------------------------------------------------------------


def _follow_page(item, form=None, status=200):
    reporter = public.Reporter(item.id)
    steps = [step.name for step in services.actions_for(reporter, item)]
    form = form or FollowForm(formdata=None, expected_status=item.status)
    return _private(render("feedback/public_follow.html", status=status, item=item, form=form,
                           steps=steps, status_labels=S.LABELS,
                           event_labels=services.EVENT_LABELS, token=request.view_args["token"]))


@bp.route("/t/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def follow(token: str):
    item = public.find_by_token(token)
    if item is None:
        abort(404)
    if request.method == "GET":
        return _follow_page(item)
    form = FollowForm()
    action = form.action.data if form.action.data in ("close", "reopen") else ""
    if not form.validate_on_submit() or not action:
        return _follow_page(item, form, status=422)
    try:
        item = services.apply_transition(
            item, action, public.Reporter(item.id),
            expected_status=form.expected_status.data or None,
            handling_rating=form.handling_rating.data, comment=form.comment.data,
            reason=form.reason.data)
    except ServiceError as error:
        apply_to_form(form, error)
        db.session.rollback()
        item = public.find_by_token(token)
        status = 409 if isinstance(error, StaleRecord) or error.field is None else 422
        return _follow_page(item, form, status=status)
    flash(_("Report No. %(id)d: %(status)s.", id=item.id, status=S.LABELS[item.status]),
          "success")
    return redirect(url_for("feedback.follow", token=token))
