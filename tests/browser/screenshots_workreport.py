"""Screenshots of the work report for the README, on the demo data (run by hand).

    .venv/bin/python -m tests.browser.screenshots_workreport [output-dir]

The report page (work-report.png) and the first page of its PDF (work-report-pdf.png).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from flask_migrate import upgrade

from portal import create_app
from portal.demo import DEMO_PASSWORD, run_loaders
from portal.extensions import db
from portal.i18n import local_today
from tests.browser.conftest import DESKTOP, TIMEOUT_MS, launch_chromium
from tests.conftest import LiveServer, _test_config
from tests.documents import page_images

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
                page.goto(f"{base}/auth/login")
                page.fill("#email", "staff@jgj.example.gov.cn")
                page.fill("#password", DEMO_PASSWORD)
                page.locator("#login-form").get_by_role("button", name="登录").click()
                page.wait_for_url(f"{base}/")
                with app.app_context():
                    today = local_today()
                half = f"{today.year}-H{1 if today.month <= 6 else 2}"  # the demo's draft
                page.goto(f"{base}/work-report/?period={half}")
                page.locator("#versions a[href*='/work-report/']").first.click()
                page.wait_for_load_state()
                page.screenshot(path=out / "work-report.png", full_page=True)
                pdf = page.request.get(page.url + "/report.pdf").body()
                page_images(pdf, Path(tmp), dpi=60)[0].save(out / "work-report-pdf.png")
                browser.close()
        finally:
            server.stop()
            with app.app_context():
                db.engine.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
