"""Language and formatting: Simplified Chinese first, English complete beside it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request
from flask_babel import format_currency, format_date, format_datetime, get_locale
from flask_login import current_user

LANG_COOKIE = "portal_lang"
# What a user may pass as ?lang= and what it selects.
LANG_ALIASES = {"zh": "zh_Hans_CN", "zh_Hans_CN": "zh_Hans_CN", "zh-CN": "zh_Hans_CN", "en": "en"}
LANGUAGE_NAMES = {"zh_Hans_CN": "简体中文", "en": "English"}


def select_locale() -> str:
    """?lang= first, then the cookie, then the user's profile, then Chinese."""
    wanted = LANG_ALIASES.get(request.args.get("lang", ""))
    if wanted:
        g.set_lang_cookie = wanted
        return wanted
    cookie = LANG_ALIASES.get(request.cookies.get(LANG_COOKIE, ""))
    if cookie:
        return cookie
    if current_user and current_user.is_authenticated and current_user.locale:
        return current_user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def local_zone() -> ZoneInfo:
    """The bureau's time zone (Asia/Shanghai): what "today" and opening hours mean."""
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local_today() -> date:
    return datetime.now(local_zone()).date()


def set_lang_cookie(response, locale: str) -> None:
    response.set_cookie(
        LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


def money(fen: int | None) -> str:
    """Integer fen (分) shown as yuan in the current locale, e.g. ¥1,234.50."""
    if fen is None:
        return ""
    return format_currency(Decimal(fen) / 100, "CNY")


def local_datetime(value, fmt: str = "medium") -> str:
    """A stored (UTC) instant in the bureau's time zone and the reader's language."""
    return format_datetime(value, fmt) if value else ""


def local_date(value, fmt: str = "medium") -> str:
    return format_date(value, fmt) if value else ""


def html_lang() -> str:
    return "zh-CN" if str(get_locale()).startswith("zh") else "en"


def init_i18n(app: Flask) -> None:
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["datetime"] = local_datetime
    app.jinja_env.filters["date"] = local_date

    @app.context_processor
    def language_context():
        return {
            "html_lang": html_lang(),
            "current_locale": str(get_locale()),
            "language_names": LANGUAGE_NAMES,
        }

    @app.after_request
    def remember_language(response):
        wanted = g.get("set_lang_cookie")
        if wanted:
            set_lang_cookie(response, wanted)
        return response
