"""The access log (one JSON line per request), request ids in responses, logs and the audit
trail, and no secret or one-time token in any log record."""

from __future__ import annotations

import json
import logging

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.audit.models import AuditLog
from portal.extensions import db
from tests.conftest import _test_config, csrf_token
from tests.helpers import form_data


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        if record not in self.records:  # seen on the access logger and again on the root
            self.records.append(record)

    def access(self) -> list[dict]:
        return [json.loads(r.getMessage()) for r in self.records if r.name == "portal.access"]

    def text(self) -> str:
        return "\n".join(f"{r.name} {r.getMessage()} {r.__dict__!r}" for r in self.records)


@pytest.fixture
def logs():
    """Every record of every logger (the access logger may not propagate outside tests)."""
    capture = Capture()
    loggers = [logging.getLogger(), logging.getLogger("portal.access")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(capture)
        logger.setLevel(logging.DEBUG)
    yield capture
    for logger, level in zip(loggers, levels, strict=True):
        logger.removeHandler(capture)
        logger.setLevel(level)


def test_one_json_line_per_request(login_as, logs):
    client = login_as("staff")
    logs.records.clear()
    response = client.get("/?page=2")
    assert response.status_code == 200
    [line] = logs.access()
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert line["user_id"] == client.account.id
    assert (line["method"], line["path"], line["query"]) == ("GET", "/", "page=2")
    assert (line["endpoint"], line["route"], line["status"]) == ("core.home", "/", 200)
    assert line["duration_ms"] >= 0 and line["sql_count"] > 0 and line["sql_ms"] >= 0
    assert line["time"].endswith("+00:00") and line["ip"] == "127.0.0.1"

    client.get("/no/such/page")
    missing = logs.access()[-1]
    assert (missing["status"], missing["endpoint"], missing["route"]) == (404, None, None)


def test_a_request_id_from_our_proxy_is_kept_and_reaches_the_audit_trail(
        app, login_as, user_factory, logs, monkeypatch):
    admin = login_as("admin")
    target = user_factory("staff")
    path = f"/admin/users/{target.id}"
    data = form_data(admin, path, role="supervisor", active="y")
    monkeypatch.setitem(app.config, "PROXY_HOPS", 1)
    logs.records.clear()
    response = admin.post(path, data=data, headers={"X-Request-ID": "lb-req-000042"})
    assert response.status_code == 303
    assert response.headers["X-Request-ID"] == "lb-req-000042"
    assert logs.access()[-1]["request_id"] == "lb-req-000042"
    with app.app_context():
        row = db.session.scalars(sa.select(AuditLog).where(
            AuditLog.object_type == "user_account", AuditLog.object_id == str(target.id))
            .order_by(AuditLog.id.desc())).first()
        assert row.request_id == "lb-req-000042"
    # Every record logged during the request carries it.
    assert all(r.request_id == "lb-req-000042" for r in logs.records)
    for invalid in ("short", "x" * 65, "has space here", "semi;colon-123", "链接链接链接链接"):
        kept = admin.get("/", headers={"X-Request-ID": invalid}).headers["X-Request-ID"]
        assert kept != invalid and len(kept) == 16


def test_error_logs_carry_the_request_id(database_url, logs):
    app = create_app(_test_config(database_url, PROPAGATE_EXCEPTIONS=False))

    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    @app.route("/once/<token>")
    def once(token):
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    errors = [r for r in logs.records if r.levelno >= logging.ERROR]
    assert errors
    assert {r.request_id for r in errors} == {response.headers["X-Request-ID"]}
    assert logs.access()[-1]["status"] == 500
    # An error on a one-time link: its error records name the path without the token.
    logs.records.clear()
    assert app.test_client().get("/once/tok-55aa66bb77?k=v").status_code == 500
    errors = [r for r in logs.records if r.levelno >= logging.ERROR]
    assert errors and any("/once/[redacted]" in r.getMessage() for r in errors)
    assert "tok-55aa66bb77" not in logs.text() and "k=v" not in logs.text()
    outside = logging.getLogRecordFactory()("x", logging.INFO, __file__, 1, "m", None, None)
    assert outside.request_id == "-"


def test_no_password_csrf_or_one_time_token_in_any_log_record(app, client, user_factory,
                                                              logs):
    account = user_factory("client")
    token = csrf_token(client)
    secrets_sent = ["Sup3r-secret-pa55word", token, "reset-tok-9f8e7d6c5b4a",
                    "survey-tok-0a1b2c3d4e", "feed-tok-5f6e7d8c9b", "qr-tok-1234abcd",
                    "verify-tok-77aa88bb", "follow-tok-3c4d5e6f", "query-tok-abcdef12",
                    "q-secret-value-991"]
    client.post("/auth/login", data={"email": account.email,
                                     "password": "Sup3r-secret-pa55word", "csrf_token": token})
    client.get("/auth/reset/reset-tok-9f8e7d6c5b4a?next=/x")
    client.post("/auth/reset/reset-tok-9f8e7d6c5b4a",
                data={"password": "Sup3r-secret-pa55word", "csrf_token": token})
    client.get("/surveys/r/survey-tok-0a1b2c3d4e?lang=en")
    client.post("/surveys/r/survey-tok-0a1b2c3d4e", data={"csrf_token": "forged"})  # logged
    client.get("/venues/feeds/feed-tok-5f6e7d8c9b.ics")
    client.get("/feedback/q/qr-tok-1234abcd")
    client.get("/feedback/t/follow-tok-3c4d5e6f")
    client.get("/auth/verify/verify-tok-77aa88bb")
    client.get("/?token=query-tok-abcdef12&csrf_token=q-secret-value-991&page=3")
    # The development server's own request line goes through the same redaction.
    logging.getLogger("werkzeug").info('%s - - [%s] "%s" %s %s', "127.0.0.1", "now",
                                       "\x1b[33mGET /surveys/r/survey-tok-0a1b2c3d4e?x=1 "
                                       "HTTP/1.1\x1b[0m",
                                       "200", "-")
    text = logs.text()
    assert "CSRF failure on POST /surveys/r/[redacted]" in text
    for secret in secrets_sent:
        assert secret not in text, secret
    paths = {line["path"] for line in logs.access()}
    assert {"/auth/reset/[redacted]", "/surveys/r/[redacted]", "/venues/feeds/[redacted].ics",
            "/feedback/q/[redacted]", "/feedback/t/[redacted]",
            "/auth/verify/[redacted]"} <= paths
    reset = next(line for line in logs.access() if line["path"] == "/auth/reset/[redacted]")
    assert reset["query"] == "[redacted]"  # a one-time link's query string is dropped
    home = logs.access()[-1]
    assert home["query"] == "token=[redacted]&csrf_token=[redacted]&page=3"
    assert "GET /surveys/r/[redacted]?[redacted] HTTP/1.1" in text
