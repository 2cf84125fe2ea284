"""Error pages in the portal's style; htmx requests get a message, never a blank swap."""

from __future__ import annotations

import logging

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..htmx import is_htmx

log = logging.getLogger("portal.errors")

MESSAGES = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    403: (_l("Not allowed"), _l("Your account may not open this page.")),
    404: (_l("Not found"), _l("There is nothing here, or it is not yours to see.")),
    405: (_l("Not allowed"), _l("This address does not accept that kind of request.")),
    410: (_l("Link no longer valid"), _l("This link has expired or was already used.")),
    413: (_l("Too large"), _l("The upload is larger than the portal accepts.")),
    429: (_l("Too many attempts"), _l("Please wait a minute before trying again.")),
    500: (_l("Something went wrong"),
          _l("The error has been logged. Please try again; if it persists, contact the bureau.")),
}
CSRF_MESSAGE = _l(
    "This form has expired (it was open too long or you logged in elsewhere). "
    "Reload the page and submit it again."
)


def _render_error(status: int, message=None):
    title, default_message = MESSAGES.get(status, MESSAGES[400 if status < 500 else 500])
    message = message or default_message
    if is_htmx():
        # The htmx config swaps 4xx/5xx bodies into #messages.
        body = render_template("_alert.html", category="danger", title=title, message=message)
    else:
        body = render_template("errors/error.html", status=status, title=title, message=message)
    response = (body, status)
    return response


def init_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error):
        log.warning("CSRF failure on %s %s: %s", request.method, request.path, error.description)
        return _render_error(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(error):
        response = error.get_response()
        body, status = _render_error(error.code or 500)
        response.set_data(body)
        response.status_code = status
        response.content_type = "text/html; charset=utf-8"
        return response

    @app.errorhandler(InternalServerError)
    def server_error(error):
        log.error("unhandled error on %s %s", request.method, request.path,
                  exc_info=getattr(error, "original_exception", None))
        return _render_error(500)
