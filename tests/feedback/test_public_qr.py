"""The public QR channel: the staff's sheet of codes, the phone form without login (valid and
each bad input), the hidden guards (honeypot, minimum fill time, rate limits, tampered ids),
the spam action and the address throttle, the reporter's follow link, and figures by source."""

import io
import re
import time

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from portal.database import write_transaction
from portal.extensions import db
from portal.feedback import public, reports
from portal.feedback.models import Feedback, FeedbackPhoto, FeedbackSource, FeedbackStatus
from portal.outbox.models import OutboxMessage
from portal.rentals.models import RoomStatus
from tests.bookings.factories import jpeg_bytes, make_venue
from tests.conftest import csrf_token
from tests.feedback.factories import make_appointment, make_category, make_feedback
from tests.rentals.factories import make_building, make_room

S = FeedbackStatus


@pytest.fixture
def place(app):
    """A canteen hall (a venue of kind banquet hall) with its signed QR path; the canteen
    service to preselect, and the cleaning service."""
    canteen = make_category(app, code="canteen", name="食堂餐饮", name_en="Canteen")
    cleaning = make_category(app, code="cleaning")
    venue = make_venue(app, name="第一食堂大厅")
    with app.test_request_context(), write_transaction():
        from portal.bookings.models import Venue

        db.session.get(Venue, venue).kind = "banquet_hall"
    with app.test_request_context():
        token = public.sign_place(public.VENUE, venue)
    return {"venue": venue, "token": token, "path": f"/feedback/q/{token}",
            "canteen": canteen, "cleaning": cleaning}


def _stamp(app, seconds_ago: float = 20) -> str:
    with app.test_request_context():
        return public.form_stamp(time.time() - seconds_ago)


def _post(client, app, path, *, seconds_ago=20, photos=(), address="10.0.0.1", **fields):
    values = MultiDict({"csrf_token": csrf_token(client, path),
                        "started": _stamp(app, seconds_ago),
                        "description": "餐盘回收区很脏，地上有汤水",
                        "service_rating": "2", "contact": "", "website": "", **fields})
    for stream, name, kind in photos:
        values.add("photos", FileStorage(stream=stream, filename=name, content_type=kind))
    boundary, body = encode_multipart(values)
    return client.post(path, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       environ_overrides={"REMOTE_ADDR": address})


def _t(app, message: str, **values) -> str:
    """The message as the page shows it (Chinese by default)."""
    from flask_babel import gettext

    with app.test_request_context():
        return gettext(message, **values)


