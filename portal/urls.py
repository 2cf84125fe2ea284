"""The portal's own absolute address, for links that leave the page (emails, calendar feeds,
QR codes, survey links).

``PORTAL_BASE_URL`` when it is set (always in production: a link must never follow the Host
header a client sent).  In development, when it is not set, a request's own address: the
server ``flask run --port 5401`` or ``make run PORT=5401`` actually answers on; outside
requests (cron, the CLI) the configured default.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request


def base_url() -> str:
    """``https://portal.example.gov.cn``: no trailing slash."""
    if current_app.config.get("BASE_URL_FROM_REQUEST") and has_request_context():
        return request.host_url.rstrip("/")
    return current_app.config["BASE_URL"]
