"""Every main page of every role on a 390 × 844 phone, on the demo data: no page wider than the
screen, touch targets at least 44 px high, date and time fields as high as the other fields,
and no serious or critical accessibility violation found by axe-core.

The pages are the navigation's links of each role (read from the page, so a new module's page
is covered as soon as it is in the menu), a few forms, and the first record page linked from
each list.  axe-core is vendored for the tests only (tests/browser/vendor/, MPL-2.0) and
evaluated through the DevTools protocol, which the Content Security Policy does not govern:
the pages themselves load nothing more.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal import create_app
from portal.demo import DEMO_PASSWORD, run_loaders
from portal.extensions import db
from tests.browser.conftest import PHONE
from tests.conftest import LiveServer, _test_config, release_live_database

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-4.11.1.min.js"
MIN_TARGET_PX = 44

ACCOUNTS = {
    "client": "client@jinshan-chem.example.com",
    "supervisor": "supervisor@fgw.example.gov.cn",
    "staff": "staff@jgj.example.gov.cn",
    "admin": "admin@jgj.example.gov.cn",
}
# Pages not in the menu that each role opens often (forms with dates and times among them).
EXTRA_PAGES = {
    None: ["/auth/login", "/auth/register", "/venues/overview", "/venues/grid",
           "/venues/grid?view=week"],
    "client": ["/venues/book", "/auth/account"],
    "supervisor": ["/feedback/mine?status=open"],
    "staff": ["/venues/book", "/venues/grid", "/venues/runsheet", "/rentals/leases/new",
              "/meetings/new", "/surveys/rounds/new",
              "/feedback/?status=all", "/suppliers/contracts", "/meetings/actions",
              "/rentals/occupancy"],
    "admin": ["/admin/users/new"],
}
# The first record linked from the pages above, one per kind: its page is visited too.
RECORD_LINKS = [re.compile(p) for p in (
    r"^/venues/\d+$", r"^/venues/bookings/\d+$", r"^/rentals/leases/\d+$",
    r"^/rentals/rooms/\d+$", r"^/rentals/tenants/\d+$", r"^/feedback/\d+$",
    r"^/meetings/\d+$", r"^/suppliers/\d+$", r"^/suppliers/contracts/\d+$",
    r"^/surveys/rounds/\d+/results$", r"^/surveys/rounds/\d+/invitations$",
    r"^/suppliers/\d+/scorecard",
)]

# Pages each role's visit must have reached (the ones users found too wide among them).
REQUIRED = {
    None: [r"^/venues/$", r"^/venues/\d+$"],
    "client": [r"^/rentals/my$", r"^/rentals/leases/\d+$", r"^/venues/bookings/mine$",
               r"^/venues/bookings/\d+$", r"^/venues/book$"],
    "supervisor": [r"^/feedback/new$", r"^/feedback/mine$", r"^/feedback/\d+$",
                   r"^/surveys/mine$"],
    "staff": [r"^/venues/queue$", r"^/rentals/rooms$", r"^/rentals/leases/\d+$",
              r"^/feedback/$", r"^/feedback/\d+$", r"^/meetings/\d+$", r"^/suppliers/\d+$",
              r"^/surveys/rounds/\d+/results$", r"^/feedback/dashboard$",
              r"^/feedback/by-place$"],
    "admin": [r"^/admin/users$", r"^/admin/audit/$", r"^/admin/outbox/$"],
}

MEASURE = """() => {
  const visible = (el) => {
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== "hidden";
  };
  const describe = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
      + (el.name ? "[name=" + el.name + "]" : "") + (el.type ? "[type=" + el.type + "]" : "")
      + " " + (el.textContent || el.value || "").trim().slice(0, 30);
  const targets = document.querySelectorAll(
    "button, .button, select, input:not([type=checkbox]):not([type=radio]):not([type=hidden])," +
    " header nav a, header summary, .filter-tabs a, .pagination a");
  const small = [];
  for (const el of targets) {
    if (!visible(el)) continue;
    const height = el.getBoundingClientRect().height;
    if (height < MIN_TARGET - 0.5) small.push(describe(el) + ": " + height.toFixed(1) + "px");
  }
  const field = document.querySelector(
    "main input[type=text], main input[type=email], main input[type=number], main select");
  const fieldHeight = field && visible(field) ? field.getBoundingClientRect().height : null;
  const uneven = [];
  if (fieldHeight) {
    for (const el of document.querySelectorAll(
        "main input[type=date], main input[type=time], main input[type=datetime-local]," +
        " main input[type=month]")) {
      if (!visible(el)) continue;
      const height = el.getBoundingClientRect().height;
      if (Math.abs(height - fieldHeight) > 1) {
        uneven.push(describe(el) + ": " + height.toFixed(1) + " vs " + fieldHeight.toFixed(1));
      }
    }
  }
  for (const el of document.querySelectorAll("main select[multiple]")) {
    // a list box shows several options, not one line
    if (visible(el) && el.getBoundingClientRect().height < 80) {
      const height = el.getBoundingClientRect().height;
      uneven.push(describe(el) + ": a list box only " + height + "px high");
    }
  }
  const wide = [];
  if (document.documentElement.scrollWidth > window.innerWidth) {
    for (const el of document.querySelectorAll("body *")) {
      const box = el.getBoundingClientRect();
      if (box.right > window.innerWidth + 0.5 && visible(el)) {
        let inside = false;  // inside a scrolling container: fine
        for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
          const overflow = getComputedStyle(up).overflowX;
          if (overflow === "auto" || overflow === "scroll" || overflow === "hidden") {
            inside = true; break;
          }
        }
        if (!inside) wide.push(describe(el) + " right=" + box.right.toFixed(0));
      }
    }
  }
  return {scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
          small, uneven, wide: wide.slice(0, 8),
          links: Array.from(document.querySelectorAll("a[href^='/']"),
                            (a) => a.getAttribute("href"))};
}""".replace("MIN_TARGET", str(MIN_TARGET_PX))

RUN_AXE = """async () => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => v.id + " (" + v.impact + "): " + v.help + " — "
         + v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(" | "));
}"""


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory, database_url, _sqlite_template):
    """A live server on the demo data (shared by this module's tests; read-only visits)."""
    if _sqlite_template is not None:
        path = tmp_path_factory.mktemp("demo") / "demo.db"
        shutil.copy(_sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = database_url
    app = create_app(_test_config(url, BASE_URL="http://127.0.0.1"))
    with app.test_request_context():
        run_loaders()
        db.session.remove()
    server = LiveServer(app).start()
    app.config["BASE_URL"] = server.url
    yield server
    server.stop()
    release_live_database(app, url)


def _phone(new_context):
    return new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                       device_scale_factor=2).new_page()


def _login(page, base, email):
    page.goto(f"{base}/auth/login?lang=zh")
    page.fill("#email", email)
    page.fill("#password", DEMO_PASSWORD)
    page.locator("#login-form").get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/")


def _menu_links(page) -> list[str]:
    hrefs = page.locator("header nav a[href^='/']").evaluate_all(
        "links => links.map(a => a.getAttribute('href'))")
    return [h for h in hrefs if "lang=" not in h and not h.startswith("/auth/")]


def _check_menu(page) -> list[str]:
    """Open the menu and each module group on the phone: all reachable, nothing too small,
    the page still no wider than the screen."""
    problems = []
    page.locator("details.menu > summary").tap()
    groups = page.locator("header .nav-group > details")
    for n in range(groups.count()):
        group = groups.nth(n)
        group.locator("summary").tap()
        expect(group).to_have_attribute("open", "")
        expect(group.locator("a").first).to_be_visible()
        found = page.evaluate(MEASURE)
        problems += [f"menu group {n}: {s}" for s in found["small"]]
        if found["scroll"] > found["inner"]:
            problems.append(f"menu group {n} open: page {found['scroll']} px wide")
    return problems


def _visit_all(page, base, role) -> list[str]:
    axe_source = AXE.read_text(encoding="utf-8")
    page.goto(f"{base}/")
    problems = _check_menu(page) if role else []
    page.goto(f"{base}/")
    queue = ["/"] + _menu_links(page) + EXTRA_PAGES[role]
    seen_kinds: set[int] = set()
    visited: set[str] = set()
    while queue:
        path = queue.pop(0)
        if path in visited:
            continue
        visited.add(path)
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, (role, path, response)
        found = page.evaluate(MEASURE)
        if found["scroll"] > found["inner"]:
            problems.append(f"{path}: {found['scroll']} px wide at {found['inner']} px: "
                            f"{found['wide']}")
        problems += [f"{path}: touch target {s}" for s in found["small"]]
        problems += [f"{path}: field height {s}" for s in found["uneven"]]
        page.evaluate(axe_source)
        problems += [f"{path}: axe {v}" for v in page.evaluate(RUN_AXE)]
        for href in found["links"]:
            for kind, pattern in enumerate(RECORD_LINKS):
                if kind not in seen_kinds and pattern.match(href):
                    seen_kinds.add(kind)
                    queue.append(href)
    for required in REQUIRED[role]:
        assert any(re.match(required, path) for path in visited), (role, required, visited)
    return problems


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("role", [None, "client", "supervisor", "staff", "admin"])
def test_every_main_page_fits_a_phone_and_has_no_serious_accessibility_problem(
        demo_server, new_context, problems, role, lang):
    page = _phone(new_context)
    base = demo_server.url
    if role:
        _login(page, base, ACCOUNTS[role])
    page.goto(f"{base}/?lang={lang}")  # the language cookie: English words are longer
    found = _visit_all(page, base, role)
    assert found == [], "\n".join(found)
    problems.assert_clean()


def test_the_supervisors_phone_home_leads_with_the_feedback_button(demo_server, new_context):
    page = _phone(new_context)
    base = demo_server.url
    _login(page, base, ACCOUNTS["supervisor"])
    button = page.get_by_role("link", name="提交意见反馈")
    expect(button).to_be_visible()
    box = button.bounding_box()
    assert box["height"] >= 52 and box["width"] >= 300, box
    assert box["y"] < page.locator(".work-list").bounding_box()["y"]
    line = page.locator(".work-list a", has_text="已处理的意见反馈等待您确认")
    assert line.bounding_box()["height"] >= 44  # a big tap target
    line.click()
    page.wait_for_url(f"{base}/feedback/mine?status=resolved")
    expect(page.locator(".filter-tabs a[aria-current=page]")).to_have_text("待确认")


def test_module_menus_work_without_javascript_on_a_desktop_and_a_phone(demo_server,
                                                                        new_context):
    base = demo_server.url
    desktop = new_context(java_script_enabled=False).new_page()
    _login(desktop, base, ACCOUNTS["staff"])
    group = desktop.locator("header .nav-group > details", has_text="服务监督")
    link = group.get_by_role("link", name="满意度调查")
    expect(link).to_be_hidden()
    group.locator("summary").click()
    expect(link).to_be_visible()
    link.click()
    desktop.wait_for_url(f"{base}/surveys/")
    expect(desktop.locator("header li.nav-group.current summary")).to_have_text("服务监督")

    phone = new_context(java_script_enabled=False, viewport=PHONE, is_mobile=True,
                        has_touch=True).new_page()
    _login(phone, base, ACCOUNTS["admin"])
    # Without JavaScript the menu is rendered open; the module groups open on a tap.
    group = phone.locator("header .nav-group > details", has_text="系统管理")
    group.locator("summary").tap()
    phone.get_by_role("link", name="审计日志").tap()
    phone.wait_for_url(f"{base}/admin/audit/")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_with_javascript_one_module_menu_is_open_at_a_time(demo_server, new_context, problems):
    base = demo_server.url
    page = new_context().new_page()
    _login(page, base, ACCOUNTS["staff"])
    groups = page.locator("header .nav-group > details")
    first, second = groups.nth(0), groups.nth(1)
    first.locator("summary").click()
    expect(first).to_have_attribute("open", "")
    second.locator("summary").click()
    expect(second).to_have_attribute("open", "")
    expect(first).not_to_have_attribute("open", re.compile(".*"))
    page.keyboard.press("Escape")
    expect(second).not_to_have_attribute("open", re.compile(".*"))
    expect(second.locator("summary")).to_be_focused()
    second.locator("summary").click()
    page.locator("main h1").click()  # a click elsewhere closes it
    expect(second).not_to_have_attribute("open", re.compile(".*"))
    problems.assert_clean()
