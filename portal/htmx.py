"""htmx helpers: partial-vs-page rendering, redirects, HX-Trigger events.

A partial response is a named block of the page's own template (jinja2-fragments) or a
``_name.html`` partial that the page includes, never a second copy of the markup.
"""

from __future__ import annotations

import json

from flask import Response, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_partial() -> bool:
    """An htmx request that wants a fragment: not boosted navigation, not a history restore."""
    return (
        is_htmx()
        and request.headers.get("HX-Boosted") != "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(template: str, block: str | None = None, status: int = 200, **context) -> Response:
    """Render the whole page, or only ``block`` of it for an htmx partial request."""
    if block is not None and is_partial():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return make_response(body, status)  # Vary: HX-Request is added to every response


def render_form_errors(template: str, block: str, **context) -> Response:
    """An invalid form: 422, swapped in place by htmx (see the htmx-config meta tag)."""
    return render(template, block=block, status=422, **context)


def redirect_to(url: str) -> Response:
    """After a successful POST: a real redirect, or HX-Redirect for htmx so the page changes."""
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, code=303)


def trigger(response: Response, event: str, detail=None) -> Response:
    """Add an event to the response's HX-Trigger header (kept as a JSON object)."""
    existing = response.headers.get("HX-Trigger")
    events = json.loads(existing) if existing and existing.startswith("{") else {}
    if existing and not existing.startswith("{"):
        events.update({name.strip(): None for name in existing.split(",")})
    events[event] = detail
    # ensure_ascii keeps non-ASCII (Chinese) detail legal in a header
    response.headers["HX-Trigger"] = json.dumps(events, ensure_ascii=True)
    return response
