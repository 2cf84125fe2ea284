"""The navigation: grouped by module in <details> menus, per role; the language switch."""

from __future__ import annotations

import re

import pytest

from portal.core.nav import GROUPS

GROUP = re.compile(r'<li class="nav-group( current)?">\s*<details>\s*<summary>([^<]+)</summary>'
                   r'(.*?)</details>', re.S)
LINK = re.compile(r'<a href="([^"]+)"[^>]*>([^<]+)</a>')


def _main_nav(html: str) -> str:
    return html.split('<ul class="nav nav-main">', 1)[1].split("</ul>\n          <ul", 1)[0]


def _groups(html: str) -> dict[str, list[str]]:
    return {label: [href for href, _text in LINK.findall(body)]
            for _current, label, body in GROUP.findall(_main_nav(html))}


@pytest.mark.parametrize("role, expected", [
    ("staff", ["会场预订", "房屋租赁", "服务监督", "合作单位与联席会议"]),
    ("admin", ["会场预订", "房屋租赁", "服务监督", "合作单位与联席会议", "系统管理"]),
])
def test_bureau_navigation_is_grouped_by_module(login_as, role, expected):
    html = login_as(role).get("/").get_data(as_text=True)
    groups = _groups(html)
    assert list(groups) == expected
    assert "/venues/queue" in groups["会场预订"] and "/rentals/leases" in groups["房屋租赁"]
    assert {"/feedback/", "/surveys/"} <= set(groups["服务监督"])
    assert groups["合作单位与联席会议"] == ["/suppliers/", "/suppliers/contracts", "/meetings/",
                                     "/meetings/actions"]
    if role == "admin":
        assert {"/admin/users", "/admin/audit/", "/admin/outbox/"} <= set(groups["系统管理"])
    # Every link of the old flat list is still there, each once.
    links = [href for href, _t in LINK.findall(_main_nav(html))]
    assert len(links) == len(set(links)) and links[0] == "/"


def test_a_group_of_one_link_is_that_link_and_the_current_module_is_marked(login_as):
    client = login_as("client")
    html = client.get("/rentals/my").get_data(as_text=True)
    nav = _main_nav(html)
    assert _groups(html) == {"会场预订": ["/venues/", "/venues/bookings/mine", "/venues/waitlist"]}
    assert re.search(r'<li class="current"><a href="/rentals/my" aria-current="page">', nav)
    staff = login_as("staff")
    page = staff.get("/rentals/tenants").get_data(as_text=True)
    current = [label for flag, label, _b in GROUP.findall(_main_nav(page)) if flag]
    assert current == ["房屋租赁"]


def test_group_labels_are_translated(login_as):
    html = login_as("admin").get("/?lang=en").get_data(as_text=True)
    bureau_groups = [str(group.label) for group in GROUPS if group.key != "partner"]
    assert list(_groups(html)) == bureau_groups == [
        "Conference center bookings", "Room rentals", "Service supervision",
        "Suppliers and joint meetings", "System administration"]


def test_a_supplier_account_sees_its_own_menu_only(app, login_as):
    from tests.conftest import login
    from tests.partners.factories import make_supplier_account

    client = app.test_client()
    assert login(client, make_supplier_account(app)).status_code == 303
    groups = _groups(client.get("/?lang=en").get_data(as_text=True))
    assert list(groups) == ["Our work with the bureau"]
    assert groups["Our work with the bureau"] == [
        "/partner/feedback", "/partner/actions", "/partner/contracts", "/partner/meetings",
        "/partner/scorecard"]


def test_the_language_switch_keeps_the_query_string(login_as):
    staff = login_as("staff")
    html = staff.get("/feedback/?status=resolved&overdue=1&lang=zh").get_data(as_text=True)
    assert 'href="/feedback/?status=resolved&amp;overdue=1&amp;lang=en"' in html
    english = staff.get("/feedback/?status=resolved&overdue=1&lang=en")
    assert 'value="resolved" selected' in english.get_data(as_text=True)  # the filter held
    # Without a query the switch adds only the language; values are encoded.
    assert 'href="/?lang=zh_Hans_CN"' in staff.get("/").get_data(as_text=True)  # English now
    searched = staff.get("/rentals/tenants?q=%E5%BC%A0+%26&lang=zh").get_data(as_text=True)
    assert 'href="/rentals/tenants?q=%E5%BC%A0+%26&amp;lang=en"' in searched
