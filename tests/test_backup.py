"""``flask backup`` and ``flask restore``: a round trip of the demo data on this run's engine,
a backup taken while writes run, and the refusals (a tampered file, a target holding data).

Live tests: pg_dump and the SQLite backup API read committed data, so the source app has its
own database (a copy of the migrated SQLite template, or the PostgreSQL test database emptied
afterwards) and its own uploads folder; the restore goes into a fresh database
(``<test database>_restore`` on PostgreSQL, created and dropped here) and a fresh folder.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from portal import create_app
from portal.audit.services import acting_as
from portal.auth.models import User
from portal.database import write_transaction
from portal.extensions import db
from tests.conftest import _test_config, release_live_database

pytestmark = pytest.mark.live


@pytest.fixture
def source(database_url, _sqlite_template, tmp_path):
    """An app with real commits on its own database and its own uploads folder."""
    if _sqlite_template is not None:
        shutil.copy(_sqlite_template, tmp_path / "source.db")
        url = f"sqlite:///{tmp_path / 'source.db'}"
    else:
        url = database_url
    app = create_app(_test_config(url, UPLOAD_FOLDER=str(tmp_path / "uploads-source")))
    app.database_url = url
    yield app
    release_live_database(app, url)


@pytest.fixture
def fresh_app(database_url, tmp_path):
    """``fresh_app(name)``: an app on a new empty database (nothing migrated) and an empty
    uploads folder; PostgreSQL databases ``<test database>_<name>`` are dropped afterwards."""
    made = []
    admin = None
    if database_url.startswith("postgresql"):
        admin = sa.create_engine(make_url(database_url).set(database="postgres"),
                                 isolation_level="AUTOCOMMIT")

    def make(name: str):
        if admin is not None:
            database = f"{make_url(database_url).database}_{name}"
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                conn.exec_driver_sql(f'CREATE DATABASE "{database}"')
            url = make_url(database_url).set(database=database).render_as_string(
                hide_password=False)
        else:
            database, url = None, f"sqlite:///{tmp_path / f'{name}.db'}"
        app = create_app(_test_config(url, UPLOAD_FOLDER=str(tmp_path / f"uploads-{name}")))
        app.database_url = url
        made.append((app, database))
        return app

    yield make
    for app, database in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if database is not None:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    if admin is not None:
        admin.dispose()


@pytest.fixture
def fresh_target(fresh_app):
    return fresh_app("restore")


def row_counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return {name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))
                                       ).scalar_one() for name in names}
    finally:
        engine.dispose()


def checksums(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_round_trip_of_the_demo_data(source, fresh_target, tmp_path):
    loaded = invoke(source, "demo")
    assert loaded.exit_code == 0, loaded.output
    backup_dir = tmp_path / "backup"
    result = invoke(source, "backup", str(backup_dir))
    assert result.exit_code == 0, result.output

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    engine = "postgresql" if source.database_url.startswith("postgresql") else "sqlite"
    assert manifest["engine"] == engine
    with source.app_context():
        from portal.backup import current_revision

        assert manifest["alembic_revision"] == current_revision()
    assert manifest["created_at"] and manifest["portal_version"]
    uploads = checksums(Path(source.config["UPLOAD_FOLDER"]))
    assert uploads, "the demo data stores feedback photos"
    assert {f"uploads/{name}": digest for name, digest in uploads.items()}.items() <= {
        name: entry["sha256"] for name, entry in manifest["files"].items()}.items()

    # A tampered copy is refused before anything is touched.
    tampered = tmp_path / "tampered"
    shutil.copytree(backup_dir, tampered)
    photo = next(p for p in (tampered / "uploads").rglob("*") if p.is_file())
    photo.write_bytes(photo.read_bytes() + b"\0")
    refused = invoke(fresh_target, "restore", str(tampered))
    assert refused.exit_code != 0
    assert "checksum mismatch" in refused.output
    assert row_counts(fresh_target.database_url) == {}

    restored = invoke(fresh_target, "restore", str(backup_dir))
    assert restored.exit_code == 0, restored.output
    expected = row_counts(source.database_url)
    assert expected["user_account"] > 0 and expected["audit_log"] > 0
    assert row_counts(fresh_target.database_url) == expected
    assert checksums(Path(fresh_target.config["UPLOAD_FOLDER"])) == uploads

    # The target now holds data: a second restore needs --force, and then gives the same.
    again = invoke(fresh_target, "restore", str(backup_dir))
    assert again.exit_code != 0
    assert "--force" in again.output and "already holds data" in again.output
    forced = invoke(fresh_target, "restore", "--force", str(backup_dir))
    assert forced.exit_code == 0, forced.output
    assert row_counts(fresh_target.database_url) == expected
    assert checksums(Path(fresh_target.config["UPLOAD_FOLDER"])) == uploads


def test_a_backup_taken_while_writes_run_is_a_state_that_existed(source, fresh_target,
                                                                  tmp_path):
    """A writer commits one account per transaction (its audit row in the same transaction)
    before, during and after the backup; the restored data is a prefix of those commits and
    every restored account has its audit row."""
    written = 0
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer():
        nonlocal written
        try:
            with source.test_request_context(), acting_as(None, "writer"):
                while not stop.is_set():
                    with write_transaction():
                        db.session.add(User(email=f"writer{written}@example.com",
                                            name="写入者", role="client"))
                    written += 1
                db.session.remove()
        except BaseException as error:  # noqa: BLE001  (reported by the test below)
            errors.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while written < 5 and thread.is_alive():
            stop.wait(0.01)
        result = invoke(source, "backup", str(tmp_path / "backup"))
        during = written
        while written < during + 5 and thread.is_alive():
            stop.wait(0.01)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors, errors
    assert result.exit_code == 0, result.output

    restored = invoke(fresh_target, "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    engine = sa.create_engine(fresh_target.database_url)
    try:
        with engine.connect() as conn:
            emails = set(conn.scalars(sa.text(
                "SELECT email FROM user_account WHERE email LIKE 'writer%'")))
            audited = conn.scalar(sa.text(
                "SELECT count(*) FROM audit_log WHERE actor_label = 'writer'"))
    finally:
        engine.dispose()
    kept = len(emails)
    assert 5 <= kept < written
    assert emails == {f"writer{n}@example.com" for n in range(kept)}  # a prefix, no gap
    assert audited == kept  # each account with the audit row of its own transaction


def test_restore_migrates_an_older_backup_forward(fresh_app, tmp_path):
    from flask_migrate import upgrade

    from portal.backup import current_revision

    old = fresh_app("old")
    with old.app_context():
        upgrade(revision="0023")
        db.engine.dispose()
    result = invoke(old, "backup", str(tmp_path / "backup"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "backup" / "manifest.json").read_text()
                      )["alembic_revision"] == "0023"
    target = fresh_app("restore")
    restored = invoke(target, "restore", str(tmp_path / "backup"))
    assert restored.exit_code == 0, restored.output
    with target.app_context():
        assert current_revision() == _head(target) != "0023"


def _head(app) -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(app.extensions["migrate"].directory).get_current_head()


def test_restore_refuses_a_backup_of_another_engine_and_a_missing_manifest(source, tmp_path):
    backup_dir = tmp_path / "backup"
    assert invoke(source, "backup", str(backup_dir)).exit_code == 0
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    other = "sqlite" if manifest["engine"] == "postgresql" else "postgresql"
    (backup_dir / "manifest.json").write_text(json.dumps({**manifest, "engine": other}))
    refused = invoke(source, "restore", "--force", str(backup_dir))
    assert refused.exit_code != 0
    assert "incomplete" in refused.output or "configured for" in refused.output
    (backup_dir / "manifest.json").unlink()
    missing = invoke(source, "restore", "--force", str(backup_dir))
    assert missing.exit_code != 0 and "not a portal backup" in missing.output
    again = invoke(source, "backup", str(backup_dir))
    assert again.exit_code != 0 and "not empty" in again.output


def test_a_failed_backup_leaves_no_half_backup(source, tmp_path, monkeypatch):
    from portal import backup

    def fail(*args):
        raise backup.BackupError("the disk is full")

    monkeypatch.setattr(backup, "_run", fail)
    monkeypatch.setattr(backup, "_sqlite_backup", fail)
    result = invoke(source, "backup", str(tmp_path / "new"))
    assert result.exit_code != 0 and "the disk is full" in result.output
    assert not (tmp_path / "new").exists()
    (tmp_path / "given").mkdir()
    assert invoke(source, "backup", str(tmp_path / "given")).exit_code != 0
    assert (tmp_path / "given").is_dir() and not any((tmp_path / "given").iterdir())


def test_a_missing_pg_dump_names_the_debian_package(monkeypatch):
    from portal import backup

    monkeypatch.setattr(backup.shutil, "which", lambda name: None)
    with pytest.raises(backup.BackupError, match="postgresql-client"):
        backup._tool("pg_dump")
