import pytest
import sqlalchemy as sa

from portal.audit.models import AuditLog
from portal.audit.services import Audited, acting_as, history_for
from portal.auth.models import User
from portal.database import write_transaction
from portal.extensions import db
from tests.helpers import form_data


def _rows(app, object_id):
    with app.app_context():
        rows = list(db.session.scalars(
            sa.select(AuditLog).where(AuditLog.object_type == "user_account",
                                      AuditLog.object_id == str(object_id))
            .order_by(AuditLog.id)))
        db.session.expunge_all()
        return rows


def test_changes_record_who_what_old_and_new(app, login_as, user_factory):
    admin = login_as("admin")
    target = user_factory("staff", name="陈晓丽")
    path = f"/admin/users/{target.id}"
    response = admin.post(path, data=form_data(admin, path, role="supervisor", active="y"),
                          headers={"X-Request-ID": "forged-by-the-client"})
    assert response.status_code == 303
    create, change = _rows(app, target.id)[-2:]
    assert create.action == "create"
    assert change.action == "update"
    assert change.changes["role"] == ["staff", "supervisor"]
    assert change.actor_id == admin.account.id and change.actor_label == admin.account.email
    assert change.request_id == response.headers["X-Request-ID"] != "forged-by-the-client"
    assert change.ip_address == "127.0.0.1"
    assert change.created_at.tzinfo is not None


def test_cli_changes_name_the_command_and_no_address(app, ctx):
    from tests.conftest import make_user

    account = make_user(app, "staff")
    with ctx(), acting_as(None, "tick"):
        user = db.session.get(User, account.id)
        with write_transaction():
            user.active = False
    [row] = [r for r in _rows(app, account.id) if r.action != "create"]
    assert row.action == "update" and row.changes["active"] == [True, False]
    assert (row.actor_label, row.ip_address, row.request_id) == ("tick", None, None)


def test_deletes_keep_what_was_deleted(app, ctx):
    from tests.conftest import make_user

    account = make_user(app, "client", name="将被删除")
    with ctx(), write_transaction():
        db.session.delete(db.session.get(User, account.id))
    row = _rows(app, account.id)[-1]
    assert row.action == "delete" and row.changes["name"] == ["将被删除", None]
    assert row.changes["password_hash"] == ["***", None]


def test_bulk_changes_of_audited_models_are_refused(app, ctx):
    with ctx(), pytest.raises(RuntimeError, match="would not be audited"), write_transaction():
        db.session.execute(sa.update(User).values(name="everyone"))


def test_rolled_back_changes_leave_no_audit_rows(app, ctx):
    from tests.conftest import make_user

    account = make_user(app, "staff")
    before = len(_rows(app, account.id))
    with ctx(), pytest.raises(RuntimeError):
        user = db.session.get(User, account.id)
        with write_transaction():
            user.name = "改名"
            db.session.flush()
            raise RuntimeError("boom")
    assert len(_rows(app, account.id)) == before
    with app.app_context():
        assert db.session.get(User, account.id).name != "改名"


def test_password_hashes_are_redacted(app, ctx):
    from portal.auth.passwords import hash_password
    from tests.conftest import make_user

    account = make_user(app, "staff")
    with ctx():
        user = db.session.get(User, account.id)
        with write_transaction():
            user.password_hash = hash_password("another passphrase 1")
    row = _rows(app, account.id)[-1]
    assert row.changes["password_hash"] == ["***", "***"]
    assert "argon2" not in str(row.changes)


def test_audit_rows_are_append_only(app, ctx):
    from tests.conftest import make_user

    account = make_user(app, "staff")
    with ctx():
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), write_transaction():
            db.session.execute(sa.update(AuditLog).values(actor_label="forged"))
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), write_transaction():
            db.session.execute(sa.delete(AuditLog))
    assert _rows(app, account.id)


def test_history_block_and_admin_filter(app, login_as, user_factory):
    admin = login_as("admin")
    target = user_factory("client", name="黄晓梅")
    with app.test_request_context():
        assert [row.action for row in history_for(db.session.get(User, target.id))] == ["create"]
    page = admin.get("/admin/audit/", query_string={"object_type": "user_account",
                                                     "object_id": target.id})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "黄晓梅" in html
    partial = admin.get("/admin/audit/", query_string={"action": "delete"},
                        headers={"HX-Request": "true"})
    body = partial.get_data(as_text=True)
    assert "<html" not in body and "没有符合条件的审计记录" in body
    dated = admin.get("/admin/audit/", query_string={"since": "2000-01-01", "until": "2000-01-02"})
    assert "没有符合条件的审计记录" in dated.get_data(as_text=True)


def test_audit_page_is_admin_only(login_as, client):
    assert login_as("staff").get("/admin/audit/").status_code == 403
    assert client.get("/admin/audit/").status_code == 302


class _ScratchBase(sa.orm.DeclarativeBase):
    """A model outside the app's metadata, so the migrations check never sees it."""


class _Ticket(Audited, _ScratchBase):
    __tablename__ = "scratch_ticket"
    id: sa.orm.Mapped[int] = sa.orm.mapped_column(primary_key=True)
    status: sa.orm.Mapped[str] = sa.orm.mapped_column(sa.String(20))
    note: sa.orm.Mapped[str] = sa.orm.mapped_column(sa.String(50), default="")


def test_any_audited_model_gets_create_status_and_delete_rows(app, ctx):
    with ctx(), acting_as(None, "module test"):
        with write_transaction():
            _ScratchBase.metadata.create_all(db.session.connection())
        with write_transaction():
            ticket = _Ticket(status="requested")
            db.session.add(ticket)
        with write_transaction():
            ticket.status = "approved"
            ticket.note = "ok"
        with write_transaction():
            db.session.delete(ticket)
        rows = list(db.session.scalars(
            sa.select(AuditLog).where(AuditLog.object_type == "scratch_ticket")
            .order_by(AuditLog.id)))
        assert [row.action for row in rows] == ["create", "status", "delete"]
        assert rows[1].changes == {"status": ["requested", "approved"], "note": ["", "ok"]}
        assert {row.actor_label for row in rows} == {"module test"}
