"""Smoke test of a production install, run by ``.ci/smoke_prod_install.sh`` (``make smoke-prod``).

It runs with the Python of a fresh virtualenv that holds ``pip install .`` and nothing else
(no dev extras: no pytest, so it uses only the portal's runtime packages), on the SQLite
database and upload folder the shell script migrated and loaded with the demo data, with
``PORTAL_ENV=production``. Through Flask's test client over https it:

1. logs in as the member of staff the script created with ``flask users create``;
2. uploads a PDF contract, an image integrity agreement, a venue photo and a room photo
   through their real forms and downloads them back;
3. requests every GET route of the app as anonymous and as each demo role, with the URL's
   values filled from the demo data (first, middle and last row), and fails on any 5xx.

Not collected by pytest (the name does not start with ``test_``). Exit status 0 = passed.
"""

from __future__ import annotations

import io
import logging
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # the checkout, as deployed ("run it from a checkout")

import sqlalchemy as sa  # noqa: E402
from flask import url_for  # noqa: E402
from PIL import Image  # noqa: E402

from portal import create_app  # noqa: E402
from portal.auth.demo import DEMO_ACCOUNTS  # noqa: E402
from portal.auth.models import User  # noqa: E402
from portal.bookings.models import Booking, BookingSeries, Venue, VenuePhoto  # noqa: E402
from portal.catalogue.models import ServiceCategory  # noqa: E402
from portal.demo import DEMO_PASSWORD  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.feedback.models import Feedback, FeedbackPhoto, SupervisorAppointment  # noqa: E402
from portal.meetings.models import ActionItem, AgendaItem, Meeting  # noqa: E402
from portal.outbox.models import OutboxMessage  # noqa: E402
from portal.partners.demo import DEMO_SUPPLIER_EMAIL  # noqa: E402
from portal.partners.models import ActionItemPhoto  # noqa: E402
from portal.rentals.models import Lease, Payment, RentPeriod, Room, RoomPhoto, Tenant  # noqa: E402
from portal.roles import Role  # noqa: E402
from portal.suppliers.models import ServiceContract, Supplier  # noqa: E402
from portal.surveys.models import Questionnaire, SurveyInvitation, SurveyRound  # noqa: E402
from portal.workreport.models import WorkReport  # noqa: E402
from tests.helpers import hand_written_pdf  # noqa: E402  (runtime packages only)

BASE_URL = "https://portal.localhost"  # production cookies are Secure
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

# A URL value -> the model whose ids fill it. A new kind of URL value fails the smoke test
# until it is added here (as a new route fails tests/test_routes.py until it has its entry).
ID_ARGUMENTS = {
    "user_id": User, "message_id": OutboxMessage, "booking_id": Booking, "venue_id": Venue,
    "series_id": BookingSeries, "room_id": Room, "tenant_id": Tenant, "lease_id": Lease,
    "supplier_id": Supplier, "contract_id": ServiceContract, "feedback_id": Feedback,
    "category_id": ServiceCategory, "appointment_id": SupervisorAppointment,
    "round_id": SurveyRound, "questionnaire_id": Questionnaire, "meeting_id": Meeting,
    "item_id": AgendaItem, "action_id": ActionItem, "report_id": WorkReport,
    "period_id": RentPeriod, "payment_id": Payment,
}
# Stored photos: their URL names the record and the file together.
PHOTO_ROUTES = {"bookings.photo": (VenuePhoto, "venue_id"),
                "rentals.room_photo": (RoomPhoto, "room_id"),
                "feedback.photo": (FeedbackPhoto, "feedback_id"),
                "partners.action_photo": (ActionItemPhoto, "action_id")}
OTHER_VALUES = {"filename": ["css/portal.css"], "token": ["not-a-token"]}


