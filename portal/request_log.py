"""Request ids and the access log: one JSON line per request on the ``portal.access`` logger.

* **Request id.**  Every request gets one: the ``X-Request-ID`` our own proxy sent (only when
  ``PROXY_HOPS`` says there is one, and only 8–64 characters of ``[A-Za-z0-9._-]``), else a
  new random one.  It is returned in the ``X-Request-ID`` header, written into the audit rows of
  the request (:mod:`portal.audit.services` reads ``g.request_id``) and put on every log record
  emitted during the request (``record.request_id``, ``-`` outside requests) by a log-record
  factory, so error logs and the access line of one request can be matched.
* **Access line.**  ``{"time", "request_id", "user_id", "method", "path", "query", "endpoint",
  "route", "status", "duration_ms", "sql_count", "sql_ms", "ip"}``, written after the response is
  made (the last ``after_request`` hook).  ``sql_*`` count the statements the request sent and
  their total time.
* **No secrets.**  Request bodies are never logged (passwords, CSRF tokens).  The token of a
  one-time link (any route argument named like ``token``: survey links, password reset, email
  verification, QR report forms, feedback follow links, calendar feeds) is replaced by
  ``[redacted]`` in the path, the query string of such a link is dropped, and elsewhere the
  values of query parameters named like a secret are redacted.  Any other record logged during
  such a request (Flask's "Exception on <path>", a CSRF warning) has the token replaced too,
  and the development server's own request lines (the ``werkzeug`` logger) go through the
  same redaction.

Outside tests the access lines go to stdout, one JSON document per line, with nothing before
it (``PORTAL_ACCESS_LOG=stderr`` or ``off``); everything else goes to stderr with the request
id in brackets (see ``create_app``).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlencode

from flask import Flask, current_app, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

access_log = logging.getLogger("portal.access")

REDACTED = "[redacted]"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_SECRET_ARGUMENT = re.compile(r"token", re.IGNORECASE)
_SECRET_PARAMETER = re.compile(r"token|password|passwd|secret|csrf|key|code|sig|salt",
                               re.IGNORECASE)
# (Not anchored at a word boundary: the development server colours the line, "\x1b[33mGET …".)
_REQUEST_LINE = re.compile(r"([A-Z]+ )(/\S*)( HTTP/)")
# Paths of one-time links, as regular expressions with the secret parts as groups; filled
# from the URL maps of the apps made in this process (they are all the same routes).
_secret_routes: dict[str, re.Pattern] = {}


# --- request ids on every log record --------------------------------------------------------


def install_record_factory() -> None:
    """Give every log record a ``request_id`` (idempotent; create_app runs it before it sets
    up the log format that prints it)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "portal_request_id", False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        if not has_request_context():
            record.request_id = "-"
            return record
        record.request_id = g.get("request_id", "-")
        secrets_of_request = g.get("log_secrets")
        if secrets_of_request:  # e.g. Flask's "Exception on /surveys/r/<the token> [POST]"
            message = record.getMessage()
            if any(secret in message for secret in secrets_of_request):
                for secret in secrets_of_request:
                    message = message.replace(secret, REDACTED)
                record.msg, record.args = message, None
        return record

    factory.portal_request_id = True
    logging.setLogRecordFactory(factory)


# --- SQL statements of the request ----------------------------------------------------------


@event.listens_for(Engine, "before_cursor_execute")
def _sql_started(conn, cursor, statement, parameters, context, executemany) -> None:
    if context is not None:
        context.portal_started = time.perf_counter()


@event.listens_for(Engine, "after_cursor_execute")
def _sql_finished(conn, cursor, statement, parameters, context, executemany) -> None:
    if context is None or not has_request_context():
        return
    started = getattr(context, "portal_started", None)
    g.sql_count = g.get("sql_count", 0) + 1
    if started is not None:
        g.sql_seconds = g.get("sql_seconds", 0.0) + time.perf_counter() - started


# --- redaction ------------------------------------------------------------------------------


