"""In-app notifications (站内消息): the inbox, the unread badge and the email preferences.

The unread badge is part of every page's navigation, and pages may come from the page cache
(``portal/page_cache.py``), which must not freeze one moment's count.  So a page holds only
:data:`UNREAD_MARK` where the count goes; :func:`fill_unread_badge` replaces it on every
response, cached or not, with the reader's count (one query).  With JavaScript the badge also
refreshes itself every minute (``notifications.badge``).
"""

from flask import Blueprint, current_app, request
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup

bp = Blueprint("notifications", __name__, url_prefix="/inbox")

UNREAD_MARK = Markup("<!--portal:unread-badge-->")
# The same count on the phone's closed "Menu" button, so it is seen without opening it.
MENU_MARK = Markup("<!--portal:unread-menu-->")


@bp.app_context_processor
def notification_helpers():
    from .kinds import kind_label

    return {"unread_badge_mark": UNREAD_MARK, "unread_menu_mark": MENU_MARK,
            "notification_kind_label": kind_label}


BADGE_CACHE = "portal.unread_badges"  # app.extensions key: badges rendered so far
BADGE_CACHE_SIZE = 1000


def _render(template: str, unread: int | None) -> str:
    """A badge partial, rendered without the context processors (the menu, the user): it
    runs on every page, and needs only the count, ``url_for`` and gettext.  So its text
    depends only on the count, the language and the script root: each is rendered once per
    process (unless templates reload, as in debug)."""
    env = current_app.jinja_env
    if env.auto_reload:
        return env.get_template(template).render(unread=unread)
    badges = current_app.extensions.setdefault(BADGE_CACHE, {})
    key = (template, unread, str(get_locale()), request.script_root)
    html = badges.get(key)
    if html is None:
        if len(badges) >= BADGE_CACHE_SIZE:
            badges.clear()
        html = badges[key] = env.get_template(template).render(unread=unread)
    return html


def render_badge() -> str:
    from .services import unread_count

    return _render("notifications/_unread.html", unread_count(current_user.id))


@bp.after_app_request
def fill_unread_badge(response):
    if (response.mimetype != "text/html" or response.direct_passthrough
            or response.is_streamed or not current_user.is_authenticated):
        return response
    body = response.get_data(as_text=True)
    if UNREAD_MARK in body:
        from .services import unread_count

        # An error page shows the link without a count (the session may be unusable).
        unread = unread_count(current_user.id) if response.status_code < 500 else None
        badge = _render("notifications/_unread.html", unread)
        menu = _render("notifications/_menu_count.html", unread)
        response.set_data(body.replace(UNREAD_MARK, badge, 1).replace(MENU_MARK, menu, 1))
    return response


from . import models, views  # noqa: E402,F401
