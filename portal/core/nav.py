"""Navigation by role: each module registers its entries; the base template shows them.

Entries are grouped by module (会场预订, 房屋租赁, 服务监督, 合作单位与联席会议, 系统管理): the
base template shows each group as a ``<details>`` menu, so the navigation works without
JavaScript and on a phone.  An entry's group follows from its endpoint's blueprint
(:data:`BLUEPRINT_GROUPS`) unless ``nav_item(..., group=...)`` names one; an entry of no
group (the home page) stands on its own, and so does a group with a single entry for a role
(a menu of one link is one tap too many).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup

from ..auth.models import role_label

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class NavGroup:
    key: str
    label: object  # a lazy string
    blueprints: tuple[str, ...]


GROUPS = (
    NavGroup("bookings", _l("Conference center bookings"), ("bookings",)),
    NavGroup("rentals", _l("Room rentals"), ("rentals",)),
    NavGroup("supervision", _l("Service supervision"), ("feedback", "catalogue", "surveys")),
    NavGroup("suppliers", _l("Suppliers and joint meetings"), ("suppliers", "meetings")),
    NavGroup("partner", _l("Our work with the bureau"), ("partners",)),
    NavGroup("system", _l("System administration"), ("admin", "audit", "outbox")),
)
GROUP_ORDER = {group.key: position for position, group in enumerate(GROUPS)}
BLUEPRINT_GROUPS = {blueprint: group.key for group in GROUPS for blueprint in group.blueprints}


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string
    roles: tuple[str, ...]
    order: int = 50
    group: str | None = None

    @property
    def group_key(self) -> str | None:
        if self.group is not None:
            return self.group
        return BLUEPRINT_GROUPS.get(self.endpoint.partition(".")[0])


_items: list[NavItem] = []


def nav_item(endpoint: str, label, roles: tuple[str, ...], order: int = 50,
             group: str | None = None) -> None:
    if group is not None and group not in GROUP_ORDER:
        raise ValueError(f"unknown navigation group {group!r}")
    _items.append(NavItem(endpoint, label, roles, order, group))


def items_for(role: str) -> list[NavItem]:
    return sorted((item for item in _items if role in item.roles), key=lambda item: item.order)


def menu_for(role: str, endpoint: str | None) -> list[dict]:
    """The role's navigation: single links (``entries`` of one, no ``label``) and groups, in
    module order; an entry is ``active`` on its own page, a group when the page belongs to
    one of its modules (its blueprints)."""
    blueprint = (endpoint or "").partition(".")[0]
    singles: list[dict] = []
    groups: dict[str, dict] = {}
    for item in items_for(role):
        entry = {"url": url_for(item.endpoint), "label": item.label,
                 "active": endpoint == item.endpoint}
        key = item.group_key
        if key is None:
            singles.append({"key": item.endpoint, "label": None, "entries": [entry],
                            "active": entry["active"]})
            continue
        group = groups.setdefault(key, {
            "key": key, "label": GROUPS[GROUP_ORDER[key]].label, "entries": [],
            "active": blueprint in GROUPS[GROUP_ORDER[key]].blueprints})
        group["entries"].append(entry)
    for group in groups.values():
        if len(group["entries"]) == 1:
            group["label"] = None  # one link: shown as that link
            group["active"] = group["entries"][0]["active"] or group["active"]
    return singles + sorted(groups.values(), key=lambda group: GROUP_ORDER[group["key"]])


MENU_CACHE = "portal.nav_menus"  # app.extensions key: the menus built so far
MENU_CACHE_SIZE = 2000  # far above roles × endpoints; a bound all the same


def cached_menu(role: str, endpoint: str | None) -> list[dict]:
    """:func:`menu_for`, built once per process for each (role, page endpoint, script root).

    A menu depends on nothing else: its labels are lazy strings (translated when shown, in
    the reader's language) and its links are fixed paths under the script root.  Every page
    shows it, so without this each page would build a dozen URLs.  Shared between requests:
    read it, never change it.
    """
    menus = current_app.extensions.setdefault(MENU_CACHE, {})
    key = (role, endpoint, request.script_root)
    menu = menus.get(key)
    if menu is None:
        if len(menus) >= MENU_CACHE_SIZE:
            menus.clear()
        menu = menus[key] = menu_for(role, endpoint)
    return menu


MENU_HTML_CACHE = "portal.nav_menu_html"  # app.extensions key: the menus rendered so far


def cached_menu_html(role: str, endpoint: str | None) -> Markup:
    """The menu's entries as HTML (``_nav_main.html``), rendered once per process for each
    (role, page endpoint, script root, language).

    Every page shows the menu, and rendering its two dozen entries (a lazy label translated,
    an address and a current mark each) was a fifth of a simple page's work; the HTML depends
    on nothing but this key.  The template is rendered without the context processors: it
    uses only ``nav_menu``.
    """
    env = current_app.jinja_env
    menus = current_app.extensions.setdefault(MENU_HTML_CACHE, {})
    key = (role, endpoint, request.script_root, str(get_locale()))
    html = None if env.auto_reload else menus.get(key)  # development: edits show at once
    if html is None:
        if len(menus) >= MENU_CACHE_SIZE:
            menus.clear()
        template = env.get_template("_nav_main.html")
        # An autoescaped template's output: its labels and addresses are escaped already.
        html = menus[key] = Markup(template.render(nav_menu=cached_menu(role, endpoint)))  # noqa: S704
    return html


def init_nav(app: Flask) -> None:
    @app.context_processor
    def navigation():
        # Once per request, however many templates it renders (a page and its partials).
        if "nav_menu_html" not in g:
            role = current_user.role if current_user.is_authenticated else ANONYMOUS
            g.nav_menu_html = cached_menu_html(role, request.endpoint)
        return {"nav_menu_html": g.nav_menu_html, "role_label": role_label,
                "lang_url": lang_url}


def lang_url(code: str) -> str:
    """This page in another language: the same path and query string, ``lang`` replaced."""
    args = request.args.copy()
    args.setlist("lang", [code])
    return f"{request.path}?{urlencode(list(args.items(multi=True)))}"
