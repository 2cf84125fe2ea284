"""Five phone photos in one submission fit under the request cap; a submission over the cap
comes back as the form with the reason beside the photos field, not as a bare 413 page."""

import io
import os
from functools import cache

import sqlalchemy as sa

from portal.config import load_config
from portal.extensions import db
from portal.feedback.models import Feedback, FeedbackPhoto
from portal.outbox.models import OutboxMessage
from tests.conftest import csrf_token
from tests.feedback.factories import make_appointment, make_category, photo_submission

MB = 1024 * 1024


@cache
def phone_photo(seed: int) -> bytes:
    """A ~4 MB JPEG of noise (noise does not compress), like a phone camera's photo."""
    from PIL import Image

    side = 1650
    noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=98)
    return buffer.getvalue()


def _post(client, category, photos, headers=None):
    body, content_type = photo_submission(csrf_token(client, "/feedback/new"), category, photos)
    return client.post("/feedback/new", data=body, headers=headers or {},
                       content_type=content_type)


def _counts(app):
    with app.app_context():
        return tuple(db.session.scalar(sa.select(sa.func.count()).select_from(model))
                     for model in (Feedback, FeedbackPhoto, OutboxMessage))


def test_the_default_cap_carries_five_maximal_photos_and_the_form(tmp_path, monkeypatch):
    for name in ("PORTAL_MAX_UPLOAD_MB", "PORTAL_UPLOAD_IMAGE_MAX_MB"):
        monkeypatch.delenv(name, raising=False)
    config = load_config(str(tmp_path))
    image_mb = config["UPLOAD_IMAGE_MAX_MB"]
    assert config["MAX_CONTENT_LENGTH"] >= (5 * image_mb + 1) * MB


def test_five_phone_photos_are_accepted_in_one_submission(app, login_as):
    client = login_as("supervisor")
    make_appointment(app, client.account.id)
    category = make_category(app)
    photos = [phone_photo(n) for n in range(5)]
    assert all(3.5 * MB < len(p) < app.config["UPLOAD_IMAGE_MAX_MB"] * MB for p in photos)
    assert sum(len(p) for p in photos) > 16 * MB  # over the former 16 MB request cap
    response = _post(client, category, photos)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert _counts(app)[:2] == (1, 5)


def test_a_submission_over_the_cap_comes_back_as_the_form(app, login_as, monkeypatch):
    client = login_as("supervisor")
    make_appointment(app, client.account.id)
    category = make_category(app)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 6 * MB)
    before = _counts(app)
    response = _post(client, category, [phone_photo(0), phone_photo(1)])
    html = response.get_data(as_text=True)
    assert response.status_code == 413
    assert 'id="feedback-form"' in html and 'id="photos-error"' in html
    assert "6 MB" in html and "请重新填写" in html
    assert _counts(app) == before

    # With htmx the page keeps what was typed: only the photos field is replaced (out of
    # band) and the reason goes to the messages area.
    partial = _post(client, category, [phone_photo(0), phone_photo(1)],
                    headers={"HX-Request": "true"})
    text = partial.get_data(as_text=True)
    assert partial.status_code == 413
    assert 'id="feedback-form"' not in text and "<html" not in text
    assert 'id="photos-field" hx-swap-oob="true"' in text and 'id="photos-error"' in text
    assert 'role="alert"' in text
    assert _counts(app) == before


def test_other_feedback_pages_keep_the_usual_413_page(app, login_as, monkeypatch):
    staff = login_as("staff")
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1 * MB)
    response = staff.post("/catalogue/new", data={"name": "x" * (2 * MB)})
    assert response.status_code == 413
    assert "上传的内容超过" in response.get_data(as_text=True)


def test_an_anonymous_over_the_cap_submission_gets_the_usual_413_page(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 1 * MB)
    response = client.post("/feedback/new", data={"description": "x" * (2 * MB)})
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "上传的内容超过" in html and 'id="feedback-form"' not in html
