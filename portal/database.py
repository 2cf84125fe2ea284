"""Database plumbing shared by every module: engine settings, transactions, column types.

SQLite (the embedded default) needs three things PostgreSQL gives for free:

* ``journal_mode=WAL`` so readers never block the single writer, ``foreign_keys=ON`` because
  SQLite ignores foreign keys otherwise, and a ``busy_timeout`` so a writer waits for the lock
  instead of failing at once.
* Write transactions that start with ``BEGIN IMMEDIATE``.  A plain (deferred) ``BEGIN`` takes
  the write lock only at the first write; two requests can then both read "slot is free", and
  the second one's write fails with ``SQLITE_BUSY`` (its snapshot is stale) or, with a
  check-then-write done in application code, both succeed.  ``BEGIN IMMEDIATE`` takes the
  write lock up front, so the check and the write of :func:`write_transaction` are atomic and a
  concurrent writer simply waits for ``busy_timeout``.  Read-only work keeps deferred
  transactions so pages never queue behind each other.

To control ``BEGIN`` ourselves the pysqlite driver's own transaction handling is switched off
(``isolation_level = None``), as the SQLAlchemy documentation recommends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.types import TypeDecorator

from .extensions import PortalSession, db  # noqa: F401  (PortalSession re-exported)

SQLITE_BUSY_TIMEOUT_MS = 10_000
SESSION_PLAN_CACHE_MODE = "force_custom_plan"  # PostgreSQL: see _on_connect
_begin_immediate: ContextVar[bool] = ContextVar("portal_begin_immediate", default=False)


def utcnow() -> datetime:
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _on_connect(dbapi_connection, connection_record) -> None:
    if type(dbapi_connection).__module__.split(".")[0] == "psycopg":
        # No JIT: the reports' plans are cheap to run but were costed high enough to be
        # compiled, which took seconds (2.2 s of a 4.9 s half-year venue report).
        # Plans chosen for each statement's arguments, as before statements stayed prepared
        # between requests (init_read_transactions): left to choose, PostgreSQL switched a
        # client's search to a generic plan 30 times slower.  generic_plans() opts in where
        # one plan fits every argument.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
            cursor.execute(f"SET plan_cache_mode = {SESSION_PLAN_CACHE_MODE}")
        dbapi_connection.commit()
        return
    if type(dbapi_connection).__module__.split(".")[0] != "sqlite3":
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _begin_immediate.get() else "BEGIN")


@contextmanager
def write_transaction() -> Iterator[sa.orm.Session]:
    """Run a service's check-then-write as one atomic write transaction, then commit.

    Services are the only code that writes, and they do it through this: a flush outside it
    is refused (see :func:`_writes_only_in_write_transactions`).  A nested use is a savepoint,
    so an inner failure that the outer code catches undoes only the inner part.  Any exception
    rolls back, so nothing is half-saved.
    """
    session = db.session()
    if session.info.get("portal_write"):
        with session.begin_nested():
            yield session
        return
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        raise RuntimeError("changes were made outside a write transaction; make them inside it")
    if session.in_transaction():
        # End the read snapshot: SQLite must start the write transaction afresh (IMMEDIATE).
        session.rollback()
    token = _begin_immediate.set(True)
    try:
        session.connection()
    finally:
        _begin_immediate.reset(token)
    session.info["portal_write"] = True
    try:
        yield session
        session.flush()
        session.info.pop("portal_write", None)
        session.commit()
    except BaseException:
        session.info.pop("portal_write", None)
        session.rollback()
        raise


@event.listens_for(PortalSession, "before_flush")
def _writes_only_in_write_transactions(session, flush_context, instances) -> None:
    if not session.info.get("portal_write"):
        raise RuntimeError(
            "the session was about to write outside portal.database.write_transaction(); "
            "services make their changes inside it"
        )


class UTCDateTime(TypeDecorator):
    """An aware datetime stored in UTC (``timestamptz`` on PostgreSQL, naive UTC on SQLite)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