def _count(model=Feedback):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_diner_reports_with_a_photo_without_login_and_follows_it(app, client, place,
                                                                  login_as):
    page = client.get(place["path"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "第一食堂大厅" in html
    # The canteen is preselected for a canteen hall.
    assert re.search(rf'<option selected value="{place["canteen"]}"|<option value="'
                     rf'{place["canteen"]}" selected', html), html
    response = _post(client, app, place["path"], category_id=str(place["canteen"]),
                     contact="diner@example.com",
                     photos=[(io.BytesIO(jpeg_bytes()), "tray.jpg", "image/jpeg")])
    assert response.status_code == 302, response.get_data(as_text=True)
    follow_path = response.headers["Location"]
    assert follow_path.startswith("/feedback/t/")
    with app.app_context():
        item = db.session.scalar(sa.select(Feedback))
        assert item.source == FeedbackSource.PUBLIC and item.supervisor_id is None
        assert (item.venue_id, item.place_label) == (place["venue"], "第一食堂大厅")
        assert item.reporter_address_hash and "10.0.0.1" not in item.reporter_address_hash
        assert _count(FeedbackPhoto) == 1
        mails = db.session.scalars(sa.select(OutboxMessage).where(
            OutboxMessage.recipient == "diner@example.com")).all()
        assert [m.template for m in mails] == ["feedback_public_received"]
        assert follow_path in mails[0].body_text
        item_id = item.id
    followed = client.get(follow_path)
    assert followed.status_code == 200
    assert followed.headers["Cache-Control"] == "private, no-store"
    assert "餐盘回收区很脏" in followed.get_data(as_text=True)
    # The item is in the one staff queue, marked public.
    staff = login_as("staff")
    queue = staff.get("/feedback/?status=all").get_data(as_text=True)
    assert f"/feedback/{item_id}" in queue
    assert f"/feedback/{item_id}\"" in staff.get("/feedback/?status=all&source=public").get_data(
        as_text=True)
    assert f"/feedback/{item_id}\"" not in staff.get(
        "/feedback/?status=all&source=supervisor").get_data(as_text=True)
    item_page = staff.get(f"/feedback/{item_id}").get_data(as_text=True)
    assert 'id="feedback-source"' in item_page and "diner@example.com" in item_page
    # A made-up follow token is a 404.
    assert client.get("/feedback/t/not-a-real-token").status_code == 404


def test_staff_resolve_and_only_the_reporter_confirms_through_the_link(app, client, place,
                                                                       login_as):
    response = _post(client, app, place["path"], category_id=str(place["canteen"]),
                     contact="diner@example.com")
    follow_path = response.headers["Location"]
    staff = login_as("staff")
    with app.app_context():
        item_id = db.session.scalar(sa.select(Feedback.id))
    for action, fields in (("accept", {}), ("resolve", {"resolve-response": "已清理餐盘回收区"})):
        done = staff.post(f"/feedback/{item_id}/{action}", data={
            "csrf_token": csrf_token(staff, f"/feedback/{item_id}"), **fields})
        assert done.status_code in (302, 303), done.get_data(as_text=True)
    with app.app_context():
        mails = db.session.scalars(sa.select(OutboxMessage.template).where(
            OutboxMessage.recipient == "diner@example.com")).all()
        assert "feedback_public_outcome" in mails
    # A supervisor cannot close someone else's public item; staff are never offered "close".
    assert "close" not in staff.get(f"/feedback/{item_id}").get_data(as_text=True).split(
        'id="feedback-actions"')[-1].split("</section>")[0].lower().split("action=")[0]
    page = client.get(follow_path).get_data(as_text=True)
    assert "已清理餐盘回收区" in page and 'id="follow-close"' in page
    # No rating: the message beside the field, nothing changed.
    refused = client.post(follow_path, data={"csrf_token": csrf_token(client, follow_path),
                                             "action": "close", "expected_status": "resolved"})
    assert refused.status_code == 422
    assert _t(app, "Rate the handling from 1 to 5.") in refused.get_data(as_text=True)
    closed = client.post(follow_path, data={"csrf_token": csrf_token(client, follow_path),
                                            "action": "close", "expected_status": "resolved",
                                            "handling_rating": "5", "comment": "很快"})
    assert closed.status_code == 302
    with app.app_context():
        item = db.session.get(Feedback, item_id)
        assert (item.status, item.handling_rating) == (S.CLOSED, 5)
        # Staff are told the public reporter confirmed, not "the supervisor" (issue 15).
        step = db.session.scalar(sa.select(OutboxMessage).where(
            OutboxMessage.template == "feedback_supervisor_step"))
        assert step is not None
        assert "扫码反映人" in step.subject and "监督员" not in step.subject
        assert "扫码反映人通过跟踪链接确认了" in step.body_text and "5 / 5" in step.body_text


def test_staff_cannot_close_a_public_item(app, client, place, login_as):
    _post(client, app, place["path"], category_id=str(place["canteen"]))
    staff = login_as("staff")
    with app.test_request_context():
        from portal.auth.models import User
        from portal.errors import NotAllowed
        from portal.feedback import services

        item = db.session.scalar(sa.select(Feedback))
        actor = db.session.get(User, staff.account.id)
        services.apply_transition(item, "accept", actor)
        services.apply_transition(item, "resolve", actor, response="已处理")
        with pytest.raises(NotAllowed):
            services.apply_transition(item, "close", actor, handling_rating=5)
        other = public.Reporter(item.id + 1000)  # another item's reporter
        with pytest.raises(NotAllowed):
            services.apply_transition(item, "close", other, handling_rating=5)


def test_the_staff_mail_of_a_reopening_names_the_public_reporter(app, client, place, login_as):
    """Issue 15: a QR item reopened through its follow link is announced to staff as the
    public reporter's step, in both languages (never "by the supervisor")."""
    from flask_babel import force_locale
    from jinja2_fragments.flask import render_block

    _post(client, app, place["path"], category_id=str(place["canteen"]))
    staff = login_as("staff")
    with app.test_request_context():
        from portal.auth.models import User
        from portal.feedback import services

        item = db.session.scalar(sa.select(Feedback))
        actor = db.session.get(User, staff.account.id)
        services.apply_transition(item, "accept", actor)
        services.apply_transition(item, "resolve", actor, response="已处理")
        services.apply_transition(item, "reopen", public.Reporter(item.id), reason="仍然很脏")
        step = db.session.scalar(sa.select(OutboxMessage).where(
            OutboxMessage.template == "feedback_supervisor_step"))
        assert step is not None
        assert "扫码反映人" in step.subject and "监督员" not in step.subject
        assert "扫码反映人通过跟踪链接重新打开了" in step.body_text
        item = db.session.get(Feedback, item.id)
        context = {"item": item, "action": "reopen", "link": "/x",
                   "actor": public.Reporter(item.id),
                   "action_label": services.EVENT_LABELS["reopen"]}
        with force_locale("en"):
            subject = render_block("emails/feedback_supervisor_step.txt", "subject", **context)
            body = render_block("emails/feedback_supervisor_step.txt", "body", **context)
        assert "by the public reporter (QR code)" in subject and "supervisor" not in subject
        assert body.startswith("The public reporter (QR code) reopened feedback No.")


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"description": "   "}, "description", "Describe what happened."),
    ({"category_id": ""}, "category_id", "Choose the service concerned."),
    ({"service_rating": "9"}, "service_rating", "Rate the service from 1 to 5."),
    ({"contact": "not a phone"}, "contact", "Enter a phone number or an email address."),
    ({"contact": "a@b"}, "contact", "Enter a valid email address, or leave it empty."),
])
def test_bad_input_gets_the_message_beside_the_field(app, client, place, fields, field,
                                                     message):
    values = {"category_id": str(place["canteen"]), **fields}
    response = _post(client, app, place["path"], **values)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field}-error"' in html, html
    assert _t(app, message) in html
    with app.app_context():
        assert _count() == 0


