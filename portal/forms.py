"""Validators shared by every module's forms."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice
from wtforms.validators import Length, ValidationError

_PHONE = re.compile(r"^(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?)$")


TOO_LONG = _l("At most %(max)d characters; this has %(length)d.")


def max_length(limit: int) -> Length:
    """The length rule of a text field: the form refuses a longer text (never cuts it) and
    the field carries ``maxlength`` for the browser; the services say the same
    (:func:`too_long`)."""
    return Length(max=limit, message=TOO_LONG)


def too_long(limit: int, length: int):
    """A service's message for a text longer than ``limit``: the form's own words."""
    return _l("At most %(max)d characters; this has %(length)d.", max=limit, length=length)


def int_or_none(value):
    """A select's ``coerce`` for an optional id: an int, or None for an empty choice."""
    try:
        return int(value) if value not in (None, "", "None") else None
    except (TypeError, ValueError):
        return None


def strip_filter(value):
    """Trimmed, with line breaks as one character each: browsers send a textarea's breaks
    as CRLF but count them as one against ``maxlength`` (and so does the page's counter)."""
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


class ChinesePhone:
    """A mainland mobile (13812345678) or landline (021-12345678) number."""

    def __init__(self, message=None):
        self.message = message or _l(
            "Enter a mainland mobile number (11 digits) or a landline such as 021-12345678."
        )

    def __call__(self, form, field):
        value = (field.data or "").replace(" ", "")
        if value and not _PHONE.match(value):
            raise ValidationError(self.message)


def select_choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]
