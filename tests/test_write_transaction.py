"""Why SQLite writes start with BEGIN IMMEDIATE: a check-then-write must be atomic."""

import threading
import time

import pytest
import sqlalchemy as sa

from portal import create_app
from portal.database import write_transaction
from portal.extensions import db
from tests.conftest import _test_config

WORKERS = 8


def _race(app, body) -> tuple[int, list[Exception]]:
    errors: list[Exception] = []
    barrier = threading.Barrier(WORKERS)

    def worker():
        with app.app_context():
            barrier.wait()
            try:
                body()
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    with app.app_context():
        value = db.session.execute(sa.text("SELECT value FROM counter")).scalar()
        db.session.remove()
    return value, errors


@pytest.fixture
def sqlite_app(tmp_path):
    app = create_app(_test_config(f"sqlite:///{tmp_path / 'race.db'}"))
    with app.app_context(), db.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE counter (value INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO counter VALUES (0)")
    yield app
    with app.app_context():
        db.engine.dispose()


def _read_then_write():
    value = db.session.execute(sa.text("SELECT value FROM counter")).scalar()
    time.sleep(0.02)  # widen the window between the check and the write
    db.session.execute(sa.text("UPDATE counter SET value = :v"), {"v": value + 1})


@pytest.mark.live
def test_write_transaction_makes_check_then_write_atomic_on_sqlite(sqlite_app):
    def body():
        with write_transaction():
            _read_then_write()

    value, errors = _race(sqlite_app, body)
    assert errors == []
    assert value == WORKERS


@pytest.mark.live
def test_a_deferred_transaction_would_lose_updates_or_fail(sqlite_app):
    """The control: the same code in a plain (deferred) transaction goes wrong."""

    def body():
        _read_then_write()
        db.session.commit()

    value, errors = _race(sqlite_app, body)
    assert errors or value < WORKERS


def test_writes_outside_a_write_transaction_are_refused(app, ctx):
    from portal.auth.models import User
    from tests.conftest import make_user

    account = make_user(app, "staff")
    with ctx():
        user = db.session.get(User, account.id)
        user.name = "改在服务之外"
        with pytest.raises(RuntimeError, match="outside"):
            db.session.flush()
        with pytest.raises(RuntimeError, match="outside a write transaction"), \
                write_transaction():
            pass
        db.session.rollback()
    with app.app_context():
        assert db.session.get(User, account.id).name != "改在服务之外"


def test_a_caught_inner_failure_undoes_only_the_inner_part(app, ctx):
    from portal.auth.models import User
    from tests.conftest import make_user

    first, second = make_user(app, "staff"), make_user(app, "staff")
    with ctx(), write_transaction():
        db.session.get(User, first.id).name = "外层"
        try:
            with write_transaction():
                db.session.get(User, second.id).name = "内层"
                db.session.flush()
                raise ValueError("inner step failed")
        except ValueError:
            pass
    with app.app_context():
        assert db.session.get(User, first.id).name == "外层"
        assert db.session.get(User, second.id).name != "内层"
