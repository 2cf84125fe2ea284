"""Backup and restore: ``flask --app portal backup DIR`` and ``flask --app portal restore DIR``.

A backup directory holds three things:

* the database: ``database.dump`` (``pg_dump`` custom format, one consistent snapshot: pg_dump
  reads everything in one repeatable-read transaction) on PostgreSQL, ``database.sqlite3``
  (SQLite's online backup API, which copies a consistent state while the app keeps writing) on
  SQLite;
* ``uploads/``: the uploaded files (``UPLOAD_FOLDER``), copied before the database snapshot
  and again after it (the files new since): a file is written before the transaction that
  names it commits and stored files are never changed, so every file the snapshot names is
  there, also one deleted while the backup runs (a file uploaded or deleted meanwhile may come
  along unused; the app never lists files, it follows its rows);
* ``manifest.json``: the SHA-256 and size of every file above, the Alembic revision of the
  snapshot, the time, the engine and the portal's version.

``restore`` checks the manifest and every checksum first, refuses a database that holds data or
an uploads folder that holds files unless ``--force``, restores the database (``pg_restore
--clean --if-exists --no-owner`` in one transaction; the SQLite backup API the other way) and the
uploads, then migrates forward to this code's head.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.engine import make_url

from .database import migration_revisions
from .extensions import db
from .uploads import upload_root

MANIFEST = "manifest.json"
FORMAT = 1
UPLOADS = "uploads"
DATABASE_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
# Tables the migrations fill themselves: rows there do not make a database "hold data".
_BOOKKEEPING_TABLES = {"alembic_version", "data_version"}


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


# --- shared -----------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _engine_name() -> str:
    name = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name()
    if name not in DATABASE_FILES:
        raise BackupError(f"backups support PostgreSQL and SQLite, not {name}")
    return name


def _portal_version() -> str:
    try:
        return metadata.version("bureau-portal")
    except metadata.PackageNotFoundError:
        return "unknown"


def _script_directory() -> ScriptDirectory:
    return ScriptDirectory(current_app.extensions["migrate"].directory)


def current_revision() -> str | None:
    """The Alembic revision the configured database is at (None: never migrated)."""
    with db.engine.connect() as connection:
        heads, _script_heads = migration_revisions(connection)
    return ",".join(sorted(heads)) or None


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} was not found on PATH: install the PostgreSQL client tools "
                          "(Debian package postgresql-client, the server's major version)")
    return path


def _libpq_target() -> tuple[str, dict]:
    """The configured database as a libpq URI and an environment carrying its password (a
    password on the command line would show in the process list)."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    uri = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return uri, env


def _run(command: list[str], env: dict) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed ({result.returncode}): "
                          f"{result.stderr.strip()[-2000:]}")


def _sqlite_path() -> Path:
    database = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"]).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _files_under(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file())


# --- backup -----------------------------------------------------------------------------------


def backup(target: Path) -> dict:
    """Write a backup into ``target`` (a new or empty directory); returns the manifest."""
    target = Path(target)
    if target.exists() and any(target.iterdir()):
        raise BackupError(f"{target} is not empty: each backup goes into a directory of its own")
    engine = _engine_name()
    revision = current_revision()
    if revision is None:
        raise BackupError("the database has never been migrated: nothing to back up")
    tool = _tool("pg_dump") if engine == "postgresql" else None
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        started = datetime.now(UTC)
        database_file = target / DATABASE_FILES[engine]
        uploads = upload_root()
        _copy_new_files(uploads, target / UPLOADS)
        if tool is not None:
            uri, env = _libpq_target()
            _run([tool, "--format=custom", "--file", str(database_file), "--dbname", uri], env)
        else:
            _sqlite_backup(_sqlite_path(), database_file)
        _copy_new_files(uploads, target / UPLOADS)  # what was stored while the snapshot ran
    except BaseException:
        # No half backup is left behind (a directory given empty is left empty).
        if created:
            shutil.rmtree(target, ignore_errors=True)
        else:
            _empty(target)
        raise
    files = {
        path.relative_to(target).as_posix(): {"sha256": sha256_of(path),
                                              "size": path.stat().st_size}
        for path in [database_file, *_files_under(target / UPLOADS)]
    }
    manifest = {
        "format": FORMAT,
        "engine": engine,
        "alembic_revision": revision,
        "created_at": started.isoformat(timespec="seconds"),
        "portal_version": _portal_version(),
        "database": database_file.name,
        "files": files,
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
    return manifest


def _copy_new_files(source: Path, destination: Path) -> None:
    """Copy the files of ``source`` that ``destination`` lacks (a file deleted meanwhile is
    skipped: the app may remove a photo while we copy)."""
    destination.mkdir(parents=True, exist_ok=True)
    if not source.is_dir():
        return
    for path in _files_under(source):
        copy = destination / path.relative_to(source)
        if copy.exists():
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copy2(path, copy)
        except FileNotFoundError:
            continue


def _read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def _sqlite_backup(source: Path, destination: Path) -> None:
    src = _read_only(source)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)  # all pages in one step: one consistent state
        # A self-contained file (no -wal beside it), so its checksum stays what it is.
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


