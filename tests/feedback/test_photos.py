"""Feedback photos are private: never cacheable by shared caches, 404 to other supervisors.

``uploads.send_image`` is private by default; only a public venue's photos (anyone may see
them) are sent as publicly cacheable."""

import io

import sqlalchemy as sa
from werkzeug.datastructures import FileStorage

from portal import uploads
from portal.extensions import db
from portal.feedback.models import FeedbackPhoto
from portal.rentals.models import RoomPhoto
from tests.bookings.factories import jpeg_bytes, make_photo, make_venue
from tests.feedback.factories import make_appointment, make_category, make_feedback
from tests.rentals.factories import make_room


def _photo(app, feedback_id):
    with app.test_request_context():
        return uploads.add_photo(FeedbackPhoto, "feedback",
                                 FileStorage(io.BytesIO(jpeg_bytes()), "x.jpg"), "",
                                 feedback_id=feedback_id).file_name


def test_a_feedback_photo_is_private_and_hidden_from_other_supervisors(app, login_as):
    owner = login_as("supervisor")
    make_appointment(app, owner.account.id)
    item = make_feedback(app, owner.account.id, make_category(app))
    name = _photo(app, item)
    url = f"/feedback/{item}/photos/{name}"

    served = owner.get(url)
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Cache-Control"] == "private, no-store"
    assert "public" not in served.headers["Cache-Control"]
    served.close()
    staff = login_as("staff").get(url)
    assert staff.status_code == 200 and staff.headers["Cache-Control"] == "private, no-store"
    staff.close()

    other = login_as("supervisor")
    make_appointment(app, other.account.id)
    assert other.get(url).status_code == 404
    # Nor under the other supervisor's own item's address.
    own = make_feedback(app, other.account.id, make_category(app))
    assert other.get(f"/feedback/{own}/photos/{name}").status_code == 404


def test_public_venue_photos_stay_cacheable_and_the_others_are_private(app, login_as, client):
    public_venue = make_venue(app, public=True)
    public_name = make_photo(app, public_venue)
    served = client.get(f"/venues/{public_venue}/photos/{public_name}")
    assert served.status_code == 200
    assert served.headers["Cache-Control"] == "public, max-age=3600"
    served.close()

    staff = login_as("staff")
    hidden = make_venue(app, public=False)
    hidden_name = make_photo(app, hidden)
    served = staff.get(f"/venues/{hidden}/photos/{hidden_name}")
    assert served.status_code == 200 and served.headers["Cache-Control"] == "private, no-store"
    served.close()

    room_id = make_room(app)
    with app.test_request_context():
        room_photo = uploads.add_photo(RoomPhoto, "rooms",
                                       FileStorage(io.BytesIO(jpeg_bytes()), "r.jpg"), "",
                                       room_id=room_id).file_name
    served = staff.get(f"/rentals/rooms/{room_id}/photos/{room_photo}")
    assert served.status_code == 200 and served.headers["Cache-Control"] == "private, no-store"
    served.close()
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(RoomPhoto)) == 1
