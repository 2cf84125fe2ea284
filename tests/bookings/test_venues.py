"""Staff manage venues, photos and catering standards; photos are cleaned and guarded."""

import io
from pathlib import Path

import sqlalchemy as sa
from PIL import Image

from portal.bookings.models import CateringOption, Venue, VenuePhoto
from portal.extensions import db
from tests.bookings.factories import jpeg_bytes, make_venue
from tests.helpers import form_data

VENUE = {
    "code": "HZ-401", "name": "第四会议室", "kind": "meeting_room", "building": "会议中心",
    "floor": "4F", "description": "", "opens_at": "08:00", "closes_at": "21:00",
    "setup_minutes": "15", "cleanup_minutes": "15", "public": "y", "active": "y",
    "equipment": ["projector", "video_conference"], "boardroom": "24", "classroom": "30",
    "external_half_day": "600", "external_evening": "400", "external_full_day": "1000.50",
    "internal_half_day": "300", "internal_evening": "200", "internal_full_day": "500",
}


def test_staff_create_and_edit_a_venue(app, login_as):
    staff = login_as("staff")
    response = staff.post("/venues/new", data=form_data(staff, "/venues/new", **VENUE))
    assert response.status_code == 303
    with app.app_context():
        venue = db.session.scalar(sa.select(Venue).where(Venue.code == "HZ-401"))
        assert venue.external_full_day_fen == 100_050
        assert venue.capacity_for("boardroom") == 24 and venue.capacity_for("theatre") == 0
        assert venue.equipment_codes == {"projector", "video_conference"}
        venue_id = venue.id
    path = f"/venues/{venue_id}/edit"
    assert 'value="HZ-401"' in staff.get(path).get_data(as_text=True)
    changed = {**VENUE, "boardroom": "", "theatre": "50", "equipment": ["led_screen"]}
    assert staff.post(path, data=form_data(staff, path, **changed)).status_code == 303
    with app.app_context():
        venue = db.session.get(Venue, venue_id)
        assert venue.capacity_for("boardroom") == 0 and venue.capacity_for("theatre") == 50
        assert venue.equipment_codes == {"led_screen"}


def test_venue_form_errors(app, login_as):
    make_venue(app, code="HZ-401")
    staff = login_as("staff")
    duplicate = staff.post("/venues/new", data=form_data(staff, "/venues/new", **VENUE))
    assert duplicate.status_code == 422
    assert 'id="code-error"' in duplicate.get_data(as_text=True)
    no_capacity = {**VENUE, "code": "HZ-402", "boardroom": "", "classroom": ""}
    response = staff.post("/venues/new", data=form_data(staff, "/venues/new", **no_capacity))
    assert 'id="theatre-error"' in response.get_data(as_text=True)
    backwards = {**VENUE, "code": "HZ-403", "closes_at": "07:00"}
    response = staff.post("/venues/new", data=form_data(staff, "/venues/new", **backwards))
    assert 'id="closes_at-error"' in response.get_data(as_text=True)
    negative = {**VENUE, "code": "HZ-404", "external_half_day": "-1"}
    response = staff.post("/venues/new", data=form_data(staff, "/venues/new", **negative))
    assert 'id="external_half_day-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Venue)) == 1
    assert login_as("client").get("/venues/new").status_code == 403


def test_photos_are_checked_cleaned_and_served(app, login_as, client):
    venue_id = make_venue(app)
    staff = login_as("staff")
    path = f"/venues/{venue_id}/edit"
    exif = Image.Exif()
    exif[0x010F] = "Secret Camera Maker"  # Make
    upload = {"photo": (io.BytesIO(jpeg_bytes(size=(3000, 1500), exif=exif)), "photo.png"),
              "caption": "主席台"}
    response = staff.post(f"/venues/{venue_id}/photos", data={
        **form_data(staff, path), **upload}, content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        photo = db.session.scalar(sa.select(VenuePhoto))
        assert photo.file_name.endswith(".jpg") and (photo.width, photo.height) == (2000, 1000)
    stored = Path(app.config["UPLOAD_FOLDER"]) / "venues" / photo.file_name
    assert b"Secret Camera Maker" not in stored.read_bytes()
    served = client.get(f"/venues/{venue_id}/photos/{photo.file_name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    served.close()
    assert "主席台" in client.get(f"/venues/{venue_id}").get_data(as_text=True)
    assert client.get(f"/venues/{venue_id}/photos/../../secret_key").status_code == 404
    # Removing deletes the row and the file.
    removed = staff.post(f"/venues/{venue_id}/photos/{photo.id}/delete",
                         data=form_data(staff, path))
    assert removed.status_code == 303 and not stored.exists()


def test_not_an_image_is_refused_and_nothing_is_kept(app, login_as):
    venue_id = make_venue(app)
    staff = login_as("staff")
    path = f"/venues/{venue_id}/edit"
    before = set((Path(app.config["UPLOAD_FOLDER"]) / "venues").glob("*"))
    for payload, name in [(b"%PDF-1.4 not an image", "brochure.jpg"),
                          (b"<script>alert(1)</script>", "x.png")]:
        response = staff.post(f"/venues/{venue_id}/photos", data={
            **form_data(staff, path), "photo": (io.BytesIO(payload), name)},
            content_type="multipart/form-data")
        assert response.status_code == 422
        assert "不是可识别的图片" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(VenuePhoto)) == 0
    assert set((Path(app.config["UPLOAD_FOLDER"]) / "venues").glob("*")) == before


def test_photos_of_internal_venues_are_not_public(app, login_as, client):
    from tests.bookings.factories import make_photo

    hidden = make_venue(app, public=False)
    name = make_photo(app, hidden)
    assert client.get(f"/venues/{hidden}/photos/{name}").status_code == 404
    staff = login_as("staff")
    response = staff.get(f"/venues/{hidden}/photos/{name}")
    assert response.status_code == 200
    response.close()


def test_catering_standards(app, login_as):
    staff = login_as("staff")
    response = staff.post("/venues/catering-options", data=form_data(
        staff, "/venues/catering-options", kind="banquet", name="宴席 2888元/桌",
        price="2888"))
    assert response.status_code == 303
    with app.app_context():
        option = db.session.scalar(sa.select(CateringOption))
        assert option.unit_price_fen == 288_800 and option.active
    toggle = staff.post(f"/venues/catering-options/{option.id}/toggle",
                        data=form_data(staff, "/venues/catering-options"))
    assert toggle.status_code == 303
    with app.app_context():
        assert not db.session.get(CateringOption, option.id).active
    bad = staff.post("/venues/catering-options", data=form_data(
        staff, "/venues/catering-options", kind="meal", name="", price="abc"))
    assert bad.status_code == 422
    assert 'id="name-error"' in bad.get_data(as_text=True)
