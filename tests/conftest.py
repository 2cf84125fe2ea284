"""Fixtures: the app on SQLite or PostgreSQL, a database that rolls back, clients per role.

The suite runs on SQLite by default and on PostgreSQL when PORTAL_TEST_DATABASE_URL is set
(``make test`` does both).  The schema is built by the Alembic migrations, not create_all, so
every run also tests the migrations.

* Ordinary tests share one connection inside an outer transaction that is rolled back after
  the test; services still "commit" (they release savepoints).
* Tests marked ``live`` or ``browser`` talk to a real server thread with real commits and their
  own database (a fresh SQLite file, or the PostgreSQL test database truncated afterwards).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from werkzeug.serving import make_server

from portal import create_app
from portal.database import utcnow, write_transaction
from portal.extensions import cache, db, limiter
from portal.search.services import KEPT_COUNTS

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')
_sequence = count(1)
_UPLOADS = tempfile.mkdtemp(prefix="portal-test-uploads-")


def _test_config(database_url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "BASE_URL": "http://localhost",
        "RATELIMIT_STORAGE_URI": "memory://",
        # Cheap hashing keeps the suite fast; production uses the OWASP baseline.
        "ARGON2_MEMORY_KIB": 1024,
        "ARGON2_TIME_COST": 1,
        "MAIL_SERVER": None,
        "UPLOAD_FOLDER": extra.pop("UPLOAD_FOLDER", None) or _UPLOADS,
        **extra,
    }


def _reset_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if url:
        _reset_postgres(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal-test.db'}"


@pytest.fixture(scope="session")
def app(database_url):
    app = create_app(_test_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


@pytest.fixture(autouse=True)
def _isolation(request, app):
    """Roll back whatever an ordinary test wrote; live tests get their own database."""
    limiter.reset()
    with app.app_context():
        cache.clear()  # pages cached by an earlier test (user ids repeat after rollbacks)
    app.extensions.pop(KEPT_COUNTS, None)  # the search's gram counts of an earlier test's data
    if request.node.get_closest_marker("live") or request.node.get_closest_marker("browser"):
        yield
        return
    with app.app_context():
        connection = db.engine.connect()
    outer = connection.begin()
    factory = db.session.session_factory
    factory.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        factory.kw.pop("bind", None)
        factory.kw.pop("join_transaction_mode", None)
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@contextmanager
def request_context(app, user_id: int | None = None):
    """Run service code as in a request, optionally logged in as ``user_id``."""
    from flask_login import login_user

    from portal.auth.models import User

    with app.test_request_context():
        if user_id is not None:
            login_user(db.session.get(User, user_id))
        yield
        db.session.remove()


@pytest.fixture
def ctx(app):
    """``with ctx():`` or ``with ctx(user_id):`` — a request context for service tests."""
    return lambda user_id=None: request_context(app, user_id)


@dataclass
class Account:
    id: int
    email: str
    password: str
    role: str


def make_user(app, role="client", email=None, password=PASSWORD, verified=True, active=True,
              **fields) -> Account:
    from portal.auth.models import User
    from portal.auth.passwords import hash_password

    email = email or f"{role}{next(_sequence)}@example.com"
    with request_context(app):
        with write_transaction():
            user = User(
                email=email.lower(), name=fields.pop("name", f"测试{role}"), role=role,
                password_hash=hash_password(password),
                email_verified_at=utcnow() if verified else None, active=active, **fields,
            )
            db.session.add(user)
        return Account(user.id, user.email, password, role)


@pytest.fixture
def user_factory(app):
    return lambda role="client", **kwargs: make_user(app, role, **kwargs)


def csrf_token(client, path="/auth/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = _CSRF.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client, account: Account, password=None):
    token = csrf_token(client)
    return client.post(
        "/auth/login",
        data={"email": account.email, "password": password or account.password,
              "csrf_token": token},
    )


@pytest.fixture
def login_as(app, user_factory):
    """A test client logged in with a new account of ``role``; the account is ``client.account``."""

    def make(role: str, **kwargs):
        account = user_factory(role, **kwargs)
        test_client = app.test_client()
        response = login(test_client, account)
        assert response.status_code == 303, response.get_data(as_text=True)
        test_client.account = account
        return test_client

    return make


@pytest.fixture
def count_queries(app):
    """``with count_queries() as queries:`` counts SQL statements sent in the block."""

    @contextmanager
    def counter():
        statements: list[str] = []

        def before(conn, cursor, statement, *args):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", before)
        try:
            yield statements
        finally:
            sa.event.remove(engine, "before_cursor_execute", before)

    return counter


# --- live server ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory, database_url):
    """A migrated SQLite file that each live test copies (faster than migrating again)."""
    if database_url.startswith("postgresql"):
        return None
    path = tmp_path_factory.mktemp("live") / "template.db"
    template_app = create_app(_test_config(f"sqlite:///{path}"))
    with template_app.app_context():
        upgrade()
        db.engine.dispose()
    return path


class LiveServer:
    def __init__(self, app):
        self.app = app
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


@pytest.fixture
def live_app(database_url, _sqlite_template, tmp_path):
    """An app with real commits on its own database, for live and browser tests."""
    if _sqlite_template is not None:
        path = tmp_path / "live.db"
        shutil.copy(_sqlite_template, path)
        url = f"sqlite:///{path}"
    else:
        url = database_url
    live = create_app(_test_config(url, BASE_URL="http://127.0.0.1"))
    yield live
    release_live_database(live, url)


def release_live_database(app, url: str) -> None:
    """After a live app: empty the shared PostgreSQL test database (a SQLite copy is simply
    left behind) and close the app's connections."""
    with app.app_context():
        if url.startswith("postgresql"):
            tables = ", ".join(t.name for t in db.metadata.sorted_tables)
            with db.engine.begin() as conn:
                conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(live_app):
    server = LiveServer(live_app).start()
    live_app.config["BASE_URL"] = server.url
    yield server
    server.stop()