# --- restore ----------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict:
    """The manifest of the backup in ``source``, every file checked against it."""
    source = Path(source)
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(f"{source / MANIFEST} is missing: not a portal backup") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise BackupError(f"{source / MANIFEST} is not valid JSON: {error}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source / MANIFEST}: unknown backup format")
    files = manifest.get("files")
    database = manifest.get("database")
    if (not isinstance(files, dict) or manifest.get("engine") not in DATABASE_FILES
            or database != DATABASE_FILES[manifest["engine"]] or database not in files):
        raise BackupError(f"{source / MANIFEST} is incomplete")
    listed = set(files)
    present = {path.relative_to(source).as_posix() for path in _files_under(source)} - {MANIFEST}
    if missing := sorted(listed - present):
        raise BackupError(f"files named in the manifest are missing: {', '.join(missing[:5])}")
    if extra := sorted(present - listed):
        raise BackupError(f"files not in the manifest: {', '.join(extra[:5])}")
    for name, entry in sorted(files.items()):
        path = source / name
        if ".." in Path(name).parts or not (name == database or name.startswith(UPLOADS + "/")):
            raise BackupError(f"unexpected path in the manifest: {name}")
        if sha256_of(path) != entry.get("sha256"):
            raise BackupError(f"checksum mismatch: {name} is not the file that was backed up")
    return manifest


def database_holds_data() -> bool:
    """Whether any table of the portal (bookkeeping tables aside) has a row."""
    with db.engine.connect() as connection:
        existing = set(sa.inspect(connection).get_table_names())
        for table in db.metadata.sorted_tables:
            if (table.name in existing and table.name not in _BOOKKEEPING_TABLES
                    and connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)
                                           ).first() is not None):
                return True
    return False


def restore(source: Path, force: bool = False) -> dict:
    """Restore the backup in ``source`` into the configured database and uploads folder."""
    source = Path(source)
    manifest = read_manifest(source)
    engine = _engine_name()
    if manifest["engine"] != engine:
        raise BackupError(f"the backup is of a {manifest['engine']} database; the portal is "
                          f"configured for {engine}")
    script = _script_directory()
    for revision in manifest["alembic_revision"].split(","):
        try:
            known = script.get_revision(revision)
        except Exception:  # noqa: BLE001  (alembic raises several kinds for an unknown id)
            known = None
        if known is None:
            raise BackupError(f"the backup is at migration {revision}, unknown to this code: "
                              "restore it with the portal version that made it "
                              f"({manifest.get('portal_version')})")
    uploads = upload_root()
    if not force:
        if database_holds_data():
            raise BackupError("the database already holds data: restoring replaces it; "
                              "run again with --force to do so")
        if uploads.is_dir() and any(uploads.iterdir()):
            raise BackupError(f"the uploads folder {uploads} is not empty: restoring replaces "
                              "it; run again with --force to do so")
    # No connection of ours may hold a lock on what is about to be replaced.
    db.session.remove()
    db.engine.dispose()
    database_file = source / manifest["database"]
    if engine == "postgresql":
        uri, env = _libpq_target()
        _run([_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
              "--dbname", uri, str(database_file)], env)
    else:
        src = _read_only(database_file)
        dst = sqlite3.connect(_sqlite_path())
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
    db.engine.dispose()
    _replace_uploads(source / UPLOADS, uploads)
    from flask_migrate import upgrade

    upgrade()
    db.engine.dispose()
    return manifest


def _empty(folder: Path) -> None:
    """Remove what ``folder`` holds, keeping the folder itself (it may be a mount point)."""
    for child in folder.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def _replace_uploads(backup: Path, uploads: Path) -> None:
    """Make ``uploads`` hold exactly the backed-up files."""
    uploads.mkdir(parents=True, exist_ok=True)
    _empty(uploads)
    if backup.is_dir():
        shutil.copytree(backup, uploads, dirs_exist_ok=True)
