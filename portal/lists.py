"""A list of names joined the way the reader's language joins them ("A, B and C" in English,
"A、B和C" in Chinese): Babel's list patterns for the request's locale, never a hard-coded "、".

Registered as the template filter ``names``; items that are already safe markup (links) stay
markup, everything else is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable

from babel.lists import format_list
from flask_babel import get_locale
from markupsafe import Markup, escape


def join_names(items: Iterable) -> str:
    items = [item for item in items if item is not None and str(item) != ""]
    if not items:
        return ""
    locale = get_locale() or "zh_Hans_CN"
    if any(isinstance(item, Markup) for item in items):
        return Markup(format_list([str(escape(item)) for item in items], locale=locale))  # noqa: S704
    return format_list([str(item) for item in items], locale=locale)
