from datetime import timedelta

import sqlalchemy as sa

from portal.auth.models import Role, User, UserToken
from portal.database import utcnow, write_transaction
from portal.extensions import db
from tests.conftest import login, make_user


def test_demo_loads_one_login_per_role_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for role in Role.ALL:
        assert f"  {role}" in result.output
    with app.app_context():
        users = list(db.session.scalars(sa.select(User)))
        assert {u.role for u in users} == set(Role.ALL)
        assert any(u.organisation == "区人大常委会办公室" for u in users)
        admin_email = next(u.email for u in users if u.role == Role.ADMIN)
    again = runner.invoke(args=["demo"])
    assert "already holds accounts" in again.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == len(users)
    from portal.demo import DEMO_PASSWORD
    from tests.conftest import Account

    assert login(app.test_client(), Account(0, admin_email, DEMO_PASSWORD, "admin")
                 ).status_code == 303


def test_tick_runs_every_task_and_is_idempotent(app):
    account = make_user(app, "client")
    with app.app_context(), write_transaction():
        db.session.add(UserToken(user_id=account.id, purpose="reset_password", token_hash="x" * 64,
                                 expires_at=utcnow() - timedelta(days=8)))
        db.session.add(UserToken(user_id=account.id, purpose="reset_password", token_hash="y" * 64,
                                 expires_at=utcnow() + timedelta(hours=1)))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tick"])
    assert first.exit_code == 0, first.output
    assert "expired tokens: 1" in first.output
    assert "outbox:" in first.output
    # The venue figures of the last two years' months, stored once (bookings.reports).
    assert "venue figures of the months that have ended: 24" in first.output
    second = runner.invoke(args=["tick"])
    assert "expired tokens: 0" in second.output
    assert "venue figures of the months that have ended: 0" in second.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(UserToken)) == 1
