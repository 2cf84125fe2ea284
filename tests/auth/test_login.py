import logging
from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.auth.models import User
from portal.database import write_transaction
from portal.extensions import db
from tests.conftest import csrf_token, login
from tests.helpers import form_data


def test_login_gives_a_new_session(client, user_factory):
    account = user_factory("staff")
    client.get("/auth/login")
    before = client.get_cookie("session").value
    response = login(client, account)
    assert response.status_code == 303
    assert client.get_cookie("session").value != before
    assert "欢迎您" in client.get("/").get_data(as_text=True)


def test_wrong_password_and_unknown_email_get_the_same_answer(client, user_factory, caplog):
    account = user_factory("client")
    caplog.set_level(logging.WARNING, logger="portal.security")
    wrong = login(client, account, password="not the password")
    unknown = client.post("/auth/login", data=form_data(
        client, "/auth/login", email="nobody@example.com", password="whatever it is"))
    for response in (wrong, unknown):
        assert response.status_code == 422
        assert "电子邮箱或密码不正确" in response.get_data(as_text=True)
    assert sum("login failed" in r.message for r in caplog.records) == 2


def test_inactive_account_cannot_log_in(client, user_factory):
    account = user_factory("staff", active=False)
    assert login(client, account).status_code == 422


@pytest.mark.parametrize("target, expected", [
    ("/admin/users", "/admin/users"),
    ("https://evil.example.com/", "/"),
    ("//evil.example.com/", "/"),
    ("/\\evil.example.com", "/"),
    ("javascript:alert(1)", "/"),
])
def test_next_redirects_only_to_same_site_paths(client, user_factory, target, expected):
    account = user_factory("admin")
    token = csrf_token(client)
    response = client.post("/auth/login", query_string={"next": target}, data={
        "email": account.email, "password": account.password, "csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == expected


def test_eleventh_bad_attempt_in_a_minute_gets_429(client, user_factory):
    account = user_factory("client")
    for _ in range(10):
        assert login(client, account, password="wrong password!").status_code == 422
    response = login(client, account, password="wrong password!")
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)
    # Even the right password waits until the minute is over.
    assert login(client, account).status_code == 429


def test_successful_logins_do_not_count_toward_the_limit(app, user_factory):
    account = user_factory("client")
    for _ in range(12):
        fresh = app.test_client()
        assert login(fresh, account).status_code == 303


def test_logout_ends_every_session_of_the_user(app, user_factory):
    account = user_factory("staff")
    phone, desktop = app.test_client(), app.test_client()
    login(phone, account)
    login(desktop, account)
    assert phone.get("/auth/account").status_code == 200
    response = phone.post("/auth/logout", data={"csrf_token": csrf_token(phone, "/")})
    assert response.status_code == 303
    # The other device's cookie is still there but no longer works.
    assert desktop.get("/auth/account").status_code == 302
    assert phone.get("/auth/account").status_code == 302


def test_remember_me_cookie_is_ended_by_logout_too(app, user_factory):
    account = user_factory("staff")
    device = app.test_client()
    token = csrf_token(device)
    device.post("/auth/login", data={"email": account.email, "password": account.password,
                                     "remember": "y", "csrf_token": token})
    remember = device.get_cookie("remember_token").value
    other = app.test_client()
    login(other, account)
    other.post("/auth/logout", data={"csrf_token": csrf_token(other, "/")})
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember)
    assert fresh.get("/auth/account").status_code == 302


def test_anonymous_is_sent_to_login(client):
    response = client.get("/auth/account")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=/auth/account")


def test_expired_session_during_htmx_redirects_with_a_message(client):
    response = client.get("/admin/users?q=x", headers={
        "HX-Request": "true", "HX-Current-URL": "http://localhost/admin/users"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/auth/login?next=/admin/users"
    assert "登录已过期" in client.get("/auth/login").get_data(as_text=True)


def test_password_hash_is_upgraded_on_login(app, user_factory):
    account = user_factory("staff")
    app.config["ARGON2_TIME_COST"] = 2
    app.extensions.pop("portal.password_hasher", None)
    try:
        login(app.test_client(), account)
        with app.app_context():
            user = db.session.get(User, account.id)
            assert "t=2" in user.password_hash
            assert user.last_login_at is not None
    finally:
        app.config["ARGON2_TIME_COST"] = 1
        app.extensions.pop("portal.password_hasher", None)


def test_login_page_sets_language_from_profile(app, user_factory):
    account = user_factory("staff", locale="en")
    device = app.test_client()
    login(device, account)
    assert 'lang="en"' in device.get("/").get_data(as_text=True)


def test_unverified_account_is_told_after_right_password_only(client, user_factory):
    account = user_factory("client", verified=False)
    wrong = login(client, account, password="wrong password!")
    assert "请先验证" not in wrong.get_data(as_text=True)
    right = login(client, account)
    assert "请先验证" in right.get_data(as_text=True)
    assert "重新发送验证链接" in right.get_data(as_text=True)


def test_token_expiry(app, client, user_factory):
    """An expired verification link is refused and changes nothing."""
    from portal.auth.models import UserToken
    from tests.helpers import link_in, outbox_for

    email = "late@example.com"
    response = client.post("/auth/register", data=form_data(
        client, "/auth/register", name="迟到", organisation="", phone="13912345678",
        email=email, password="a long passphrase for booking",
        confirm="a long passphrase for booking"))
    assert response.status_code == 303
    with app.app_context(), write_transaction():
        token = db.session.scalar(sa.select(UserToken))
        token.expires_at = token.expires_at - timedelta(days=3)
    link = link_in(outbox_for(app, email)[0])
    assert client.get(link).status_code == 410
    assert client.post(link, data=form_data(client, "/auth/login")).status_code == 410
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        assert user.email_verified_at is None
