"""Browser fixtures: Debian's chromium driven by Playwright (sync API) against ``live_server``.

Playwright's own browser downloads are never used: chromium is launched from
``/usr/bin/chromium`` (override with ``PORTAL_TEST_CHROMIUM``).  A missing chromium makes the
browser tests fail, never skip, so a CI image without it cannot pass silently.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, sync_playwright

CHROMIUM = os.environ.get("PORTAL_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
# Failures should show up quickly, not after Playwright's 30 s default.
TIMEOUT_MS = 5_000


def launch_chromium(playwright) -> Browser:
    """Launch Debian's chromium headless; fail (never skip) with a clear message if absent."""
    path = CHROMIUM if os.path.isabs(CHROMIUM) else shutil.which(CHROMIUM)
    if not path or not os.access(path, os.X_OK):
        pytest.fail(
            f"chromium not found at {CHROMIUM!r}: the browser tests need Debian's chromium "
            "(apt-get install chromium) or PORTAL_TEST_CHROMIUM pointing at a chromium binary. "
            "Do not run `playwright install`.",
            pytrace=False,
        )
    return playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@dataclass
class Problems:
    """What the browser complained about while a test ran."""

    console: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> None:
        page.on("console", lambda message: self.console.append(message))
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    @property
    def csp_violations(self) -> list[str]:
        return [m.text for m in self.console if "Content Security Policy" in m.text]

    @property
    def console_errors(self) -> list[str]:
        """Console errors, except the expected ones.

        Chromium logs every non-2xx response as "Failed to load resource"; a 422 is how a form
        with errors answers htmx, and /favicon.ico does not exist (yet).
        """
        return [
            f"{m.text} ({m.location.get('url')})" for m in self.console
            if m.type == "error"
            and not ("Failed to load resource" in m.text
                     and ("status of 422" in m.text
                          or m.location.get("url", "").endswith("/favicon.ico")))
        ]

    def assert_clean(self) -> None:
        assert self.csp_violations == [], self.csp_violations
        assert self.page_errors == [], self.page_errors
        assert self.console_errors == [], self.console_errors


@pytest.fixture
def problems() -> Problems:
    return Problems()


@pytest.fixture
def new_context(browser, problems) -> Iterator:
    """``new_context(**options)``: a fresh context (own cookies) closed after the test.

    Every page opened in it reports console messages and page errors to ``problems``.
    """
    contexts: list[BrowserContext] = []

    def make(**options) -> BrowserContext:
        options.setdefault("viewport", DESKTOP)
        options.setdefault("locale", "zh-CN")
        options.setdefault("timezone_id", "Asia/Shanghai")
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        context.on("page", problems.watch)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    """A page in a fresh desktop-sized (1280x800) context."""
    return new_context().new_page()


def log_in(page: Page, base: str, account, lang: str = "en") -> None:
    """Sign ``account`` in through the login form, in English (``lang="zh"``: in Chinese, the
    default), and wait for the home page."""
    english = lang == "en"
    page.goto(f"{base}/auth/login" + ("?lang=en" if english else ""))
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    page.locator("#login-form").get_by_role("button", name="Log in" if english else "登录").click()
    page.wait_for_url(f"{base}/")
