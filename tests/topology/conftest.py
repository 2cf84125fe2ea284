"""The topology fixture: nginx in front of two gunicorn instances, one database, one Redis.

Both engines: on the PostgreSQL pass (PORTAL_TEST_DATABASE_URL set) the instances share a
database of their own on that server (``<name>_topology``, created and dropped here); on the
SQLite pass they share one SQLite file (WAL, BEGIN IMMEDIATE and a busy timeout make two
processes on one file safe, as two gunicorn workers already are). Redis is the one on
127.0.0.1:6379, database 13 (``PORTAL_TEST_TOPOLOGY_REDIS_URL``), emptied before and after.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa
from flask_migrate import upgrade

from portal import create_app
from portal.extensions import db
from tests.conftest import _test_config
from tests.topology.stack import (
    Instance,
    Nginx,
    Visitor,
    app_environment,
    remove_tree,
)

REDIS_URL = os.environ.get("PORTAL_TEST_TOPOLOGY_REDIS_URL", "redis://127.0.0.1:6379/13")


@dataclass
class Topology:
    app: object  # an app on the same database, for the tests' setup and checks
    nginx: Nginx
    instances: list[Instance]
    redis: redis.Redis

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.nginx.https_port}"

    def visitor(self, **kwargs) -> Visitor:
        return Visitor(self.base, self.nginx.cert, **kwargs)

    @property
    def addresses(self) -> set[str]:
        return {instance.address for instance in self.instances}


def _postgres_database(url: str) -> tuple[str, sa.engine.Engine, str]:
    """A database of its own beside the test database: (its URL, the admin engine, its name)."""
    test_url = sa.engine.make_url(url)
    name = f"{test_url.database}_topology"
    admin = sa.create_engine(test_url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    return test_url.set(database=name).render_as_string(hide_password=False), admin, name


@pytest.fixture(scope="module")
def topology(request):
    folder = Path(tempfile.mkdtemp(prefix="portal-topology-"))
    request.addfinalizer(lambda: remove_tree(folder))
    test_url = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if test_url:
        url, admin, name = _postgres_database(test_url)

        def drop():
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.dispose()
        request.addfinalizer(drop)
    else:
        url = f"sqlite:///{folder / 'portal.db'}"
    store = redis.Redis.from_url(REDIS_URL)
    store.flushdb()
    request.addfinalizer(store.flushdb)
    request.addfinalizer(store.close)

    uploads = folder / "uploads"
    setup_app = create_app(_test_config(url, UPLOAD_FOLDER=str(uploads)))
    with setup_app.app_context():
        upgrade()
        db.engine.dispose()

    def release():
        with setup_app.app_context():
            db.session.remove()
            db.engine.dispose()
    request.addfinalizer(release)

    instances: list[Instance] = []
    ports = []
    for _ in range(2):
        instance = Instance(folder, {})
        instances.append(instance)
        ports.append(instance.port)
    nginx = Nginx(folder, (ports[0], ports[1]))
    env = app_environment(url, REDIS_URL, uploads, f"https://127.0.0.1:{nginx.https_port}")
    for instance in instances:
        instance.env = env
        request.addfinalizer(instance.stop)
        instance.start()
    for instance in instances:
        instance.wait()
    request.addfinalizer(nginx.stop)
    nginx.start()
    return Topology(setup_app, nginx, instances, store)


@pytest.fixture
def topo(topology):
    """The topology with no login failures counted yet (a test's logins may be refused)."""
    for key in topology.redis.scan_iter("LIMIT*"):  # Flask-Limiter's counters
        topology.redis.delete(key)
    return topology
