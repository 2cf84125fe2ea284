"""Language and formatting: Simplified Chinese first, English complete beside it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, request
from flask_babel import (
    Domain,
    format_currency,
    format_date,
    format_decimal,
    format_percent,
    get_locale,
)
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

LANG_COOKIE = "portal_lang"
# What a user may pass as ?lang= and what it selects.
LANG_ALIASES = {"zh": "zh_Hans_CN", "zh_Hans_CN": "zh_Hans_CN", "zh-CN": "zh_Hans_CN", "en": "en"}
LANGUAGE_NAMES = {"zh_Hans_CN": "简体中文", "en": "English"}


class RequestDomain(Domain):
    """Flask-Babel's message domain, its translations looked up once per request.

    Flask-Babel finds a string's catalog anew for every string (three context lookups and the
    locale's name each time; a page has some fifty strings).  Here the catalog found first is
    kept beside the request's locale and reused while that locale holds: ``force_locale``
    (a mail in its reader's language) sets another locale object, and ``refresh`` drops it,
    so either finds its own catalog.
    """

    def get_translations(self):
        try:
            ctx = g._flask_babel
            locale, translations = ctx.portal_translations
            if locale is ctx.babel_locale:
                return translations
        except (AttributeError, RuntimeError):  # first string, or no request
            pass
        translations = super().get_translations()
        ctx = g.get("_flask_babel") if g else None
        if ctx is not None and getattr(ctx, "babel_locale", None) is not None:
            ctx.portal_translations = (ctx.babel_locale, translations)
        return translations


_DOMAINS: dict[str, RequestDomain] = {}


def install_domain(app: Flask) -> None:
    """Every gettext of the app (Python, lazy strings, templates) through one
    :class:`RequestDomain`."""
    config = app.extensions["babel"]
    name = config.default_domain
    # One per domain name, as Flask-Babel keeps one (on its shared ``Babel`` object).
    domain = _DOMAINS.setdefault(name, RequestDomain(domain=name))
    config.instance.domain_instance = domain
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: domain.get_translations().ugettext(s),
        ngettext=lambda s, p, n: domain.get_translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: domain.get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: domain.get_translations().unpgettext(c, s, p, n),
    )
    # The templates' _() and gettext() as Jinja's newstyle gettext does them (escaped in an
    # HTML template, always a format string), in one call rather than three through the
    # template context (a page has some forty strings: 39 Python calls each, now 19).
    translations = domain.get_translations

    @pass_eval_context
    def gettext(eval_ctx, string: str, **variables) -> str:
        text = translations().ugettext(string)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (a translator's text, as Jinja trusts it)
        return text % variables if variables or "%" in text else text

    @pass_eval_context
    def pgettext(eval_ctx, context: str, string: str, **variables) -> str:
        variables.setdefault("context", context)
        text = translations().upgettext(context, string)
        if eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (a translator's text, as Jinja trusts it)
        return text % variables

    app.jinja_env.globals.update(_=gettext, gettext=gettext, pgettext=pgettext)


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


# --- the one clock ------------------------------------------------------------------------------
# Times are written on the 24-hour clock in every language, as Chinese offices write them
# ("14:00", never "2:00 PM"); a short date is ISO ("2026-12-10") in every language. Pages, mails,
# PDFs, exports and iCal descriptions all format times through these helpers.


def to_local(value: datetime) -> datetime:
    """An instant in the bureau's zone; a naive datetime is taken as UTC (how it is stored)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(local_zone())


def format_time_24(value: datetime | time | None) -> str:
    """"14:00": a time of day as is, an instant in the bureau's zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%H:%M")


def format_date_local(value: date, fmt: str = "short") -> str:
    """A date: ``short`` is ISO (2026-12-10) in every language, other widths the locale's."""
    return value.isoformat() if fmt == "short" else local_date(value, fmt)


def format_datetime_local(value: datetime | None, fmt: str = "short") -> str:
    """"2026-12-10 14:00": the date (see :func:`format_date_local`) and the 24-hour time."""
    if value is None:
        return ""
    local = to_local(value)
    return f"{format_date_local(local.date(), fmt)} {local:%H:%M}"


def format_time_range(start: datetime, end: datetime, fmt: str = "short") -> str:
    """"2026-12-10 14:00–16:00"; the end's date too when it falls on another day."""
    if to_local(start).date() == to_local(end).date():
        return f"{format_datetime_local(start, fmt)}–{format_time_24(end)}"
    return f"{format_datetime_local(start, fmt)} – {format_datetime_local(end, fmt)}"


def set_lang_cookie(response, locale: str) -> None:
    response.set_cookie(
        LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )


# Babel's number and date formatting is slow (a pattern applied digit by digit, ~0.1 ms) and
# a list shows the same amounts and dates again and again: each text is made once per
# process for its value, width and language (a bounded table, emptied when full).
_FORMATTED: dict[tuple, str] = {}
_FORMATTED_SIZE = 20_000


def _formatted(key: tuple, make) -> str:
    text = _FORMATTED.get(key)
    if text is None:
        if len(_FORMATTED) >= _FORMATTED_SIZE:
            _FORMATTED.clear()
        text = _FORMATTED[key] = make()
    return text


def translated(labels: dict) -> dict:
    """A table of lazy labels (a model's ``LABELS``) translated once for this request: a
    list shows them row after row, and a lazy string looks its catalog up at every use."""
    return {key: str(value) if isinstance(value, LazyString) else value
            for key, value in labels.items()}


# Number styles written with Python's own formatting where it gives Babel's text: a report
# shows thousands of figures, each distinct, and Babel applies its pattern digit by digit
# (about 20 µs a figure).  Per locale, checked once: the symbols are "." and "," in groups of
# three, the percent and currency patterns the plain ones; otherwise (another locale) Babel.
_PLAIN_PERCENT, _PLAIN_CURRENCY = "#,##0%", "¤#,##0.00"
_plain_styles: dict[object, tuple[bool, str | None]] = {}


def _plain_style(locale) -> tuple[bool, str | None]:
    """(numbers and percents are plain, the CNY symbol when money is plain too)."""
    key = locale  # a Locale hashes by its parts: a fifth of the cost of its text, per figure
    style = _plain_styles.get(key)
    if style is None:
        from babel import numbers as babel_numbers

        symbols_plain = (babel_numbers.get_decimal_symbol(locale) == "."
                         and babel_numbers.get_group_symbol(locale) == ","
                         and babel_numbers.get_minus_sign_symbol(locale) == "-"
                         and locale.decimal_formats[None].grouping == (3, 3))
        plain = symbols_plain and locale.percent_formats[None].pattern == _PLAIN_PERCENT
        currency = (locale.currency_symbols.get("CNY") if symbols_plain and
                    locale.currency_formats["standard"].pattern == _PLAIN_CURRENCY else None)
        style = _plain_styles[key] = (plain, currency)
    return style


def _exact(value) -> Decimal:
    # As Babel reads a float: by its shortest text, so 2.25 is 2.25, rounded half to even.
    return value if isinstance(value, Decimal) else Decimal(str(value))


def number(value, places: int = 0) -> str:
    """A number grouped by thousands with ``places`` decimals ("#,##0.0"), as Babel writes it
    in the current locale."""
    locale = get_locale()
    if _plain_style(locale)[0]:
        return f"{_exact(value):,.{places}f}"
    return format_decimal(value, "#,##0" + ("." + "0" * places if places else ""))


def percent(value, places: int = 1) -> str:
    """A fraction as a percentage ("#,##0.0%": Decimal("0.456") is 45.6%)."""
    locale = get_locale()
    if _plain_style(locale)[0]:
        return f"{_exact(value) * 100:,.{places}f}%"
    return format_percent(value, "#,##0" + ("." + "0" * places if places else "") + "%")


def money(fen: int | None) -> str:
    """Integer fen (分) shown as yuan in the current locale, e.g. ¥1,234.50."""
    if fen is None:
        return ""
    locale = get_locale()
    symbol = _plain_style(locale)[1]
    if symbol is not None:
        return f"{'-' if fen < 0 else ''}{symbol}{Decimal(abs(fen)) / 100:,.2f}"
    return _formatted(("money", fen, str(locale)),
                      lambda: format_currency(Decimal(fen) / 100, "CNY"))


_CAPITAL_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_CAPITAL_UNITS = ("", "拾", "佰", "仟")
_CAPITAL_GROUPS = ("", "万", "亿", "万亿")
MAX_CAPITALS_FEN = 10**18 - 1  # 9999 万亿元 and 99 fen: the largest amount written out


def amount_in_capitals(fen: int) -> str:
    """Integer fen written in Chinese capitals (大写金额) as banks and receipts want it, after
    the People's Bank's rules for filling in bills (正确填写票据和结算凭证的基本规定):

    * "整" after 元 when there are no 角 and 分 (壹佰元整); none after 角 or 分 (伍角, 伍角伍分);
    * a run of zeros between two written digits is one 零 (壹仟零肆元整, 壹拾元零伍分), also
      across 元 (壹仟陆佰捌拾元零叁角贰分, the rules' own example);
    * a leading ten is 壹拾 (壹拾元零伍分), so that nothing can be written before it;
    * less than a yuan has no 零元 (伍角), as printed on bank slips; zero is 零元整.

    Negative amounts are refused (a receipt never shows one)."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError("amount_in_capitals takes integer fen")
    if fen < 0:
        raise ValueError("a negative amount has no capitals")
    if fen > MAX_CAPITALS_FEN:
        raise ValueError("amount too large")
    if fen == 0:
        return "零元整"
    yuan, rest = divmod(fen, 100)
    jiao, cents = divmod(rest, 10)
    out: list[str] = []
    zero = False  # a zero is pending: written as one 零 before the next non-zero digit
    text = str(yuan) if yuan else ""
    for index, char in enumerate(text):
        position = len(text) - 1 - index
        digit = int(char)
        if digit == 0:
            zero = True
        else:
            if zero:
                out.append("零")
                zero = False
            out.append(_CAPITAL_DIGITS[digit] + _CAPITAL_UNITS[position % 4])
        if position % 4 == 0 and position and int(text[max(0, index - 3):index + 1]):
            out.append(_CAPITAL_GROUPS[position // 4])
    if yuan:
        out.append("元")
    for digit, unit in ((jiao, "角"), (cents, "分")):
        if digit == 0:
            zero = zero or bool(out)
            continue
        if zero and out:
            out.append("零")
        zero = False
        out.append(_CAPITAL_DIGITS[digit] + unit)
    if not jiao and not cents:
        out.append("整")
    return "".join(out)


def local_date(value, fmt: str = "medium") -> str:
    """A date in the reader's language (the ``date`` filter); "" for none."""
    if not value:
        return ""
    if type(value) is not date:  # a datetime is moved to the reader's zone first
        return format_date(value, fmt)
    return _formatted(("date", value, fmt, str(get_locale())), lambda: format_date(value, fmt))


def html_lang() -> str:
    return "zh-CN" if str(get_locale()).startswith("zh") else "en"


def init_i18n(app: Flask) -> None:
    install_domain(app)
    app.jinja_env.filters["money"] = money
    app.jinja_env.filters["capitals"] = amount_in_capitals
    app.jinja_env.filters["datetime"] = format_datetime_local
    app.jinja_env.filters["time"] = format_time_24
    app.jinja_env.filters["time_range"] = format_time_range
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