def _remember_secret_routes(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if rule.rule in _secret_routes or not any(_SECRET_ARGUMENT.search(name)
                                                   for name in rule.arguments):
            continue
        pattern = []
        for part in re.split(r"(<[^>]+>)", rule.rule):
            if not part.startswith("<"):
                pattern.append(re.escape(part))
                continue
            converter, _, name = part[1:-1].rpartition(":")
            any_text = ".+" if converter == "path" else "[^/]+"
            pattern.append(f"({any_text})" if _SECRET_ARGUMENT.search(name)
                           else f"(?:{any_text})")
        _secret_routes[rule.rule] = re.compile("^" + "".join(pattern) + "$")


def redact(path: str, query: str = "") -> tuple[str, str]:
    """``path`` and ``query`` fit for a log: one-time tokens and secret values replaced."""
    for pattern in _secret_routes.values():
        match = pattern.match(path)
        if match:
            for index in range(len(match.groups()), 0, -1):
                path = path[:match.start(index)] + REDACTED + path[match.end(index):]
            return path, (REDACTED if query else "")
    if not query:
        return path, ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return path, urlencode([(key, REDACTED if _SECRET_PARAMETER.search(key) else value)
                            for key, value in pairs], safe="[]")


def _redact_request_line(text: str) -> str:
    def replace(match):
        path, _, query = match.group(2).partition("?")
        path, query = redact(path, query)
        return match.group(1) + path + (f"?{query}" if query else "") + match.group(3)

    return _REQUEST_LINE.sub(replace, text)


class RedactRequestLines(logging.Filter):
    """On the ``werkzeug`` logger: the development server's request lines, tokens redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_request_line(arg) if isinstance(arg, str) else arg
                                for arg in record.args)
        if isinstance(record.msg, str):
            record.msg = _redact_request_line(record.msg)
        return True


# --- the hooks ------------------------------------------------------------------------------


def _begin() -> None:
    g.request_started = time.perf_counter()
    # A one-time link's token (and its query string) never reaches a log record.
    tokens = [str(value) for name, value in (request.view_args or {}).items()
              if _SECRET_ARGUMENT.search(name) and str(value)]
    if tokens and request.query_string:
        tokens.append(request.query_string.decode("latin-1"))
    g.log_secrets = tokens
    # A request id set by our own proxy is kept (to follow a request across logs); from the
    # open internet it is not trusted.
    trusted = current_app.config["PROXY_HOPS"]
    incoming = request.headers.get("X-Request-ID", "") if trusted else ""
    g.request_id = incoming if _REQUEST_ID.match(incoming) else secrets.token_hex(8)


def _finish(response):
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    started = g.get("request_started")
    user = g.get("_login_user")  # only if the request loaded it: logging adds no query
    path, query = redact(request.path, request.query_string.decode("latin-1"))
    line = {
        "time": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "request_id": g.get("request_id"),
        "user_id": user.id if getattr(user, "is_authenticated", False) else None,
        "method": request.method,
        "path": path,
        "query": query or None,
        "endpoint": request.endpoint,
        "route": request.url_rule.rule if request.url_rule is not None else None,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
        "sql_count": g.get("sql_count", 0),
        "sql_ms": round(g.get("sql_seconds", 0.0) * 1000, 1),
        "ip": request.remote_addr,
    }
    access_log.info(json.dumps(line, ensure_ascii=False))
    return response


def _configure_handlers(app: Flask) -> None:
    """Outside tests: access lines alone on stdout (or stderr, or nowhere)."""
    target = (app.config.get("ACCESS_LOG") or "stdout").lower()
    access_log.setLevel(logging.INFO)
    if target == "off":
        access_log.disabled = True
        return
    if any(getattr(handler, "portal_access", False) for handler in access_log.handlers):
        return
    handler = logging.StreamHandler(sys.stderr if target == "stderr" else sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.portal_access = True
    access_log.addHandler(handler)
    access_log.propagate = False


def init_request_log(app: Flask) -> None:
    """Wire the request id and the access line into ``app`` (after its blueprints)."""
    install_record_factory()
    _remember_secret_routes(app)
    werkzeug_log = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactRequestLines) for f in werkzeug_log.filters):
        werkzeug_log.addFilter(RedactRequestLines())
    # First before every other hook (a rate limit or the page cache may answer early), last
    # after them all (the status and the SQL of every hook are counted).
    app.before_request_funcs.setdefault(None, []).insert(0, _begin)
    app.after_request_funcs.setdefault(None, []).insert(0, _finish)
    if not app.config.get("TESTING"):
        _configure_handlers(app)
