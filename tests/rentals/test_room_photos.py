import io
from pathlib import Path

import sqlalchemy as sa

from portal.extensions import db
from portal.rentals.models import RoomPhoto
from tests.bookings.factories import jpeg_bytes
from tests.helpers import form_data
from tests.rentals.factories import make_room


def test_room_photos_are_cleaned_and_for_staff_only(app, login_as, client):
    room_id = make_room(app)
    staff = login_as("staff")
    path = f"/rentals/rooms/{room_id}"
    response = staff.post(f"{path}/photos", data={
        **form_data(staff, path), "photo": (io.BytesIO(jpeg_bytes()), "room.jpg"),
        "caption": "临街面"}, content_type="multipart/form-data")
    assert response.status_code == 303
    with app.app_context():
        photo = db.session.scalar(sa.select(RoomPhoto))
    served = staff.get(f"{path}/photos/{photo.file_name}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    served.close()
    assert "临街面" in staff.get(path).get_data(as_text=True)
    assert client.get(f"{path}/photos/{photo.file_name}").status_code == 302
    assert login_as("client").get(f"{path}/photos/{photo.file_name}").status_code == 403
    bad = staff.post(f"{path}/photos", data={
        **form_data(staff, path), "photo": (io.BytesIO(b"not an image"), "x.jpg")},
        content_type="multipart/form-data")
    assert bad.status_code == 422 and "不是可识别的图片" in bad.get_data(as_text=True)
    removed = staff.post(f"{path}/photos/{photo.id}/delete", data=form_data(staff, path))
    assert removed.status_code == 303
    assert not (Path(app.config["UPLOAD_FOLDER"]) / "rooms" / photo.file_name).exists()