@pytest.mark.parametrize(("photo", "message"), [
    ((b"not an image at all", "x.jpg", "image/jpeg"), "This file is not an image we can read."),
    ((b"%PDF-1.4 hello", "x.pdf", "application/pdf"), "This file is not an image we can read."),
])
def test_non_image_photos_are_refused_beside_the_field(app, client, place, photo, message):
    data, name, kind = photo
    response = _post(client, app, place["path"], category_id=str(place["canteen"]),
                     photos=[(io.BytesIO(data), name, kind)])
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="photos-error"' in html and _t(app, message) in html
    with app.app_context():
        assert _count() == 0


def test_oversized_photo_and_too_many_photos(app, client, place, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_IMAGE_MAX_MB", 0)  # every photo is too large
    response = _post(client, app, place["path"], category_id=str(place["canteen"]),
                     photos=[(io.BytesIO(jpeg_bytes()), "a.jpg", "image/jpeg")])
    assert response.status_code == 422
    assert _t(app, "The image is larger than %(mb)d MB.", mb=0) in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "UPLOAD_IMAGE_MAX_MB", 10)
    response = _post(client, app, place["path"], category_id=str(place["canteen"]),
                     photos=[(io.BytesIO(jpeg_bytes()), f"{n}.jpg", "image/jpeg")
                             for n in range(4)])
    assert response.status_code == 422
    assert _t(app, "At most %(n)d photos.", n=3) in response.get_data(as_text=True)
    with app.app_context():
        assert _count() == 0 and _count(FeedbackPhoto) == 0


