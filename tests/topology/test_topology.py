"""Through nginx (deploy/nginx.conf) in front of two gunicorn instances on one database and one
Redis: the races, the shared login limit, logout, the page cache, large uploads and one-time
links behave as they do on one server (``pytest -m topology``; fixtures in conftest.py)."""

from __future__ import annotations

import io
import os
import re
from functools import cache

import pytest
import sqlalchemy as sa

from portal.bookings.models import Booking, VenueSlot
from portal.extensions import db
from portal.feedback.models import Feedback, FeedbackPhoto
from tests.bookings.factories import future_day, make_booking, make_venue
from tests.conftest import make_user
from tests.feedback.factories import make_appointment, make_category, photo_submission
from tests.helpers import all_at_once
from tests.races import assert_one_step
from tests.surveys.factories import invite, make_round, questions_of
from tests.topology.stack import direct_get

pytestmark = [pytest.mark.topology, pytest.mark.live]
MB = 1024 * 1024


def _count(app, model, *where) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))
        db.session.remove()
        return count


def _answered_by(topo, answers) -> set[str]:
    return {topo.nginx.upstream_of(answer.request_id) for answer in answers}


def test_nginx_config_headers_and_static_files(topo):
    visitor = topo.visitor(follow=False)
    page = visitor.get("/auth/login")
    assert page.status == 200
    # One HSTS header (the proxy's; the app's is hidden), the app's own security headers once.
    assert page.headers.get_all("Strict-Transport-Security") == [
        "max-age=31536000; includeSubDomains"]
    assert len(page.headers.get_all("Content-Security-Policy")) == 1
    assert page.headers.get_all("X-Frame-Options") == ["DENY"]
    assert "nginx/" not in page.headers.get("Server", "")
    # The request id nginx made is the app's (X-Request-ID honoured with PORTAL_PROXY_HOPS=1).
    assert topo.nginx.upstream_of(page.request_id) in topo.addresses
    # Static files come from nginx itself: no instance in the log, long cache for vendor files.
    vendor = visitor.get("/static/vendor/htmx-2.0.11.min.js")
    assert vendor.status == 200 and "htmx" in vendor.text
    assert vendor.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert vendor.headers["X-Content-Type-Options"] == "nosniff"
    assert vendor.headers.get_all("Strict-Transport-Security") is not None
    css = visitor.get("/static/css/portal.css")
    assert css.status == 200 and css.headers["Cache-Control"] == "public, max-age=3600"
    static_lines = [line for line in topo.nginx.log_lines() if "/static/" in line]
    assert static_lines and all("upstream=- " in line for line in static_lines)
    # Plain HTTP is redirected to HTTPS.
    plain = visitor.request("GET", "/auth/login?lang=en",
                            base=f"http://127.0.0.1:{topo.nginx.http_port}")
    assert plain.status == 301
    assert plain.headers["Location"] == "https://127.0.0.1/auth/login?lang=en"


def test_booking_slot_race_between_instances_makes_one_booking(topo):
    app = topo.app
    venue_id = make_venue(app, name="多功能厅")
    day = future_day(6).isoformat()
    visitors = []
    for n in range(2):
        visitor = topo.visitor(follow=False)  # the answer of the POST itself, not a redirect's
        visitor.log_in(make_user(app, "client", email=f"topology-rush{n}@example.com"))
        visitor.get("/venues/book")
        visitors.append(visitor)

    def book(n):
        return visitors[n].post("/venues/book", {
            "title": f"会议{n}", "headcount": "50", "layout": "theatre",
            "slots-0-venue_id": str(venue_id), "slots-0-day": day,
            "slots-0-session": "morning", "slots-0-start": "", "slots-0-end": "",
            "meal_option": "0", "meals": "0", "tea_option": "0", "tea_breaks": "0",
            "banquet_option": "0", "banquet_tables": "0"})

    results = all_at_once(2, book)
    assert sorted(answer.status for answer in results) == [303, 422], \
        [(a.status, a.text[:300]) for a in results]
    refused = next(answer for answer in results if answer.status == 422)
    assert "所选时段会场已被占用" in refused.text
    assert _answered_by(topo, results) == topo.addresses  # one request on each instance
    assert _count(app, Booking, Booking.title.in_(["会议0", "会议1"])) == 1
    assert _count(app, VenueSlot, VenueSlot.venue_id == venue_id, VenueSlot.active) == 1


