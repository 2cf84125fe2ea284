"""Screenshots of the modules for the README, on the demo data (run by hand).

    .venv/bin/python -m tests.browser.screenshots_modules [output-dir]

Also the grouped navigation (navigation-groups.png) and a supervisor's home on a phone
(supervisor-home-phone.png) with its menu open (navigation-phone.png).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from flask_migrate import upgrade

from portal import create_app
from portal.demo import DEMO_PASSWORD, run_loaders
from portal.extensions import db
from tests.browser.conftest import DESKTOP, TIMEOUT_MS, launch_chromium
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
        server = LiveServer(app).start()
        app.config["BASE_URL"] = server.url
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                              viewport=DESKTOP)
                context.set_default_timeout(TIMEOUT_MS)
                page = context.new_page()
                base = server.url

                def login(email):
                    page.goto(f"{base}/auth/login")
                    page.fill("#email", email)
                    page.fill("#password", DEMO_PASSWORD)
                    page.locator("#login-form").get_by_role("button", name="登录").click()
                    page.wait_for_url(f"{base}/")

                page.goto(f"{base}/venues/overview")
                page.screenshot(path=out / "venues-overview.png")
                login("staff@jgj.example.gov.cn")
                # The navigation grouped by module, one menu open.
                page.locator("header .nav-group > details", has_text="服务监督") \
                    .locator("summary").click()
                page.screenshot(path=out / "navigation-groups.png",
                                clip={"x": 0, "y": 0, "width": DESKTOP["width"], "height": 420})
                page.keyboard.press("Escape")  # closes the menu again
                page.goto(f"{base}/venues/queue?status=all")
                page.screenshot(path=out / "booking-queue.png")
                page.goto(f"{base}/rentals/rooms")
                page.screenshot(path=out / "rental-rooms.png")
                page.goto(f"{base}/rentals/leases?status=active")
                page.locator("#results a[href*='/rentals/leases/']").first.click()
                page.wait_for_load_state()
                page.screenshot(path=out / "rental-lease.png", full_page=True)
                page.goto(f"{base}/feedback/dashboard")
                page.screenshot(path=out / "supervision-dashboard.png", full_page=True)
                page.goto(f"{base}/meetings/")
                page.locator("a[href^='/meetings/']").filter(has_text="第一季度").first.click()
                page.wait_for_load_state()
                page.screenshot(path=out / "meeting-minutes.png", full_page=True)
                phone = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                            viewport={"width": 390, "height": 844},
                                            device_scale_factor=2).new_page()
                phone.goto(f"{base}/auth/login")
                phone.fill("#email", "supervisor@fgw.example.gov.cn")
                phone.fill("#password", DEMO_PASSWORD)
                phone.locator("#login-form").get_by_role("button", name="登录").click()
                phone.wait_for_url(f"{base}/")
                phone.screenshot(path=out / "supervisor-home-phone.png")
                phone.locator("details.menu > summary").click()
                phone.locator("header .nav-group > details", has_text="服务监督") \
                    .locator("summary").click()
                phone.screenshot(path=out / "navigation-phone.png")
                phone.goto(f"{base}/feedback/new")
                phone.screenshot(path=out / "feedback-phone.png", full_page=True)
                browser.close()
        finally:
            server.stop()
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
