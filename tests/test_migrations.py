"""The models and the Alembic migrations describe the same schema, on this run's engine."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.database import include_migration_name
from portal.extensions import db

OPTS = {"compare_type": True, "include_name": include_migration_name}


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=OPTS)
        differences = compare_metadata(context, db.metadata)
    assert differences == [], differences


def test_migrations_run_down_and_up_again(app, tmp_path):
    """A fresh SQLite file can be upgraded, downgraded to nothing and upgraded again."""
    from flask_migrate import downgrade, upgrade

    from portal import create_app
    from tests.conftest import _test_config

    scratch = create_app(_test_config(f"sqlite:///{tmp_path / 'scratch.db'}"))
    with scratch.app_context():
        upgrade()
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts=OPTS)
            assert compare_metadata(context, db.metadata) == []
        db.engine.dispose()


def test_sqlite_connection_settings(app, is_postgres):
    if is_postgres:
        with app.app_context():
            assert db.engine.dialect.name == "postgresql"
        return
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000


def test_check_constraints_match_the_models(app):
    """Alembic's comparison ignores CHECK constraints; compare their names ourselves."""
    with app.app_context(), db.engine.connect() as connection:
        inspector = sa.inspect(connection)
        in_database = {
            (table, check["name"])
            for table in inspector.get_table_names() if table != "alembic_version"
            for check in inspector.get_check_constraints(table)
        }
    in_models = {
        (table.name, constraint.name)
        for table in db.metadata.sorted_tables
        for constraint in table.constraints if isinstance(constraint, sa.CheckConstraint)
    }
    assert in_models - in_database == set(), "checks in the models but not the database"
    assert in_database - in_models == set(), "checks in the database but not the models"


def test_database_guards_exist(app, is_postgres):
    """Invariants the models cannot declare portably: triggers and exclusion constraints."""
    with app.app_context(), db.engine.connect() as connection:
        if is_postgres:
            names = set(connection.exec_driver_sql(
                "SELECT conname FROM pg_constraint WHERE contype = 'x'").scalars())
            triggers = set(connection.exec_driver_sql(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal").scalars())
            assert "venue_slot_no_overlap" in names
            assert "audit_log_append_only" in triggers
        else:
            triggers = set(connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
            assert {"audit_log_no_update", "audit_log_no_delete",
                    "venue_slot_no_overlap_insert", "venue_slot_no_overlap_update"} <= triggers


def test_upgrades_keep_the_data_of_rebuilt_tables(tmp_path):
    """SQLite rebuilds `booking` in 0003; its slots (ON DELETE CASCADE) must survive."""
    from flask_migrate import upgrade

    from portal import create_app
    from tests.conftest import _test_config

    scratch = create_app(_test_config(f"sqlite:///{tmp_path / 'data.db'}"))
    with scratch.app_context():
        upgrade(revision="0002")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO user_account (id, email, name, organisation, phone, role, active, "
                "session_epoch, created_at) VALUES (1, 'a@example.com', 'A', '', '', 'client', "
                "1, 0, '2026-01-01 00:00:00')")
            conn.exec_driver_sql(
                "INSERT INTO venue (id, code, name, kind, building, floor, description, "
                "opens_at, closes_at, setup_minutes, cleanup_minutes, public, active, "
                "external_half_day_fen, external_evening_fen, external_full_day_fen, "
                "internal_half_day_fen, internal_evening_fen, internal_full_day_fen) VALUES "
                "(1, 'V1', 'Hall', 'hall', 'B', '1F', '', '08:00:00', '22:00:00', 0, 0, 1, 1, "
                "0, 0, 0, 0, 0, 0)")
            conn.exec_driver_sql(
                "INSERT INTO booking (id, client_id, department, status, rate_kind, title, "
                "purpose, headcount, layout, equipment, notes, contact_phone, starts_at, "
                "created_at, reason, deposit_fen, quote_total_fen, extras_fen) VALUES "
                "(1, 1, '', 'approved', 'external', 'T', '', 10, 'theatre', '[]', '', '', "
                "'2030-01-01 01:00:00', '2026-01-01 00:00:00', '', 0, 0, 0)")
            conn.exec_driver_sql(
                "INSERT INTO venue_slot (id, venue_id, booking_id, session, starts_at, ends_at, "
                "blocked_from, blocked_until, active) VALUES (1, 1, 1, 'morning', "
                "'2030-01-01 01:00:00', '2030-01-01 02:00:00', '2030-01-01 01:00:00', "
                "'2030-01-01 02:00:00', 1)")
        upgrade()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM venue_slot").scalar() == 1
            assert conn.exec_driver_sql("SELECT count(*) FROM booking").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        db.engine.dispose()
