"""The portal's own absolute address, for links that leave the page (emails, calendar feeds,
QR codes, survey links).

``PORTAL_BASE_URL`` when it is set (always in production: a link must never follow the Host
header a client sent).  In development, when it is not set, a request's own address: the
server ``flask run --port 5401`` or ``make run PORT=5401`` actually answers on; outside
requests (cron, the CLI) the configured default.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, g, has_request_context, request, url_for


def base_url() -> str:
    """``https://portal.example.gov.cn``: no trailing slash."""
    if current_app.config.get("BASE_URL_FROM_REQUEST") and has_request_context():
        return request.host_url.rstrip("/")
    return current_app.config["BASE_URL"]


_SAMPLE_ID = 987654321  # stands for the id in an address built once; never in its other parts


def address_around(endpoint: str, id_arg: str, **values) -> tuple[str, str]:
    """(what comes before a record's id, what comes after it) in the address
    ``url_for(endpoint, id_arg=ident, **values)``: one ``url_for`` for a list of records."""
    head, found, tail = url_for(endpoint, **{id_arg: _SAMPLE_ID}, **values).partition(
        str(_SAMPLE_ID))
    if not found:  # an address that does not carry the id as written (never expected)
        raise ValueError(f"{endpoint} does not show {id_arg} in its address")
    return head, tail


def record_url(endpoint: str, id_arg: str, **values) -> Callable[[int], str]:
    """``ident -> address`` of one kind of record (``url_for(endpoint, id_arg=ident, **values)``):
    a list linking each of its rows builds the address once and puts each id in place, rather
    than resolving the route for every row (the staff queue resolved 122 a request).  Kept
    for the request, so a row template can ask for it row after row."""
    key = (endpoint, id_arg, tuple(sorted(values.items())))
    made = g.setdefault("record_urls", {})
    build = made.get(key)
    if build is None:
        head, tail = address_around(endpoint, id_arg, **values)
        build = made[key] = lambda ident: f"{head}{int(ident)}{tail}"
    return build


def init_urls(app) -> None:
    app.jinja_env.globals["record_url"] = record_url
