"""Markdown written by users (meeting minutes...), rendered safely: one function for all.

markdown-it-py renders CommonMark with raw HTML switched off (``html=False``: a ``<script>``
typed in the text is shown as text), then nh3 (ammonia) keeps only an allow-list of tags and
attributes: no script, no style, no event handlers, no ``hx-*``/``data-hx-*`` attributes (htmx
would act on them), and links only to ``http``, ``https`` and ``mailto`` (never
``javascript:``), opened with ``rel="noopener noreferrer nofollow"``. Images are never shown
(no ``<img>``: no tracking pixels, no outside content): ``![alt](src)`` renders its alt text.
"""

from __future__ import annotations

from functools import cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markupsafe import Markup

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"},
                      "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def _image_as_alt_text(renderer, tokens, idx, options, env) -> str:
    """An image is rendered as its alt text (escaped), never as an ``<img>``."""
    token = tokens[idx]
    return escapeHtml(renderer.renderInlineAsText(token.children or [], options, env))


@cache
def _parser() -> MarkdownIt:
    parser = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True}) \
        .enable("table").enable("strikethrough")
    parser.add_render_rule("image", _image_as_alt_text)
    return parser


def markdown_tokens(text: str | None) -> list:
    """The tokens of the same parser, for output other than HTML (Word documents:
    :func:`portal.documents.markdown_blocks`)."""
    return _parser().parse(text or "")


def render_markdown(text: str | None) -> Markup:
    """Markdown to safe HTML (a Markup, so templates do not escape it twice)."""
    html = _parser().render(text or "")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes=URL_SCHEMES, link_rel="noopener noreferrer nofollow",
                      strip_comments=True)
    return Markup(clean)  # noqa: S704  (sanitised by nh3 just above)