def test_two_staff_approving_one_booking_on_two_instances_approve_it_once(topo):
    app = topo.app
    venue_id = make_venue(app, name="第三会议室")
    customer = make_user(app, "client")
    booking_id = make_booking(app, customer.id, venue_id, day=future_day(11))
    page = f"/venues/bookings/{booking_id}"
    desks = []
    for n in range(2):
        visitor = topo.visitor(follow=False)
        visitor.log_in(make_user(app, "staff", name=f"值班员{n}"))
        visitor.get(page)
        desks.append(visitor)

    results = all_at_once(2, lambda n: desks[n].post(f"{page}/approve",
                                                     {"expected_status": "requested"}))
    assert sorted(answer.status for answer in results) == [303, 409], \
        [(a.status, a.text[:300]) for a in results]
    assert _answered_by(topo, results) == topo.addresses
    [(old, new)] = assert_one_step([(a.status, a.text) for a in results], app, "booking",
                                   booking_id)
    assert (old, new) == ("requested", "approved")


def test_the_login_limit_is_shared_by_both_instances(topo):
    account = make_user(topo.app, "client")
    visitor = topo.visitor()
    visitor.get("/auth/login")
    limit = 10  # the default PORTAL_LOGIN_RATE_LIMIT, "10 per minute" (bad logins only)
    failed = [visitor.post("/auth/login", {"email": account.email, "password": "wrong"})
              for _ in range(limit)]
    assert all(answer.status == 422 for answer in failed), [a.status for a in failed]
    assert _answered_by(topo, failed) == topo.addresses  # round robin: both counted
    eleventh = visitor.post("/auth/login", {"email": account.email,
                                            "password": account.password})
    assert eleventh.status == 429
    # ...whichever instance answers: the one that did not answer the 11th refuses as well.
    other = (topo.addresses - {topo.nginx.upstream_of(eleventh.request_id)}).pop()
    again = visitor.post("/auth/login", {"email": account.email, "password": account.password})
    assert again.status == 429 and topo.nginx.upstream_of(again.request_id) == other
    assert any(key.startswith(b"LIMIT") for key in topo.redis.scan_iter())


def test_logout_ends_the_session_on_the_other_instance(topo):
    account = make_user(topo.app, "client")
    visitor = topo.visitor()
    visitor.log_in(account)
    cookie = visitor.cookie_header()
    for instance in topo.instances:  # the session is valid on both
        assert direct_get(instance.address, "/venues/bookings/mine", cookie) == 200
    visitor.get("/venues/bookings/mine")
    out = visitor.post("/auth/logout", {})
    assert out.status == 200 and out.url.endswith("/auth/login")
    for instance in topo.instances:  # the copied cookie is refused by both
        assert direct_get(instance.address, "/venues/bookings/mine", cookie) == 302


def test_a_write_on_one_instance_refreshes_the_cached_pages_of_both(topo):
    app = topo.app
    venue_id = make_venue(app, name="第四会议室")
    customer = make_user(app, "client")
    booking_id = make_booking(app, customer.id, venue_id, day=future_day(12))
    with app.app_context():
        reference = db.session.get(Booking, booking_id).reference
        db.session.remove()
    client = topo.visitor()
    client.log_in(customer)
    approved = "/venues/bookings/mine?status=approved"
    before = [client.get(approved) for _ in range(4)]
    assert _answered_by(topo, before) == topo.addresses
    assert all(a.status == 200 and reference not in a.text for a in before)
    assert any(b"portal:" in key for key in topo.redis.scan_iter()), "nothing was cached"

    desk = topo.visitor()
    desk.log_in(make_user(app, "staff"))
    desk.get(f"/venues/bookings/{booking_id}")
    decided = desk.post(f"/venues/bookings/{booking_id}/approve",
                        {"expected_status": "requested"})
    assert decided.status == 200, decided.text[:500]

    after = [client.get(approved) for _ in range(2)]
    assert _answered_by(topo, after) == topo.addresses
    assert all(reference in answer.text for answer in after)