def fail(message: str) -> None:
    print(f"SMOKE FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "PNG")
    return buffer.getvalue()


class Browser:
    """The test client over https, sending a same-origin Referer as a browser does (CSRF's
    strict https check wants one)."""

    def __init__(self, app):
        self.client = app.test_client()

    def get(self, path: str):
        return self.client.get(path, base_url=BASE_URL)

    def post(self, path: str, data: dict, page: str):
        html = self.get(page).get_data(as_text=True)
        match = _CSRF.search(html)
        if not match:
            fail(f"no CSRF token on {page}")
        return self.client.post(path, base_url=BASE_URL, data={"csrf_token": match.group(1),
                                                                **data},
                                headers={"Referer": f"{BASE_URL}{page}"})

    def login(self, email: str, password: str) -> None:
        response = self.post("/auth/login", {"email": email, "password": password},
                             "/auth/login")
        if response.status_code != 303:
            fail(f"login as {email}: {response.status_code}")


def upload(browser: Browser, path: str, page: str, field: str, content: bytes, name: str):
    response = browser.post(path, {field: (io.BytesIO(content), name)}, page)
    if response.status_code != 303:
        error = re.search(r'class="error"[^>]*>([^<]*)', response.get_data(as_text=True))
        reason = ("a server error (its traceback is above)" if response.status_code >= 500
                  else error.group(1) if error else "")
        fail(f"upload of {name} to {path}: {response.status_code} {reason}")
    print(f"  uploaded {name} ({len(content)} bytes) -> {response.headers['Location']}")


def first_id(model) -> int:
    value = db.session.scalar(sa.select(model.id).order_by(model.id).limit(1))
    if value is None:
        fail(f"the demo data holds no {model.__name__}")
    return value


def uploads(app, staff: Browser) -> None:
    with app.app_context():
        contract_id = first_id(ServiceContract)
        supplier_id = first_id(Supplier)
        venue_id = first_id(Venue)
        room_id = first_id(Room)
    contract = f"/suppliers/contracts/{contract_id}"
    upload(staff, f"{contract}/upload", contract, "document", hand_written_pdf(b"", b"HT-SMOKE"),
           "委托服务协议.pdf")
    with staff.get(f"{contract}/document") as download:
        if download.status_code != 200 or not download.data.startswith(b"%PDF-"):
            fail(f"the stored contract PDF: {download.status_code}")
    supplier = f"/suppliers/{supplier_id}"
    upload(staff, f"{supplier}/integrity", supplier, "document", png("navy"), "廉政协议.png")
    with staff.get(f"{supplier}/integrity/document") as download:
        if download.status_code != 200:
            fail(f"the stored integrity agreement: {download.status_code}")
    upload(staff, f"/venues/{venue_id}/photos", f"/venues/{venue_id}/edit", "photo",
           png("teal"), "会场.png")
    upload(staff, f"/rentals/rooms/{room_id}/photos", f"/rentals/rooms/{room_id}", "photo",
           png("olive"), "房间.png")


def sample(values: list) -> list:
    """First, middle and last: a few records in different states, not all of them."""
    return sorted({values[0], values[len(values) // 2], values[-1]}) if values else []


def route_values(app) -> dict[str, list[dict]]:
    """endpoint -> the URL values to request it with (one empty dict for a route without)."""
    from portal.surveys.services import invitation_token

    result: dict[str, list[dict]] = {}
    with app.test_request_context():
        ids = {argument: sample(db.session.scalars(sa.select(model.id).order_by(model.id)).all())
               for argument, model in ID_ARGUMENTS.items()}
        salt = db.session.scalar(sa.select(SurveyInvitation.salt).order_by(SurveyInvitation.id))
        tokens = OTHER_VALUES["token"] + ([invitation_token(salt)] if salt else [])
        # a QR code's signed place (the first venue) and the demo diner's follow link
        from portal.bookings.models import Venue
        from portal.feedback.models import Feedback
        from portal.feedback.public import VENUE, follow_token, sign_place

        venue = db.session.scalar(sa.select(Venue.id).order_by(Venue.id).limit(1))
        public_item = db.session.scalar(sa.select(Feedback.id).where(
            Feedback.source == "public").order_by(Feedback.id).limit(1))
        tokens += ([sign_place(VENUE, venue)] if venue else []) + (
            [follow_token(public_item)] if public_item else [])
        photos = {endpoint: [{owner: getattr(photo, owner), "name": photo.file_name}
                             for photo in db.session.scalars(sa.select(model).limit(2))]
                  for endpoint, (model, owner) in PHOTO_ROUTES.items()}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        if rule.endpoint in photos:
            result[rule.endpoint] = photos[rule.endpoint]
            if not photos[rule.endpoint]:
                print(f"  not requested: {rule.endpoint} (no photo of that kind)")
            continue
        combinations: list[dict] = [{}]
        for argument in sorted(rule.arguments - set(rule.defaults or {})):  # defaults: fixed
            if argument in ID_ARGUMENTS:
                choices = ids[argument]
            elif argument == "token":
                choices = tokens
            elif argument in OTHER_VALUES:
                choices = OTHER_VALUES[argument]
            else:
                fail(f"no value for <{argument}> of {rule.endpoint} ({rule.rule}): add one to "
                     "tests/smoke/prod_smoke.py")
            if not choices:
                print(f"  not requested: {rule.endpoint} (no <{argument}> in the demo data)")
            combinations = [{**values, argument: choice} for values in combinations
                            for choice in choices]
        result[rule.endpoint] = combinations
    return result


def walk(app, browser: Browser, who: str, values: dict[str, list[dict]]) -> tuple[int, list]:
    failures, count = [], 0
    for endpoint, combinations in sorted(values.items()):
        if endpoint == "auth.logout":
            continue  # POST only; its GET is a 405 anyway
        for url_values in combinations:
            with app.test_request_context():
                url = url_for(endpoint, **url_values)
            with browser.get(url) as response:
                count += 1
                if response.status_code >= 500:
                    failures.append(f"{who}: GET {url} -> {response.status_code}")
    return count, failures


def main() -> None:
    started = time.monotonic()
    if os.environ.get("PORTAL_ENV") != "production":
        fail("run it with PORTAL_ENV=production (.ci/smoke_prod_install.sh does)")
    for module in ("pytest", "playwright", "hypothesis"):
        try:
            __import__(module)
        except ImportError:
            continue
        fail(f"{module} is importable: this is not a production install")
    app = create_app()
    logging.getLogger().setLevel(logging.ERROR)  # server errors (with their traceback) only
    print(f"portal from {Path(sys.modules['portal'].__file__).parent}, "
          f"python {sys.executable}")
    staff = Browser(app)
    staff.login(os.environ["SMOKE_STAFF_EMAIL"], os.environ["SMOKE_STAFF_PASSWORD"])
    uploads(app, staff)
    values = route_values(app)
    roles = {"anonymous": Browser(app), f"staff ({os.environ['SMOKE_STAFF_EMAIL']})": staff}
    for role, email, *_ in [*DEMO_ACCOUNTS, (Role.SUPPLIER, DEMO_SUPPLIER_EMAIL)]:  # per role
        if not any(who.startswith(f"{role} ") for who in roles):
            roles[f"{role} ({email})"] = Browser(app)
            roles[f"{role} ({email})"].login(email, DEMO_PASSWORD)
    total, failures = 0, []
    for who, browser in roles.items():
        count, found = walk(app, browser, who, values)
        total += count
        failures += found
        print(f"  {who}: {count} GET requests, {len(found)} server errors")
    if failures:
        fail(f"{len(failures)} server errors:\n  " + "\n  ".join(failures))
    print(f"production install smoke test passed: {len(values)} GET routes, {total} requests, "
          f"{len(roles)} users, in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
