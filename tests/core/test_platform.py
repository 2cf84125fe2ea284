"""Platform pieces that modules build on: htmx helpers, rate limits in Redis, error pages."""

import json
import uuid

import pytest
import redis
from flask import Flask
from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db, limiter
from portal.htmx import redirect_to, trigger
from tests.conftest import _test_config, login, make_user


def test_trigger_merges_events_into_one_header():
    app = Flask(__name__)
    with app.test_request_context():
        response = app.make_response("ok")
        trigger(response, "bookingSaved", {"id": 3})
        trigger(response, "quoteChanged", {"total": "¥1,200.00"})
        events = json.loads(response.headers["HX-Trigger"])
        assert events == {"bookingSaved": {"id": 3}, "quoteChanged": {"total": "¥1,200.00"}}
        assert response.headers["HX-Trigger"].isascii()  # headers must stay latin-1


def test_redirect_to_uses_hx_redirect_for_htmx_only():
    app = Flask(__name__)
    with app.test_request_context(headers={"HX-Request": "true"}):
        response = redirect_to("/done")
        assert response.status_code == 204 and response.headers["HX-Redirect"] == "/done"
    with app.test_request_context():
        response = redirect_to("/done")
        assert response.status_code == 303 and response.headers["Location"] == "/done"


def test_every_response_varies_on_hx_request(client):
    for path in ("/auth/register/done", "/healthz", "/no/such/page"):
        assert "HX-Request" in client.get(path).vary


@pytest.mark.live
def test_login_limit_is_kept_in_redis_when_configured(tmp_path):
    """With PORTAL_REDIS_URL, bad attempts are counted in Redis, shared by every app server."""
    prefix = f"portal-test-{uuid.uuid4().hex}"
    # Flask-Limiter keeps one storage per Limiter object; put the test app's back afterwards.
    saved = limiter._storage, limiter._limiter
    config = _test_config(f"sqlite:///{tmp_path / 'redis.db'}",
                          RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/15",
                          RATELIMIT_KEY_PREFIX=prefix)
    server = create_app(config)
    store = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    try:
        with server.app_context():
            upgrade()
        account = make_user(server, "client")
        for _ in range(10):
            assert login(server.test_client(), account, "wrong password!").status_code == 422
        assert store.keys(f"*{prefix}*"), "the counter is not in Redis"
        assert login(server.test_client(), account, "wrong password!").status_code == 429
    finally:
        for key in store.keys(f"*{prefix}*"):
            store.delete(key)
        store.close()
        with server.app_context():
            db.engine.dispose()
        limiter._storage, limiter._limiter = saved


@pytest.mark.live
def test_unexpected_errors_get_the_500_page(tmp_path, caplog):
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'e.db'}", TESTING=False))

    @app.route("/boom")
    def boom():
        raise RuntimeError("kaboom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "出现错误" in html and "site-header" in html and "kaboom" not in html
    htmx = app.test_client().get("/boom", headers={"HX-Request": "true"})
    assert htmx.status_code == 500 and "<html" not in htmx.get_data(as_text=True)
    assert any("unhandled error" in r.message for r in caplog.records)


@pytest.mark.live
def test_proxy_hops_trust_forwarded_address(tmp_path):
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'p.db'}", PROXY_HOPS=1))
    seen = {}

    @app.route("/whoami")
    def whoami():
        from flask import request

        seen["ip"], seen["secure"] = request.remote_addr, request.is_secure
        return "ok"

    response = app.test_client().get("/whoami", headers={
        "X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
        "X-Request-ID": "lb-0123456789"})
    assert seen == {"ip": "203.0.113.7", "secure": True}
    assert response.headers["X-Request-ID"] == "lb-0123456789"  # our proxy's id is kept
    assert "Strict-Transport-Security" in response.headers