@contextmanager
def generic_plans() -> Iterator[None]:
    """Within the block, PostgreSQL runs prepared statements with their generic plan.

    For a statement whose plan does not depend on its arguments but whose planning is dear
    (the global search's union of ten branches: 4 ms to plan, under 1 ms to run); every
    other statement is planned for its arguments (``SESSION_PLAN_CACHE_MODE``).
    Transaction-local, and put back after the block; nothing on SQLite.
    """
    connection = db.session.connection()
    if connection.dialect.name != "postgresql":
        yield
        return
    # The driver's own statement, not a compiled one through the session: 136 µs a switch
    # instead of 236 (measured), and the engine's events still see it (the request log and
    # the tests' statement counts).
    connection.exec_driver_sql(_PLAN_CACHE_MODE, {"mode": "force_generic_plan"})

    def put_back() -> None:
        # The session's connection now: a block that committed began another transaction.
        db.session.connection().exec_driver_sql(_PLAN_CACHE_MODE,
                                                {"mode": SESSION_PLAN_CACHE_MODE})

    try:
        yield
    except Exception:
        # A failed statement aborted the transaction: putting the mode back would fail too
        # and hide the error, and the rollback to come discards the setting anyway.
        with suppress(sa.exc.SQLAlchemyError):
            put_back()
        raise
    put_back()


_PLAN_CACHE_MODE = "SELECT set_config('plan_cache_mode', %(mode)s, true)"


# What a module keeps in a session between its flush and its commit (the page cache's changed
# scopes, the audit trail's pending rows), each recognised by a predicate the module registers:
# a session holding any is not "only read", and a request ending with it rolls back.
_unsaved_bookkeeping: list[Callable[[sa.orm.Session], bool]] = []


def unsaved_bookkeeping(predicate: Callable[[sa.orm.Session], bool]) -> Callable:
    _unsaved_bookkeeping.append(predicate)
    return predicate


def init_read_transactions(app) -> None:
    """End a request's read-only transaction with COMMIT rather than ROLLBACK (PostgreSQL).

    psycopg prepares a statement on the server after it has run five times on a connection,
    and PostgreSQL then reuses its plan; but a ROLLBACK makes psycopg deallocate every
    prepared statement of the connection, and every request ended in one (the session's
    close).  So each request planned its statements afresh: 4 ms of the global search's 5 ms
    of SQL was planning its ten-branch union.  For a transaction that only read, COMMIT and
    ROLLBACK are the same to the database; a session holding anything unsaved (new, changed
    or deleted objects, or the bookkeeping a module registered with :func:`unsaved_bookkeeping`)
    or a request that failed still rolls back, as before.  Registered after Flask-SQLAlchemy,
    so it runs before the session's removal.
    """

    @app.teardown_appcontext
    def _commit_what_was_only_read(error) -> None:
        if error is not None or not db.session.registry.has():
            return
        session = db.session()
        if (not session.in_transaction() or session.new or session.dirty or session.deleted
                or any(holds(session) for holds in _unsaved_bookkeeping)):
            return
        if session.get_bind().dialect.name != "postgresql":
            return  # SQLite keeps no prepared statements between requests
        # Loaded objects stay as they were read (as a close leaves them): nothing is
        # expired by a commit that wrote nothing.
        expire_on_commit, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        except sa.exc.SQLAlchemyError:
            session.rollback()
        finally:
            session.expire_on_commit = expire_on_commit


def is_unique_violation(error: sa.exc.IntegrityError) -> bool:
    """True when an IntegrityError is a unique-constraint violation, on either engine."""
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate == "23505"
    return "UNIQUE constraint failed" in str(orig)


def render_migration_item(type_, obj, autogen_context):
    """Autogenerate writes our column types as plain SQLAlchemy ones (migrations stay frozen)."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


# Database objects that the models cannot declare, each recognised by a predicate
# ``(name, type_) -> bool`` that the module owning them registers (none since migration 0020
# replaced the search index's FTS5 table and pg_trgm indexes by plain tables).
_raw_objects: list[Callable[[str | None, str], bool]] = []


def raw_objects(predicate: Callable[[str | None, str], bool]) -> Callable:
    _raw_objects.append(predicate)
    return predicate


def include_migration_name(name, type_, parent_names) -> bool:
    """Autogenerate and the model comparison skip what the models cannot declare (the
    registered :func:`raw_objects`)."""
    return not any(is_raw(name, type_) for is_raw in _raw_objects)


def migration_revisions(connection) -> tuple[set[str], set[str]]:
    """(the Alembic revisions the database is at, the head revisions of this code's
    migrations); the script heads are read once per app."""
    from alembic.script import ScriptDirectory
    from flask import current_app

    # Read directly (alembic's MigrationContext would log two lines at every readiness probe).
    current = (set(connection.scalars(sa.text("SELECT version_num FROM alembic_version")))
               if sa.inspect(connection).has_table("alembic_version") else set())
    heads = current_app.extensions.get("portal_migration_heads")
    if heads is None:
        directory = current_app.extensions["migrate"].directory
        heads = current_app.extensions["portal_migration_heads"] = frozenset(
            ScriptDirectory(directory).get_heads())
    return current, set(heads)