@cache
def _noise_png(side: int, seed: int) -> bytes:
    """A PNG of random pixels: noise does not compress, so its size is about side² × 3."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(
        buffer, "PNG", compress_level=0)
    return buffer.getvalue()


def test_a_40_mb_submission_is_accepted_and_a_60_mb_one_gets_the_forms_message(topo):
    app = topo.app
    supervisor = make_user(app, "supervisor")
    make_appointment(app, supervisor.id)
    category_id = make_category(app, name="保洁", name_en="Cleaning")
    visitor = topo.visitor()
    visitor.log_in(supervisor)

    photos = [_noise_png(1660, n) for n in range(5)]
    assert all(len(p) < 8 * MB for p in photos) and sum(map(len, photos)) > 40_000_000
    visitor.get("/feedback/new")
    body, content_type = photo_submission(visitor.csrf, category_id, photos, "image/png")
    accepted = visitor.request("POST", "/feedback/new", data=body,
                               headers={"Content-Type": content_type})
    assert accepted.status == 200, accepted.text[:1000]
    assert _count(app, Feedback) == 1 and _count(app, FeedbackPhoto) == 5

    visitor.get("/feedback/new")
    body, content_type = photo_submission(visitor.csrf, category_id,
                                          [os.urandom(12 * MB) for _ in range(5)])
    assert 60 * MB < len(body) < 64 * MB  # past the app's 48 MB, within nginx's 64m
    refused = visitor.request("POST", "/feedback/new", data=body,
                              headers={"Content-Type": content_type})
    assert refused.status == 413, refused.text[:500]
    assert 'id="feedback-form"' in refused.text and 'id="photos-error"' in refused.text
    assert "这些照片合计超过一次提交可承载的 48 MB" in refused.text
    # The app answered (nginx's own 413 would name no instance).
    line = topo.nginx.line_with('"POST /feedback/new HTTP/1.1" 413 ')
    assert line.split("upstream=")[1].split()[0] in topo.addresses
    assert _count(app, Feedback) == 1


def test_a_one_time_survey_link_leaves_no_token_in_the_access_log(topo):
    app = topo.app
    round_id = make_round(app)
    token, = invite(app, round_id, "topology-survey@example.com")
    fields = {f"q{qid}": "4" if kind == "scale" else "服务周到"
              for qid, kind, _category in questions_of(app, round_id)}
    path = f"/surveys/r/{token}"
    visitor = topo.visitor()
    # The link written with an escaped letter reaches the same page: it is kept out too.
    assert visitor.get(f"/surveys/%72/{token}").status == 200
    form = visitor.get(path)
    assert form.status == 200
    answered = visitor.post(path, fields, headers={"Referer": topo.base + path})
    assert answered.status == 200, answered.text[:500]
    # The page's own CSS is fetched with the link as referrer.
    visitor.get("/static/css/portal.css", headers={"Referer": topo.base + path})
    log = topo.nginx.access_log.read_text()
    assert "/static/css/portal.css" in log  # the access log is written...
    assert token not in log and "/surveys/r/" not in log  # ...without the link
    for instance in topo.instances:
        assert token not in instance.log.read_text()
    with app.app_context():
        from portal.surveys.models import SurveyResponse

        assert db.session.scalar(sa.select(sa.func.count()).select_from(SurveyResponse)) == 1
        db.session.remove()
    assert re.search(r"rid=[0-9a-f]{32} ", log)
