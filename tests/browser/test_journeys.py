"""End-to-end journeys in a real browser (Debian's chromium) against a live server.

The UI is Simplified Chinese by default, so the assertions use the Chinese texts that a
user sees; English is checked after switching language.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE
from tests.conftest import make_user
from tests.helpers import outbox_for

pytestmark = pytest.mark.browser

PASSPHRASE = "a long passphrase for booking"
_LINK = re.compile(r"https?://\S+")


def _fill_registration(page, email, *, name="王小明", phone="13912345678", confirm=PASSPHRASE):
    page.fill("#name", name)
    page.fill("#organisation", "金山精细化工研究会")
    page.fill("#phone", phone)
    page.fill("#email", email)
    page.fill("#password", PASSPHRASE)
    page.fill("#confirm", confirm)


def _submit(page, form_id, label):
    page.locator(f"#{form_id}").get_by_role("button", name=label).click()


def _header(page):
    return page.locator("header.site-header")


def test_register_verify_login_switch_language_logout(live_server, page, problems):
    base = live_server.url
    email = "wang.xiaoming@example.com"

    # Register through the htmx form; success answers HX-Redirect to the "check your mail" page.
    page.goto(f"{base}/auth/register")
    _fill_registration(page, email)
    _submit(page, "register-form", "注册")
    page.wait_for_url(f"{base}/auth/register/done")
    expect(page.locator("h1")).to_have_text("请查收邮件")

    # The verification email links to the live server itself.
    messages = outbox_for(live_server.app, email)
    assert len(messages) == 1, messages
    link = _LINK.search(messages[0].body_text).group(0)
    assert link.startswith(f"{base}/auth/verify/"), link
    page.goto(link)
    page.get_by_role("button", name="确认我的邮箱").click()
    page.wait_for_url(f"{base}/auth/login")
    expect(page.locator("#messages .alert.success")).to_contain_text("电子邮箱已验证")

    # Log in (htmx form, HX-Redirect home).
    page.fill("#email", email)
    page.fill("#password", PASSPHRASE)
    _submit(page, "login-form", "登录")
    page.wait_for_url(f"{base}/")
    expect(page.locator("h1")).to_contain_text("欢迎您")
    expect(page.locator("h1")).to_contain_text("王小明")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")

    # Switch to English from the header.
    _header(page).get_by_role("link", name="English").click()
    page.wait_for_url(f"{base}/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Welcome, 王小明")
    logout = _header(page).get_by_role("button", name="Log out")
    expect(logout).to_be_visible()

    # Log out from the header: back on the login page, logged out, still in English (cookie).
    logout.click()
    page.wait_for_url(f"{base}/auth/login")
    expect(_header(page).get_by_role("link", name="Log in")).to_be_visible()
    expect(_header(page).get_by_role("button", name="Log out")).to_have_count(0)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.goto(f"{base}/auth/account")
    expect(page).to_have_url(re.compile(r"/auth/login\?next="))

    problems.assert_clean()  # no CSP violation, page error or console error on the way


def test_invalid_registration_shows_errors_beside_fields_without_reload(live_server, page,
                                                                        problems):
    base = live_server.url
    page.goto(f"{base}/auth/register")
    page.evaluate("window.__noReload = 'still here'")  # gone if the page reloads

    _fill_registration(page, "bad@example.com", name="李华", phone="12345",
                       confirm="a different passphrase")
    with page.expect_response(
        lambda r: r.url == f"{base}/auth/register" and r.request.method == "POST"
    ) as posted:
        _submit(page, "register-form", "注册")
    assert posted.value.status == 422
    assert posted.value.request.headers.get("hx-request") == "true"

    expect(page.locator("#phone-error")).to_contain_text("请输入 11 位手机号码")
    expect(page.locator("#confirm-error")).to_contain_text("两次输入的密码不一致")
    # Beside the fields: in the field's own block, and referenced by the input.
    phone_field = page.locator(".field.has-error", has=page.locator("#phone"))
    expect(phone_field.locator(".error")).to_have_attribute("id", "phone-error")
    expect(page.locator("#phone")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#confirm")).to_have_attribute("aria-describedby", "confirm-error")
    expect(page.locator(".field.has-error")).to_have_count(2)
    # What the user typed is kept (passwords are not echoed back).
    expect(page.locator("#name")).to_have_value("李华")
    expect(page.locator("#organisation")).to_have_value("金山精细化工研究会")
    expect(page.locator("#phone")).to_have_value("12345")
    expect(page.locator("#email")).to_have_value("bad@example.com")
    # No reload, and the partial replaced the form rather than nesting a page inside it.
    assert page.evaluate("window.__noReload") == "still here"
    assert page.url == f"{base}/auth/register"
    expect(page.locator("form#register-form")).to_have_count(1)
    expect(page.locator("header.site-header")).to_have_count(1)
    assert outbox_for(live_server.app, "bad@example.com") == []

    problems.assert_clean()


def test_phone_viewport_has_no_horizontal_scroll_and_menu_opens(live_server, new_context,
                                                                 problems):
    page = new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                       device_scale_factor=2).new_page()
    page.goto(f"{live_server.url}/auth/login")

    widths = page.evaluate(
        "({scroll: document.documentElement.scrollWidth, inner: window.innerWidth})")
    assert widths["inner"] == PHONE["width"], widths
    assert widths["scroll"] <= widths["inner"], widths

    # The menu starts closed on a phone and opens with its summary.
    menu = page.locator("details.menu")
    nav = page.locator("header nav")
    expect(menu).not_to_have_attribute("open", re.compile(".*"))
    expect(nav.get_by_role("link", name="登录")).to_be_hidden()
    page.locator("details.menu > summary").tap()
    expect(menu).to_have_attribute("open", "")
    expect(nav.get_by_role("link", name="登录")).to_be_visible()
    expect(nav.get_by_role("link", name="注册")).to_be_visible()
    expect(nav.get_by_role("link", name="English")).to_be_visible()
    # The open menu must not widen the page either.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    problems.assert_clean()


def test_login_works_without_javascript(live_server, new_context):
    account = make_user(live_server.app, "staff", name="陈晓丽")
    page = new_context(java_script_enabled=False).new_page()
    base = live_server.url

    page.goto(f"{base}/auth/login")
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    with page.expect_response(
        lambda r: r.url.startswith(f"{base}/auth/login") and r.request.method == "POST"
    ) as posted:
        _submit(page, "login-form", "登录")
    # A plain form POST answered by a real redirect, not an htmx exchange.
    assert "hx-request" not in posted.value.request.headers
    assert posted.value.status == 303
    page.wait_for_url(f"{base}/")
    expect(page.locator("h1")).to_contain_text("陈晓丽")
    page.goto(f"{base}/auth/account")  # the session holds on the next page
    assert page.url == f"{base}/auth/account"

    # A wrong password without JS: the whole page comes back (422) with the error in it.
    fresh = new_context(java_script_enabled=False).new_page()
    fresh.goto(f"{base}/auth/login")
    fresh.fill("#email", account.email)
    fresh.fill("#password", "not the password at all")
    _submit(fresh, "login-form", "登录")
    expect(fresh.locator("#login-forms .alert.danger")).to_contain_text("电子邮箱或密码不正确")
    expect(fresh.locator("header.site-header")).to_have_count(1)


def test_logout_works_without_javascript_on_a_phone(live_server, new_context):
    account = make_user(live_server.app, "client")
    page = new_context(java_script_enabled=False, viewport=PHONE).new_page()
    base = live_server.url
    page.goto(f"{base}/auth/login")
    page.fill("#email", account.email)
    page.fill("#password", account.password)
    _submit(page, "login-form", "登录")
    page.wait_for_url(f"{base}/")

    # Without JavaScript the menu is rendered open, on a phone too.
    page.locator("header").get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{base}/auth/login")
    expect(page.locator("#messages .alert.success")).to_be_attached()
    expect(page.locator("header nav").get_by_role("link", name="登录")).to_be_visible()


def test_header_menu_is_reachable_without_javascript_on_desktop(live_server, new_context):
    page = new_context(java_script_enabled=False).new_page()
    page.goto(f"{live_server.url}/auth/login")
    nav = page.locator("header nav")
    visible_toggle = page.locator("details.menu > summary").is_visible()
    assert visible_toggle or nav.get_by_role("link", name="注册").is_visible(), (
        "neither the menu nor a button to open it is visible")


def test_fields_without_errors_are_not_announced_invalid(live_server, page):
    page.goto(f"{live_server.url}/auth/login")
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]
    email = cdp.send("DOM.querySelector", {"nodeId": root, "selector": "#email"})["nodeId"]
    nodes = cdp.send("Accessibility.getPartialAXTree",
                     {"nodeId": email, "fetchRelatives": False})["nodes"]
    props = {p["name"]: p["value"].get("value") for p in nodes[0].get("properties", [])}
    assert props.get("invalid", "false") == "false", nodes[0]


def test_htmx_swaps_raise_no_csp_violation_and_the_watcher_would_notice(live_server,
                                                                         new_context, problems):
    """CSP: htmx requests and swaps, the menu script and the admin's pages run cleanly.

    The last step breaks the policy on purpose to prove that violations would be caught.
    """
    admin = make_user(live_server.app, "admin", name="周建国")
    page = new_context().new_page()
    base = live_server.url

    # A failed login: htmx POST, 422, the form swapped in place.
    page.goto(f"{base}/auth/login")
    page.fill("#email", admin.email)
    page.fill("#password", "wrong password entirely")
    _submit(page, "login-form", "登录")
    expect(page.locator("#login-forms .alert.danger")).to_contain_text("电子邮箱或密码不正确")
    # htmx honours autofocus after the swap; wait for it so the typing below is not split.
    expect(page.locator("#email")).to_be_focused()
    page.fill("#password", admin.password)
    _submit(page, "login-form", "登录")
    page.wait_for_url(f"{base}/")
    expect(page.locator(".tiles .tile")).not_to_have_count(0)
    page.goto(f"{base}/admin/users")
    page.goto(f"{base}/auth/account")
    page.set_viewport_size(PHONE)  # portal.js closes the menu on a narrow window
    expect(page.locator("details.menu")).not_to_have_attribute("open", re.compile(".*"))

    problems.assert_clean()

    # An inline style attribute breaks style-src 'self': the console watcher must see it.
    page.evaluate("document.body.insertAdjacentHTML('beforeend', '<p style=\"color:red\">x</p>')")
    for _ in range(40):  # the console event arrives asynchronously
        if problems.csp_violations:
            break
        page.wait_for_timeout(50)
    assert problems.csp_violations, "CSP violations are not reported to the console"
