"""Staff manage venues, their photos and the catering standards."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

from .. import uploads
from ..authz import staff_required, visible_or_404
from ..database import is_unique_violation, write_transaction
from ..errors import Conflict, ServiceError, apply_to_form
from ..extensions import db
from ..htmx import redirect_to, render, render_form_errors
from ..uploads import send_image
from . import bp
from .forms import CateringOptionForm, PhotoForm, VenueForm
from .models import CateringOption, Layout, Venue, VenueEquipment, VenueLayout, VenuePhoto

PHOTO_FOLDER = "venues"
RATES = ("external_half_day", "external_evening", "external_full_day", "internal_half_day",
         "internal_evening", "internal_full_day")


def _fen(yuan: Decimal) -> int:
    return int((yuan * 100).quantize(Decimal(1)))


# --- services ---------------------------------------------------------------------------------


def save_venue(venue: Venue | None, form: VenueForm) -> Venue:
    """Create or update a venue from the staff form (one transaction, audited)."""
    if form.closes_at.data <= form.opens_at.data:
        raise ServiceError(lazy_pgettext("time", "The end must be after the start."),
                           field="closes_at")
    capacities = {layout: getattr(form, layout).data for layout in Layout.ALL
                  if getattr(form, layout).data}
    if not capacities:
        raise ServiceError(_l("Give the capacity of at least one layout."), field="theatre")
    try:
        with write_transaction():
            if venue is None:
                venue = Venue()
                db.session.add(venue)
            for name in ("code", "name", "kind", "building", "floor", "description",
                         "opens_at", "closes_at", "setup_minutes", "cleanup_minutes", "public",
                         "active"):
                setattr(venue, name, getattr(form, name).data
                        if getattr(form, name).data is not None else "")
            for rate in RATES:
                setattr(venue, f"{rate}_fen", _fen(getattr(form, rate).data))
            existing = {item.layout: item for item in venue.layouts}
            for layout in Layout.ALL:
                if layout in capacities and layout in existing:
                    existing[layout].capacity = capacities[layout]
                elif layout in capacities:
                    venue.layouts.append(VenueLayout(layout=layout, capacity=capacities[layout]))
                elif layout in existing:
                    venue.layouts.remove(existing[layout])
            wanted = set(form.equipment.data or ())
            for item in list(venue.equipment):
                if item.equipment not in wanted:
                    venue.equipment.remove(item)
            have = {item.equipment for item in venue.equipment}
            for code in sorted(wanted - have):
                venue.equipment.append(VenueEquipment(equipment=code))
    except sa.exc.IntegrityError as error:
        if is_unique_violation(error):
            raise Conflict(_l("Another venue has this code."), field="code") from None
        raise
    return venue


def add_photo(venue: Venue, upload, caption: str) -> VenuePhoto:
    return uploads.add_photo(VenuePhoto, PHOTO_FOLDER, upload, caption, venue_id=venue.id)


def remove_photo(photo: VenuePhoto) -> None:
    uploads.remove_photo(photo, PHOTO_FOLDER)


# --- views ------------------------------------------------------------------------------------


def _fill(form: VenueForm, venue: Venue) -> None:
    for layout in Layout.ALL:
        getattr(form, layout).data = venue.capacity_for(layout) or None
    form.equipment.data = sorted(venue.equipment_codes)
    for rate in RATES:
        getattr(form, rate).data = Decimal(getattr(venue, f"{rate}_fen")) / 100


def _venue_page(venue: Venue | None):
    form = VenueForm(obj=venue) if venue is not None else VenueForm()
    if venue is not None and request.method == "GET":
        _fill(form, venue)
    if form.validate_on_submit():
        try:
            saved = save_venue(venue, form)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The venue is saved."), "success")
            return redirect_to(url_for("bookings.venue", venue_id=saved.id))
    context = {"form": form, "venue": venue,
               "photo_form": PhotoForm() if venue is not None else None}
    if request.method == "POST":
        return render_form_errors("bookings/venue_form.html", "form", **context)
    return render("bookings/venue_form.html", **context)


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def venue_new():
    return _venue_page(None)


@bp.route("/<int:venue_id>/edit", methods=["GET", "POST"])
@staff_required
def venue_edit(venue_id: int):
    return _venue_page(visible_or_404(Venue, venue_id))


@bp.route("/<int:venue_id>/photos", methods=["POST"])
@staff_required
def photo_add(venue_id: int):
    venue = visible_or_404(Venue, venue_id)
    form = PhotoForm()
    if form.validate_on_submit():
        try:
            add_photo(venue, form.photo.data, form.caption.data or "")
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The photo is added."), "success")
            return redirect_to(url_for("bookings.venue_edit", venue_id=venue.id))
    venue_form = VenueForm(formdata=None, obj=venue)
    _fill(venue_form, venue)
    return render_form_errors("bookings/venue_form.html", "photos", form=venue_form,
                              venue=venue, photo_form=form)


@bp.route("/<int:venue_id>/photos/<int:photo_id>/delete", methods=["POST"])
@staff_required
def photo_delete(venue_id: int, photo_id: int):
    venue = visible_or_404(Venue, venue_id)
    photo = db.session.get(VenuePhoto, photo_id)
    if photo is None or photo.venue_id != venue.id:
        abort(404)
    remove_photo(photo)
    flash(_("The photo is removed."), "success")
    return redirect_to(url_for("bookings.venue_edit", venue_id=venue.id))


@bp.route("/<int:venue_id>/photos/<name>")
def photo(venue_id: int, name: str):
    """A venue's photo, for whoever may see the venue (public venues: everyone)."""
    venue = visible_or_404(Venue, venue_id)
    if db.session.scalar(sa.select(VenuePhoto.id).where(
            VenuePhoto.venue_id == venue.id, VenuePhoto.file_name == name)) is None:
        abort(404)
    # Public only for a venue anyone may see; an inactive or staff-only venue's stays private.
    return send_image(PHOTO_FOLDER, name, public=venue.public and venue.active)


@bp.route("/catering-options", methods=["GET", "POST"])
@staff_required
def catering_options():
    form = CateringOptionForm()
    if form.validate_on_submit():
        with write_transaction():
            db.session.add(CateringOption(kind=form.kind.data, name=form.name.data,
                                          unit_price_fen=_fen(form.price.data)))
        flash(_("The catering standard is added."), "success")
        return redirect_to(url_for("bookings.catering_options"))
    options = list(db.session.scalars(sa.select(CateringOption).order_by(
        CateringOption.active.desc(), CateringOption.kind, CateringOption.unit_price_fen)))
    context = {"form": form, "options": options}
    if request.method == "POST":
        return render_form_errors("bookings/catering_options.html", "form", **context)
    return render("bookings/catering_options.html", **context)


@bp.route("/catering-options/<int:option_id>/toggle", methods=["POST"])
@staff_required
def catering_option_toggle(option_id: int):
    option = visible_or_404(CateringOption, option_id)  # CSRF is checked for every POST
    with write_transaction():
        option.active = not option.active
    return redirect_to(url_for("bookings.catering_options"))

