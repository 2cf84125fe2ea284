import pytest

from portal import create_app
from portal.config import ConfigurationError
from tests.conftest import csrf_token


def test_home_is_chinese_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    assert "机关事务服务门户" in html


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


@pytest.mark.live  # its own app, not the shared rolled-back connection
@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_health_checks_answer_503_when_the_database_is_unreachable(path):
    broken = create_app({
        "TESTING": True, "SECRET_KEY": "x" * 40,
        "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none",
    })
    response = broken.test_client().get(path)
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_readyz_when_ready(client, app, monkeypatch):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "migrations": "ok"}
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:6379/0")  # make test runs one
    assert client.get("/readyz").get_json()["redis"] == "ok"


def test_readyz_answers_503_when_migrations_are_behind(client, app):
    import sqlalchemy as sa

    from portal.extensions import db

    with app.app_context():  # inside the test's transaction, rolled back afterwards
        db.session.execute(sa.text("UPDATE alembic_version SET version_num = '0023'"))
        db.session.commit()
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["migrations"].startswith("at 0023, head is ")


def test_readyz_answers_503_naming_an_unreachable_redis(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "ok", "migrations": "ok",
                                   "redis": "unreachable"}


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("script-src 'self'", "object-src 'none'", "base-uri 'none'",
                      "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in response.headers
    assert "HX-Request" in response.headers["Vary"]
    assert len(response.headers["X-Request-ID"]) >= 8


def test_hsts_only_over_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_session_cookie_flags(client, user_factory):
    from tests.conftest import login

    response = login(client, user_factory("staff"))
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_no_inline_script_in_pages(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "<script>" not in html
    assert 'src="/static/vendor/htmx-2.0.11.min.js"' in html
    assert "onclick" not in html


def test_404_page_in_portal_style(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "site-header" in html and "404" in html


def test_htmx_error_is_a_message_not_a_blank_swap(client):
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert 'class="alert danger"' in html
    assert "<html" not in html


def test_csrf_is_enforced(client, user_factory):
    account = user_factory("client")
    response = client.post("/auth/login",
                           data={"email": account.email, "password": account.password})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)


def test_csrf_failure_during_htmx_gives_a_message(client):
    response = client.post("/auth/login", data={}, headers={"HX-Request": "true",
                                                              "X-CSRFToken": "forged"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "表单已过期" in html and "<html" not in html


def test_csrf_token_in_htmx_header_is_accepted(client, user_factory):
    account = user_factory("client")
    token = csrf_token(client)
    response = client.post(
        "/auth/login", data={"email": account.email, "password": account.password},
        headers={"HX-Request": "true", "X-CSRFToken": token},
    )
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/"


def test_oversized_request_is_refused(app, client):
    limit = app.config["MAX_CONTENT_LENGTH"]
    response = client.post("/auth/login", data={"email": "x" * (limit + 10)})
    assert response.status_code == 413
    assert "上传的内容超过" in response.get_data(as_text=True)


def test_partial_render_of_a_block_for_htmx(login_as):
    admin = login_as("admin")
    full = admin.get("/admin/users")
    partial = admin.get("/admin/users?q=nobody", headers={"HX-Request": "true"})
    assert "<html" in full.get_data(as_text=True)
    body = partial.get_data(as_text=True)
    assert "<html" not in body and 'id="results"' in body
    # boosted navigation gets the whole page
    boosted = admin.get("/admin/users", headers={"HX-Request": "true", "HX-Boosted": "true"})
    assert "<html" in boosted.get_data(as_text=True)


class TestProductionGuard:
    def _make(self, monkeypatch, **env):
        monkeypatch.setenv("PORTAL_ENV", "production")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})

    def test_refuses_without_secret_key(self, monkeypatch):
        monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
        with pytest.raises(ConfigurationError, match="SECRET_KEY"):
            self._make(monkeypatch)

    def test_refuses_a_placeholder_secret(self, monkeypatch):
        with pytest.raises(ConfigurationError):
            self._make(monkeypatch, PORTAL_SECRET_KEY="changeme")

    def test_refuses_debug(self, monkeypatch):
        with pytest.raises(ConfigurationError, match="debug"):
            self._make(monkeypatch, PORTAL_SECRET_KEY="s" * 48, PORTAL_DEBUG="1")

    def test_refuses_demo_data(self, monkeypatch):
        app = self._make(monkeypatch, PORTAL_SECRET_KEY="s" * 48)
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code != 0
        assert "refused in production" in result.output

    def test_production_cookies_are_secure(self, monkeypatch):
        app = self._make(monkeypatch, PORTAL_SECRET_KEY="s" * 48)
        assert app.config["SESSION_COOKIE_SECURE"] is True
        assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_development_secret_is_generated_once(tmp_path, monkeypatch):
    from portal.config import load_config

    monkeypatch.delenv("PORTAL_SECRET_KEY", raising=False)
    monkeypatch.delenv("PORTAL_ENV", raising=False)
    first = load_config(str(tmp_path))["SECRET_KEY"]
    second = load_config(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_default_database_is_sqlite_in_instance(tmp_path, monkeypatch):
    from portal.config import load_config

    monkeypatch.delenv("PORTAL_DATABASE_URL", raising=False)
    config = load_config(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.db'}"
