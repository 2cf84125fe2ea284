"""Screenshots of the two outside channels for the README, on the demo data (run by hand).

    .venv/bin/python -m tests.browser.screenshots_channels [output-dir]

On a 390 px phone: the QR code's report form of the canteen's banquet hall, without login
(qr-phone-form.png), and a supplier's account's page of a feedback item transferred to it
(supplier-item-phone.png), one still waiting for its answer when the demo has one.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.auth.models import User
from portal.bookings.models import Venue
from portal.demo import DEMO_PASSWORD, run_loaders
from portal.extensions import db
from portal.feedback.public import VENUE, sign_place
from portal.roles import Role
from tests.browser.conftest import PHONE, TIMEOUT_MS, launch_chromium
from tests.conftest import LiveServer, _test_config

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(_test_config(f"sqlite:///{tmp}/shots.db"))
        with app.app_context():
            upgrade()
        with app.test_request_context():
            run_loaders()
            hall = db.session.scalar(sa.select(Venue.id).where(Venue.kind == "banquet_hall")
                                     .order_by(Venue.id))
            qr_path = f"/feedback/q/{sign_place(VENUE, hall)}"
            supplier_email = db.session.scalar(sa.select(User.email).where(
                User.role == Role.SUPPLIER).order_by(User.id))
        server = LiveServer(app).start()
        app.config["BASE_URL"] = server.url
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                base = server.url

                def phone_page():
                    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                                  viewport=PHONE)
                    context.set_default_timeout(TIMEOUT_MS)
                    return context.new_page()

                diner = phone_page()
                diner.goto(f"{base}{qr_path}")
                diner.fill("#description", "餐盘回收区地面有汤水和剩饭，很脏")
                diner.screenshot(path=out / "qr-phone-form.png", full_page=True)

                supplier = phone_page()
                supplier.goto(f"{base}/auth/login")
                supplier.fill("#email", supplier_email)
                supplier.fill("#password", DEMO_PASSWORD)
                supplier.locator("#login-form").get_by_role("button", name="登录").click()
                supplier.wait_for_url(f"{base}/")
                # An item still waiting for its answer (with the answer form), else any.
                for state in ("waiting", "all"):
                    supplier.goto(f"{base}/partner/feedback?state={state}")
                    items = supplier.locator("a[href^='/partner/feedback/']")
                    if items.count():
                        break
                items.first.click()
                supplier.wait_for_load_state()
                supplier.screenshot(path=out / "supplier-item-phone.png", full_page=True)
                browser.close()
        finally:
            server.stop()
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
