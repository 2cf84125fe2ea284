"""A request that only read ends its transaction with COMMIT on PostgreSQL, so the
connection keeps the statements psycopg prepared (a ROLLBACK deallocates them all); anything
unsaved is still rolled back (portal/database.py, init_read_transactions)."""

import pytest
from flask import Blueprint

from portal.auth.models import User
from portal.extensions import db
from tests.conftest import make_user


@pytest.mark.live
def test_read_only_requests_keep_the_prepared_statements(live_app, is_postgres):
    client = live_app.test_client()
    for _ in range(8):  # psycopg prepares a statement on its fifth run on a connection
        assert client.get("/healthz").status_code == 200
    with live_app.app_context():
        raw = db.engine.raw_connection()  # one thread: the connection every request had
        try:
            if is_postgres:
                # Its prepared statements (the health check's, the pre-ping's) outlived the
                # requests: a ROLLBACK would have deallocated them.
                with raw.cursor() as cursor:
                    cursor.execute("SELECT count(*) FROM pg_prepared_statements")
                    assert cursor.fetchone()[0] >= 1
            else:
                # SQLite: the requests ended as before, no transaction left open.
                assert not raw.driver_connection.in_transaction
        finally:
            raw.close()


@pytest.mark.live
def test_a_request_leaving_unsaved_changes_still_rolls_back(live_app):
    with live_app.app_context():
        user_id = make_user(live_app, role="staff", email="reader@example.com").id
        db.session.remove()
    probe = Blueprint("probe", __name__)

    @probe.route("/probe/rename")
    def rename():
        db.session.get(User, user_id).name = "改过的名字"  # never saved by a service
        return "renamed"

    live_app.register_blueprint(probe)
    assert live_app.test_client().get("/probe/rename").get_data(as_text=True) == "renamed"
    with live_app.app_context():
        assert db.session.get(User, user_id).name != "改过的名字"
        db.session.remove()


@pytest.mark.live
def test_registered_bookkeeping_makes_a_request_roll_back(live_app, is_postgres):
    """The page cache's changed scopes and the audit trail's pending rows are registered with
    database.unsaved_bookkeeping: a session holding either is not "only read".  A statement
    that wrote without a flush shows the difference: kept by the read-only COMMIT when there
    is no bookkeeping (PostgreSQL), undone when there is."""
    import sqlalchemy as sa

    with live_app.app_context():
        user_id = make_user(live_app, role="staff", email="keeper@example.com").id
        db.session.remove()
    probe = Blueprint("bookkeeping_probe", __name__)

    @probe.route("/probe/write/<name>/<key>")
    def write(name, key):
        db.session.execute(sa.text("UPDATE user_account SET name = :name WHERE id = :id"),
                           {"name": name, "id": user_id})
        if key != "none":
            db.session.info[key] = {"bookings"} if key == "changed_scopes" else [("x",)]
        return "written"

    live_app.register_blueprint(probe)
    client = live_app.test_client()

    def name_after(name: str, key: str) -> str:
        assert client.get(f"/probe/write/{name}/{key}").status_code == 200
        with live_app.app_context():
            try:
                return db.session.get(User, user_id).name
            finally:
                db.session.remove()

    assert name_after("甲", "changed_scopes") != "甲"
    assert name_after("乙", "audit_pending") != "乙"
    assert (name_after("丙", "none") == "丙") is is_postgres  # SQLite never commits a read