def test_a_report_over_the_request_cap_comes_back_with_the_reason_beside_the_photos(
        app, client, place, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    response = _post(client, app, place["path"], category_id=str(place["canteen"]),
                     photos=[(io.BytesIO(jpeg_bytes((400, 400))), "a.jpg", "image/jpeg")])
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert 'id="photos-error"' in html and 'id="public-feedback-form"' in html
    with app.app_context():
        assert _count() == 0


def test_the_honeypot_keeps_nothing(app, client, place):
    response = _post(client, app, place["path"], category_id=str(place["canteen"]),
                     website="http://spam.example")
    assert response.status_code == 200
    assert 'id="public-thanks"' in response.get_data(as_text=True)
    with app.app_context():
        assert _count() == 0


def test_minimum_fill_time_and_a_twenty_second_person(app, client, place):
    too_quick = _post(client, app, place["path"], category_id=str(place["canteen"]),
                      seconds_ago=0.5)
    assert too_quick.status_code == 422
    assert _t(app, "That was very quick. Please check what you wrote and send it again.") in \
        too_quick.get_data(as_text=True)
    forged = _post(client, app, place["path"], category_id=str(place["canteen"]),
                   started="1700000000.forged")
    assert forged.status_code == 422
    assert _t(app, "This form has expired. Please check what you wrote and send it again.") in \
        forged.get_data(as_text=True)
    with app.app_context():
        assert _count() == 0
    # A real person who takes 20 seconds is never blocked.
    fine = _post(client, app, place["path"], category_id=str(place["canteen"]), seconds_ago=20)
    assert fine.status_code == 302


def test_rate_limits_per_address_and_per_place(app, client, place, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_QR_ADDRESS_LIMIT", "2 per hour")
    for _n in range(2):
        assert _post(client, app, place["path"], category_id=str(place["canteen"]),
                     address="10.0.0.7").status_code == 302
    assert _post(client, app, place["path"], category_id=str(place["canteen"]),
                 address="10.0.0.7").status_code == 429
    # Another address still gets through.
    assert _post(client, app, place["path"], category_id=str(place["canteen"]),
                 address="10.0.0.8").status_code == 302
    with app.app_context():
        assert _count() == 3


def test_rate_limit_per_place(app, client, place, monkeypatch):
    monkeypatch.setitem(app.config, "FEEDBACK_QR_PLACE_LIMIT", "3 per hour")
    for n in range(3):
        assert _post(client, app, place["path"], category_id=str(place["canteen"]),
                     address=f"10.1.0.{n}").status_code == 302
    assert _post(client, app, place["path"], category_id=str(place["canteen"]),
                 address="10.1.0.9").status_code == 429
    with app.app_context():
        assert _count() == 3


def test_tampered_and_gone_places(app, client, place):
    token = place["token"]
    kind_id, signature = token.split(".", 1)
    assert client.get(f"/feedback/q/v{place['venue'] + 1}.{signature}").status_code == 404
    assert client.get(f"/feedback/q/{kind_id}.{signature[:-2]}xx").status_code == 404
    assert client.get("/feedback/q/v1").status_code == 404
    assert _post(client, app, f"/feedback/q/r{place['venue']}.{signature}",
                 category_id=str(place["canteen"])).status_code in (400, 404)
    # A genuine code of a disposed room, or of a room that no longer exists: a polite 410.
    building = make_building(app, name="二号楼")
    room = make_room(app, building_id=building, code="105", status=RoomStatus.DISPOSED)
    with app.test_request_context():
        disposed = public.sign_place(public.ROOM, room)
        removed = public.sign_place(public.ROOM, 999_999)
    for gone in (disposed, removed):
        response = client.get(f"/feedback/q/{gone}")
        assert response.status_code == 410
        assert 'id="place-gone"' in response.get_data(as_text=True)


def test_spam_hides_the_item_and_repeated_spam_throttles_the_address(app, client, place,
                                                                    login_as):
    staff = login_as("staff")
    for n in range(public.SPAM_THROTTLE):
        assert _post(client, app, place["path"], category_id=str(place["canteen"]),
                     description=f"广告 {n}", address="10.6.6.6").status_code == 302
    with app.app_context():
        ids = db.session.scalars(sa.select(Feedback.id).order_by(Feedback.id)).all()
    for item_id in ids:
        done = staff.post(f"/feedback/{item_id}/mark_spam", data={
            "csrf_token": csrf_token(staff, f"/feedback/{item_id}")})
        assert done.status_code in (302, 303), done.get_data(as_text=True)
    queue = staff.get("/feedback/?status=all").get_data(as_text=True)
    assert "广告 0" not in queue
    assert "广告 0" in staff.get("/feedback/?status=spam").get_data(as_text=True)
    refused = _post(client, app, place["path"], category_id=str(place["canteen"]),
                    address="10.6.6.6")
    assert refused.status_code == 429
    assert _t(app, "Reports from this connection are paused for a while. Please ask the service "
              "desk on site.") in refused.get_data(as_text=True)
    # Another address is not affected.
    assert _post(client, app, place["path"], category_id=str(place["canteen"]),
                 address="10.6.6.7").status_code == 302


def test_a_supervisors_item_cannot_be_marked_spam(app, login_as):
    supervisor = login_as("supervisor")
    appointment = make_appointment(app, supervisor.account.id)
    category = make_category(app)
    item_id = make_feedback(app, supervisor.account.id, category, appointment_id=appointment)
    staff = login_as("staff")
    refused = staff.post(f"/feedback/{item_id}/mark_spam", data={
        "csrf_token": csrf_token(staff, f"/feedback/{item_id}")})
    assert refused.status_code in (409, 422)
    with app.app_context():
        assert db.session.get(Feedback, item_id).status == S.SUBMITTED


def test_figures_by_source_and_the_dashboard_toggle(app, client, place, login_as):
    supervisor = login_as("supervisor")
    appointment = make_appointment(app, supervisor.account.id)
    make_feedback(app, supervisor.account.id, place["canteen"], appointment_id=appointment,
                  service_rating=5)
    _post(client, app, place["path"], category_id=str(place["canteen"]), service_rating="1")
    with app.test_request_context():
        from portal.feedback.services import today

        start, end = today().replace(day=1), today().replace(day=28) + __import__(
            "datetime").timedelta(days=10)
        by_source = dict(reports.figures_by_source(start, end))
        assert by_source["supervisor"].volume == 1
        assert by_source["public"].volume == 1
        assert by_source["supervisor"].avg_service_rating == 5
        assert by_source["public"].avg_service_rating == 1
        # The supervisors' figures never include the public's unless asked.
        assert reports.feedback_figures(start, end).avg_service_rating == 5
        assert reports.feedback_figures(start, end, source=reports.ALL_SOURCES).volume == 2
    staff = login_as("staff")
    page = staff.get("/feedback/dashboard").get_data(as_text=True)
    assert 'id="source-public"' in page and 'id="include-public"' in page
    assert re.search(r'id="figure-volume">1<', page)
    both = staff.get("/feedback/dashboard?public=1").get_data(as_text=True)
    assert re.search(r'id="figure-volume">2<', both)
    export = staff.get("/feedback/dashboard/export?report=sources&format=csv")
    assert export.status_code == 200


def test_the_qr_sheet_on_screen_and_as_pdf(app, login_as, place):
    building = make_building(app, name="区政府大院1号楼")
    make_room(app, building_id=building, code="301")
    make_room(app, building_id=building, code="302", status=RoomStatus.DISPOSED)
    staff = login_as("staff")
    page = staff.get("/feedback/qr?building=区政府大院1号楼").get_data(as_text=True)
    assert page.count("<svg") == 1 and "301" in page and "302" not in page
    venues = staff.get("/feedback/qr?building=会议中心").get_data(as_text=True)
    assert "第一食堂大厅" in venues and "/feedback/q/v" in venues
    pdf = staff.get("/feedback/qr.pdf?building=区政府大院1号楼")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert staff.get("/feedback/qr?building=nowhere").status_code == 404
    supervisor = login_as("supervisor")
    assert supervisor.get("/feedback/qr").status_code in (403, 404)


def test_the_public_page_runs_a_bounded_number_of_queries(app, client, place, count_queries):
    with count_queries() as small:
        client.get(place["path"])
    for n in range(10):
        make_category(app, code=f"extra{n}")
    with count_queries() as large:
        client.get(place["path"])
    assert len(large) == len(small)


def test_the_qr_sheet_runs_a_bounded_number_of_queries(app, login_as, count_queries):
    building = make_building(app, name="三号楼")
    make_room(app, building_id=building, code="101")
    staff = login_as("staff")
    with count_queries() as small:
        assert staff.get("/feedback/qr?building=三号楼").status_code == 200
    for n in range(12):
        make_room(app, building_id=building, code=f"2{n:02d}")
    with count_queries() as large:
        page = staff.get("/feedback/qr?building=三号楼").get_data(as_text=True)
    assert page.count("<svg") == 13
    assert len(large) == len(small)


def test_spam_is_left_out_of_a_rooms_history_and_the_by_place_counts(app, client, login_as):
    category = make_category(app, code="cleaning")
    building = make_building(app, name="四号楼")
    room = make_room(app, building_id=building, code="401")
    with app.test_request_context():
        path = f"/feedback/q/{public.sign_place(public.ROOM, room)}"
    for text in ("走廊很脏", "广告广告"):
        assert _post(client, app, path, category_id=str(category), description=text,
                     address="10.9.9.9").status_code == 302
    staff = login_as("staff")
    with app.app_context():
        advert = db.session.scalar(sa.select(Feedback.id).where(
            Feedback.description == "广告广告"))
    staff.post(f"/feedback/{advert}/mark_spam",
               data={"csrf_token": csrf_token(staff, f"/feedback/{advert}")})
    history = staff.get(f"/feedback/rooms/{room}/history").get_data(as_text=True)
    assert "走廊很脏" in history and "广告广告" not in history
    with app.test_request_context():
        from portal.feedback.places import room_counts

        assert [n for _c, n in room_counts(room)] == [1]
