import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from tests.conftest import csrf_token, login
from tests.helpers import form_data, link_in, outbox_for

NEW = "a brand new passphrase 2026"


def _request_reset(client, email):
    return client.post("/auth/reset", data=form_data(client, "/auth/reset", email=email))


def test_reset_flow_is_one_time_and_ends_other_sessions(app, client, user_factory):
    account = user_factory("supervisor")
    other_device = app.test_client()
    login(other_device, account)

    assert _request_reset(client, account.email).status_code == 303
    [message] = outbox_for(app, account.email)
    link = link_in(message)
    assert client.get(link).status_code == 200

    response = client.post(link, data=form_data(client, link, password=NEW, confirm=NEW))
    assert response.status_code == 303
    assert login(app.test_client(), account).status_code == 422  # old password gone
    account.password = NEW
    assert login(app.test_client(), account).status_code == 303
    assert other_device.get("/auth/account").status_code == 302  # its session ended
    # reused link
    assert client.get(link).status_code == 410
    assert client.post(link, data={"csrf_token": csrf_token(client), "password": NEW,
                                   "confirm": NEW}).status_code == 410


def test_reset_request_does_not_reveal_accounts(app, client, user_factory):
    account = user_factory("client")
    answers = []
    for email in (account.email, "nobody@example.com"):
        response = _request_reset(client, email)
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        flashed = page.split('id="messages"', 1)[1].split("</div>", 2)[:2]
        answers.append((response.status_code, response.headers["Location"], flashed))
    assert answers[0] == answers[1]
    assert "我们已向其发送设置新密码的链接" in answers[0][2][0]
    assert len(outbox_for(app, account.email)) == 1
    assert outbox_for(app, "nobody@example.com") == []


def test_weak_new_password_is_refused_and_the_link_survives(app, client, user_factory):
    account = user_factory("client")
    _request_reset(client, account.email)
    link = link_in(outbox_for(app, account.email)[0])
    response = client.post(link, data=form_data(client, link, password="12345678",
                                                confirm="12345678"))
    assert response.status_code == 422
    assert 'id="password-error"' in response.get_data(as_text=True)
    ok = client.post(link, data=form_data(client, link, password=NEW, confirm=NEW))
    assert ok.status_code == 303


def test_change_password_keeps_this_session_only(app, login_as):
    me = login_as("staff")
    other = app.test_client()
    login(other, me.account)
    bad = me.post("/auth/account/password", data=form_data(
        me, "/auth/account", **{"pw-current_password": "wrong one", "pw-new_password": NEW,
                                "pw-confirm": NEW}))
    assert bad.status_code == 422
    assert 'id="pw-current_password-error"' in bad.get_data(as_text=True)
    good = me.post("/auth/account/password", data=form_data(
        me, "/auth/account", **{"pw-current_password": me.account.password,
                                "pw-new_password": NEW, "pw-confirm": NEW}))
    assert good.status_code == 303
    assert me.get("/auth/account").status_code == 200
    assert other.get("/auth/account").status_code == 302


def test_profile_language_is_kept(app, login_as):
    me = login_as("supervisor")
    response = me.post("/auth/account", data=form_data(
        me, "/auth/account", name="李明华", organisation="区发改委办公室", phone="13800000011",
        locale="en"))
    assert response.status_code == 303
    assert 'lang="en"' in me.get("/").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, me.account.id).locale == "en"


def test_language_switch_by_query_and_cookie(client):
    english = client.get("/?lang=en").get_data(as_text=True)
    assert 'lang="en"' in english and "Bureau Services Portal" in english
    assert 'lang="en"' in client.get("/auth/login").get_data(as_text=True)  # cookie kept
    assert 'lang="zh-CN"' in client.get("/?lang=zh").get_data(as_text=True)


def test_invalid_profile_phone_is_refused(app, login_as):
    me = login_as("client")
    response = me.post("/auth/account", data=form_data(
        me, "/auth/account", name="某人", organisation="", phone="999", locale="zh_Hans_CN"))
    assert response.status_code == 422
    assert 'id="phone-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, me.account.id).phone == ""


def test_hashes_use_argon2id_at_owasp_cost_by_default(tmp_path):
    from portal.config import load_config

    config = load_config(str(tmp_path))
    assert config["ARGON2_MEMORY_KIB"] >= 19 * 1024
    assert config["ARGON2_TIME_COST"] >= 2


def test_user_lookup_is_case_insensitive(app, client, user_factory):
    account = user_factory("client", email="mixed@example.com")
    account.email = "MIXED@Example.com"
    assert login(client, account).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
            User.email == "mixed@example.com")) == 1


def test_reset_links_die_when_the_password_changes(app, client, user_factory):
    account = user_factory("staff")
    _request_reset(client, account.email)
    link = link_in(outbox_for(app, account.email)[0])
    me = app.test_client()
    login(me, account)
    response = me.post("/auth/account/password", data=form_data(
        me, "/auth/account", **{"pw-current_password": account.password,
                                "pw-new_password": NEW, "pw-confirm": NEW}))
    assert response.status_code == 303
    assert client.get(link).status_code == 410


def test_a_second_reset_request_within_the_cooldown_sends_nothing(app, client, user_factory):
    account = user_factory("client")
    first = _request_reset(client, account.email)
    second = _request_reset(client, account.email)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(outbox_for(app, account.email)) == 1


def test_remember_me_lasts_two_weeks_by_default(app, user_factory):
    account = user_factory("staff")
    device = app.test_client()
    token = csrf_token(device)
    response = device.post("/auth/login", data={"email": account.email, "remember": "y",
                                                "password": account.password, "csrf_token": token})
    cookie = next(c for c in response.headers.getlist("Set-Cookie")
                  if c.startswith("remember_token="))
    assert "Max-Age=1209600" in cookie or "Expires=" in cookie
    assert app.config["REMEMBER_COOKIE_DURATION"].days == 14
