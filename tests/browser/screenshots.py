"""Take the README screenshots into docs/screenshots/ (run by hand, not part of the suite).

    .venv/bin/python -m tests.browser.screenshots [output-dir]

Starts the app on a throwaway SQLite database, drives Debian's chromium like the browser
tests do, and writes login-zh.png, home-admin.png and register-errors-phone.png.
"""

from __future__ import annotations

import sys
import tempfile
from functools import partial
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import expect, sync_playwright

from portal import create_app
from portal.extensions import db
from tests.browser.conftest import DESKTOP, PHONE, TIMEOUT_MS, launch_chromium, log_in
from tests.conftest import LiveServer, _test_config, make_user

OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def _context(browser, **options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


_login = partial(log_in, lang="zh")  # these pages are read in Chinese


def take(browser, base, app, out: Path) -> None:
    # Some accounts, as the demo data has them, so the admin's tiles show real numbers.
    admin = make_user(app, "admin", email="admin@jgj.example.gov.cn", name="周建国",
                      organisation="区机关事务管理局", phone="13800000001")
    make_user(app, "staff", name="陈晓丽", organisation="区机关事务管理局 后勤服务中心")
    make_user(app, "supervisor", name="李明华", organisation="区发展和改革委员会办公室")
    make_user(app, "client", name="赵磊", organisation="金山精细化工研究会")

    # 1. The login page in Chinese on a desktop.
    with _context(browser, viewport=DESKTOP) as context:
        page = context.new_page()
        page.goto(f"{base}/auth/login")
        page.locator("#email").blur()
        page.screenshot(path=out / "login-zh.png")

    # 2. The registration form with field errors on a phone; then a valid registration,
    #    which leaves a verification email waiting in the outbox for the admin's tiles.
    with _context(browser, viewport=PHONE, is_mobile=True, has_touch=True,
                  device_scale_factor=2) as context:
        page = context.new_page()
        page.goto(f"{base}/auth/register")
        page.fill("#name", "黄晓梅")
        page.fill("#phone", "1391234")
        page.fill("#email", "wedding@example.com")
        page.fill("#password", "a long passphrase for booking")
        page.fill("#confirm", "a long passphrase for bookin")
        page.press("#confirm", "Enter")  # submit without leaving the button in :hover
        expect(page.locator("#confirm-error")).to_be_visible()
        page.locator("#confirm").blur()
        # Scroll so that the phone field's error and the confirmation's error are in view.
        page.locator("label[for=phone]").evaluate("label => label.scrollIntoView()")
        page.evaluate("window.scrollBy(0, -16)")
        page.screenshot(path=out / "register-errors-phone.png")

        page.fill("#phone", "13912345678")
        page.fill("#password", "a long passphrase for booking")
        page.fill("#confirm", "a long passphrase for booking")
        page.locator("#register-form").get_by_role("button", name="注册").click()
        page.wait_for_url(f"{base}/auth/register/done")

    # 3. The admin's home page with its tiles.
    with _context(browser, viewport=DESKTOP) as context:
        page = context.new_page()
        _login(page, base, admin)
        expect(page.locator(".tiles .tile")).not_to_have_count(0)
        page.screenshot(path=out / "home-admin.png")


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else OUT
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(_test_config(f"sqlite:///{Path(tmp) / 'screens.db'}"))
        with app.app_context():
            upgrade()
        server = LiveServer(app).start()
        app.config["BASE_URL"] = server.url
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                take(browser, server.url, app, out)
                browser.close()
        finally:
            server.stop()
            with app.app_context():
                db.engine.dispose()
    for name in ("login-zh.png", "home-admin.png", "register-errors-phone.png"):
        path = out / name
        print(f"{path} {path.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main(sys.argv)
