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
