"""What every page pays, kept small: the menu's URLs built once per process, a request's
translations looked up once (issue 17, "fast without the page cache").  The counts here fail
when the fixed cost of a page comes back; no timings."""

from __future__ import annotations

from flask_babel import Domain, force_locale, gettext, lazy_gettext, refresh

from portal.core import nav
from portal.core.nav import MENU_CACHE, MENU_HTML_CACHE, cached_menu, cached_menu_html, menu_for
from tests.conftest import request_context


def _counting(monkeypatch, owner, name: str) -> list:
    calls: list = []
    original = getattr(owner, name)

    def counted(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def _menu(html: str) -> str:
    return html.split('<ul class="nav nav-main">')[1].split("</ul>\n          <ul")[0]


def test_the_menu_builds_no_url_on_a_page_seen_before(app, login_as, monkeypatch):
    staff, client = login_as("staff"), login_as("client")
    app.extensions.pop(MENU_CACHE, None)
    app.extensions.pop(MENU_HTML_CACHE, None)
    urls = _counting(monkeypatch, nav, "url_for")
    first = staff.get("/feedback/").get_data(as_text=True)
    built = len(urls)
    assert built > 5  # the staff menu's links
    again = staff.get("/feedback/").get_data(as_text=True)
    assert len(urls) == built  # the second view took its menu from the cache
    assert _menu(again) == _menu(first) and 'href="/feedback/" aria-current="page"' in first
    # Another role or another page: a menu of its own (its own links, its own current entry).
    client.get("/")
    staff.get("/venues/queue")
    assert len(urls) > built
    before = len(urls)
    client.get("/")
    staff.get("/venues/queue")
    assert len(urls) == before


def test_a_cached_menu_is_keyed_by_role_page_and_script_root(app):
    with request_context(app):
        staff = cached_menu("staff", "feedback.index")
        assert cached_menu("staff", "feedback.index") is staff
        assert staff == menu_for("staff", "feedback.index")
        assert cached_menu("client", "feedback.index") is not staff
        assert cached_menu("staff", "core.home") != staff  # another entry is active
        assert ("staff", "feedback.index", "") in app.extensions[MENU_CACHE]
    with app.test_request_context("/", base_url="http://localhost/portal/"):
        prefixed = cached_menu("staff", "feedback.index")
        assert prefixed is not staff
        assert prefixed[0]["entries"][0]["url"] == "/portal/"


def test_a_rendered_menu_is_kept_per_language_and_renders_nothing_again(app, monkeypatch):
    with request_context(app):
        staff = cached_menu_html("staff", "core.home")
        assert 'href="/" aria-current="page"' in staff
        renders = _counting(monkeypatch, app.jinja_env, "get_template")
        assert cached_menu_html("staff", "core.home") is staff
        assert renders == []  # the second page took its menu's HTML as it was
        with force_locale("en"):
            english = cached_menu_html("staff", "core.home")
        assert english != staff and "Conference center bookings" in english
        assert "会场预订" in staff and "会场预订" not in english
        assert cached_menu_html("client", "core.home") != staff


def test_the_menu_labels_follow_the_reader_language(login_as):
    staff = login_as("staff")
    assert "会场预订" in staff.get("/feedback/?lang=zh").get_data(as_text=True)
    english = staff.get("/feedback/?lang=en").get_data(as_text=True)
    assert "Conference center bookings" in english and "会场预订" not in english


def test_a_page_looks_its_translations_up_once(login_as, monkeypatch):
    staff = login_as("staff")
    staff.get("/search?q=会议")
    lookups = _counting(monkeypatch, Domain, "get_translations")
    html = staff.get("/search?q=会议").get_data(as_text=True)
    assert "机关事务服务门户" in html  # some fifty strings, every one translated
    assert len(lookups) <= 2  # was one per string (with three context lookups each)


def test_force_locale_and_refresh_still_switch_the_catalog(app):
    with request_context(app):
        chinese = gettext("Log out")
        label = lazy_gettext("Log out")
        assert str(label) == chinese != "Log out"
        with force_locale("en"):
            assert gettext("Log out") == str(label) == "Log out"
        assert gettext("Log out") == chinese
        from flask_babel import get_locale

        get_locale()
        refresh()
        assert gettext("Log out") == chinese
        # Whatever sets another locale for the request is followed at the next string.
        from babel import Locale
        from flask import g

        g._flask_babel.babel_locale = Locale.parse("en")
        assert gettext("Log out") == str(label) == "Log out"


def test_the_unread_badge_is_rendered_once_per_count_and_language(app, login_as, monkeypatch):
    from portal.notifications import BADGE_CACHE

    staff = login_as("staff")
    app.extensions.pop(BADGE_CACHE, None)
    renders = []
    get_template = app.jinja_env.get_template

    def counted(name, *args, **kwargs):
        if name in ("notifications/_unread.html", "notifications/_menu_count.html"):
            renders.append(name)
        return get_template(name, *args, **kwargs)

    monkeypatch.setattr(app.jinja_env, "get_template", counted)
    first = staff.get("/feedback/").get_data(as_text=True)
    assert sorted(renders) == ["notifications/_menu_count.html", "notifications/_unread.html"]
    again = staff.get("/feedback/").get_data(as_text=True)
    assert len(renders) == 2 and 'id="unread-count">0</span>' in first and \
        first.count("unread-count") == again.count("unread-count")
    english = staff.get("/feedback/?lang=en").get_data(as_text=True)
    assert len(renders) == 4 and ">Messages <span" in english


def test_money_and_dates_are_formatted_once_per_value_and_language(app):
    """The formatting table keys each text by its language: a mail in English after a page in
    Chinese gets English figures."""
    from datetime import date

    from flask_babel import lazy_gettext as lazy

    from portal import i18n
    from portal.i18n import local_date, money, translated

    with request_context(app):
        chinese = money(123456)
        assert money(123456) == chinese
        long_date = local_date(date(2026, 12, 7), "long")
        assert ("date", date(2026, 12, 7), "long", "zh_Hans_CN") in i18n._FORMATTED
        assert "2026年12月7日" in long_date
        with force_locale("en"):
            assert money(123456) == "CN¥1,234.56" != chinese
            assert local_date(date(2026, 12, 7), "long") == "December 7, 2026"
            assert translated({"x": lazy("Log out"), "n": 3}) == {"x": "Log out", "n": 3}
        assert money(123456) == chinese and money(None) == ""
        plain = translated({"x": lazy("Log out")})
        assert plain["x"] == "退出登录" and type(plain["x"]) is str


def test_the_month_overview_translates_per_page_not_per_cell(app, client, monkeypatch):
    """No gettext, date format or other call per cell: the template's calls do not grow with
    the venues (each row adds its cells, 28 to 31 of them)."""
    from jinja2.runtime import Context

    from tests.bookings.factories import make_venue

    def page_calls() -> tuple[int, int, str]:
        lookups = _counting(monkeypatch, Domain, "get_translations")
        calls = _counting(monkeypatch, Context, "call")
        html = client.get("/venues/overview").get_data(as_text=True)
        monkeypatch.undo()
        return len(calls), len(lookups), html

    cached = app.config.get("PAGE_CACHE", True)
    app.config["PAGE_CACHE"] = False  # every request renders (what is measured)
    try:
        make_venue(app)
        client.get("/venues/overview")
        few, few_lookups, html = page_calls()
        assert html.count('<td class="free">') >= 28
        for _ in range(4):
            make_venue(app)
        many, many_lookups, html = page_calls()
    finally:
        app.config["PAGE_CACHE"] = cached  # the app is shared by the session's tests
    assert html.count('<td class="free">') >= 5 * 28
    assert 0 < few == many and many_lookups == few_lookups <= 2
