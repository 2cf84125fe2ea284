"""Each connection is set up for the portal's workload when it opens (portal.database)."""

import sqlalchemy as sa

from portal.extensions import db


def test_connections_are_set_up_per_engine(app):
    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # JIT compiled the report queries for seconds: off for every connection,
            # and it stays off after the pool hands the connection back and out again.
            assert conn.execute(sa.text("SHOW jit")).scalar() == "off"
            conn.rollback()
            assert conn.execute(sa.text("SHOW jit")).scalar() == "off"
        else:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() in ("wal", "memory")
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


def test_generic_plans_switch_back_and_keep_a_failed_statements_error(app, is_postgres):
    """generic_plans(): the mode holds inside the block only; a statement failing inside it
    raises its own error, not the aborted transaction's refusal to put the mode back."""
    import pytest

    from portal.database import SESSION_PLAN_CACHE_MODE, generic_plans

    def mode() -> str:
        return db.session.execute(sa.text("SHOW plan_cache_mode")).scalar()

    with app.app_context():
        with generic_plans():
            inside = mode() if is_postgres else None
        after = mode() if is_postgres else None
        with pytest.raises(sa.exc.DBAPIError) as raised, generic_plans():
            db.session.execute(sa.text("SELECT * FROM no_such_table"))
        assert "no_such_table" in str(raised.value)
        db.session.rollback()
        if is_postgres:
            assert (inside, after) == ("force_generic_plan", SESSION_PLAN_CACHE_MODE)
            assert mode() == SESSION_PLAN_CACHE_MODE
        db.session.remove()
