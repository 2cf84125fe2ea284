"""The models and the Alembic migrations describe the same schema, on this run's engine."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from portal.extensions import db


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
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
            context = MigrationContext.configure(connection, opts={"compare_type": True})
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
