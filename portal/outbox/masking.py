"""What the outbox pages show of a message: never a one-time token.

Emails carry personal links whose token is the key (a survey's answer link, the verification,
password-reset and account-invitation links, a calendar feed). An administrator reading the
outbox must not be able to open them: see whether an invitee of an anonymous survey answered,
answer for them, or take over an account. The pages therefore show such links with the token
masked, e.g. ``https://portal/surveys/r/••••••``; the stored message keeps the real link and is
sent as it is.

The links to mask are found from the application's own URL rules: every rule with a ``token``
variable, so a module that adds a tokened route is covered without a list to maintain.
"""

from __future__ import annotations

import re
import weakref

from flask import current_app
from markupsafe import Markup, escape

MASK = "••••••"
_VARIABLE = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)]）。，；：！？"
_compiled: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _rule_pattern(rule: str) -> str:
    """A rule such as ``/surveys/r/<token>`` as a regular expression whose group ``t`` is
    the token (other variables match one path segment)."""
    out, pos = [], 0
    for match in _VARIABLE.finditer(rule):
        out.append(re.escape(rule[pos:match.start()]))
        out.append(r"(?P<t>[^\s/?#<>\"']+)" if match.group(1) == "token" else r"[^\s/?#<>\"']+")
        pos = match.end()
    out.append(re.escape(rule[pos:]))
    return "".join(out)


def token_routes() -> re.Pattern | None:
    """One pattern per tokened route of the current application (compiled once per URL map)."""
    url_map = current_app.url_map
    if url_map not in _compiled:
        rules = sorted({rule.rule for rule in url_map.iter_rules() if "token" in rule.arguments})
        _compiled[url_map] = [re.compile(_rule_pattern(rule)) for rule in rules] or None
    return _compiled[url_map]


def mask_tokens(text: str) -> str:
    """``text`` with the token of every link to a one-time-token route replaced by ``MASK``."""
    for pattern in token_routes() or ():
        text = pattern.sub(lambda m: m.group(0)[:m.start("t") - m.start()] + MASK
                           + m.group(0)[m.end("t") - m.start():], text)
    return text


def mail_text(text: str) -> Markup:
    """A message's plain text for the outbox page: tokens masked, other links clickable
    (opening in a new tab), masked links left as plain text."""
    text = mask_tokens(text or "")
    parts, pos = [], 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        parts.append(escape(text[pos:match.start()]))
        if MASK in url:
            parts.append(Markup('<span class="masked-link">{}</span>').format(url))
        else:
            parts.append(Markup('<a href="{0}" target="_blank" rel="noopener">{0}</a>')
                         .format(url))
        pos = match.start() + len(url)
    parts.append(escape(text[pos:]))
    return Markup("").join(parts)
