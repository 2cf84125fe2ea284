"""Security headers, request ids and safe redirects, without unmaintained packages."""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

from flask import Flask, g, request

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site paths are followed after login ("/x", never "//evil" or "https://…")."""
    if not target:
        return default
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def init_security(app: Flask) -> None:
    @app.before_request
    def assign_request_id():
        # A request id set by our own proxy is kept (to follow a request across logs); from
        # the open internet it is not trusted.
        incoming = request.headers.get("X-Request-ID", "") if app.config["PROXY_HOPS"] else ""
        g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if "request_id" in g:
            headers["X-Request-ID"] = g.request_id
        response.vary.add("HX-Request")
        return response
