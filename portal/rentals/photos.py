"""Room photos: the shared upload mechanism (portal/uploads.py), for staff only."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import StringField
from wtforms.validators import Length, Optional

from .. import uploads
from ..authz import staff_required, visible_or_404
from ..errors import ServiceError, apply_to_form
from ..extensions import db
from ..forms import strip_filter
from ..htmx import redirect_to
from . import bp
from .inventory import _room_page
from .models import Room, RoomPhoto

PHOTO_FOLDER = "rooms"


class RoomPhotoForm(FlaskForm):
    photo = FileField(_l("Photo"), validators=[FileRequired(message=_l("Choose a file."))])
    caption = StringField(_l("Caption"), validators=[Optional(), Length(max=200)],
                          filters=[strip_filter])


@bp.app_context_processor
def room_photo_form():
    return {"room_photo_form": RoomPhotoForm}


@bp.route("/rooms/<int:room_id>/photos", methods=["POST"])
@staff_required
def room_photo_add(room_id: int):
    room = visible_or_404(Room, room_id)
    form = RoomPhotoForm()
    if form.validate_on_submit():
        try:
            uploads.add_photo(RoomPhoto, PHOTO_FOLDER, form.photo.data, form.caption.data or "",
                              room_id=room.id)
        except ServiceError as error:
            apply_to_form(form, error)
        else:
            flash(_("The photo is added."), "success")
            return redirect_to(url_for("rentals.room", room_id=room.id))
    return _room_page(room, status=422, photo_form=form)  # the message beside the field


@bp.route("/rooms/<int:room_id>/photos/<int:photo_id>/delete", methods=["POST"])
@staff_required
def room_photo_delete(room_id: int, photo_id: int):
    room = visible_or_404(Room, room_id)
    photo = db.session.get(RoomPhoto, photo_id)
    if photo is None or photo.room_id != room.id:
        abort(404)
    uploads.remove_photo(photo, PHOTO_FOLDER)
    flash(_("The photo is removed."), "success")
    return redirect_to(url_for("rentals.room", room_id=room.id))


@bp.route("/rooms/<int:room_id>/photos/<name>")
@staff_required
def room_photo(room_id: int, name: str):
    room = visible_or_404(Room, room_id)
    if db.session.scalar(sa.select(RoomPhoto.id).where(
            RoomPhoto.room_id == room.id, RoomPhoto.file_name == name)) is None:
        abort(404)
    return uploads.send_image(PHOTO_FOLDER, name)
