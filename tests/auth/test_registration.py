import sqlalchemy as sa

from portal.audit.models import AuditLog
from portal.auth.models import Role, User
from portal.extensions import db
from tests.helpers import form_data, link_in, outbox_for

GOOD = {
    "name": "赵磊", "organisation": "金山精细化工研究会", "phone": "13912345678",
    "email": "Zhao.Lei@Example.com", "password": "a long passphrase for booking",
    "confirm": "a long passphrase for booking",
}


def _register(client, **overrides):
    return client.post("/auth/register", data=form_data(client, "/auth/register",
                                                        **{**GOOD, **overrides}))


def _users(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_register_verify_and_log_in(app, client):
    response = _register(client)
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/register/done"
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "zhao.lei@example.com"))
        assert user.role == Role.CLIENT and user.email_verified_at is None
        assert user.password_hash.startswith("$argon2id$")
        audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.object_id == str(user.id)))
        assert audit.action == "create" and audit.changes["password_hash"][1] == "***"

    # Not verified yet: the right password still cannot log in.
    login = client.post("/auth/login", data=form_data(
        client, "/auth/login", email=GOOD["email"], password=GOOD["password"]))
    assert login.status_code == 422
    assert "请先验证电子邮箱" in login.get_data(as_text=True)

    [message] = outbox_for(app, "zhao.lei@example.com")
    assert "验证" in message.subject
    link = link_in(message)
    page = client.get(link)
    assert page.status_code == 200 and "确认我的邮箱" in page.get_data(as_text=True)
    confirmed = client.post(link, data=form_data(client, link))
    assert confirmed.status_code == 302

    login = client.post("/auth/login", data=form_data(
        client, "/auth/login", email=GOOD["email"], password=GOOD["password"]))
    assert login.status_code == 303

    # The link is one-time.
    assert client.get(link).status_code == 410


def test_htmx_registration_redirects(client):
    response = client.post("/auth/register", data=form_data(client, "/auth/register", **GOOD),
                           headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/auth/register/done"


def test_taken_email_is_refused_beside_the_field(app, client, user_factory):
    user_factory("client", email="taken@example.com")
    before = _users(app)
    response = _register(client, email="TAKEN@example.com")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="email-error"' in html and "该电子邮箱已注册账户" in html
    assert _users(app) == before
    assert outbox_for(app, "taken@example.com") == []


def test_weak_passwords_are_refused(app, client):
    before = _users(app)
    for weak, message in [("short", "至少需要 8 个字符"), ("password123", "过于常见"),
                          ("qwertyuiop", "过于常见"), ("woaini1314", "过于常见"),
                          ("zhao.lei", "请勿使用姓名")]:
        response = _register(client, password=weak, confirm=weak)
        assert response.status_code == 422, weak
        html = response.get_data(as_text=True)
        assert 'id="password-error"' in html and message in html, weak
    assert _users(app) == before


def test_long_passphrase_is_welcome(client):
    phrase = "这是一个很长的中文密码短语,用来预订会议中心的大会堂 " * 3
    assert _register(client, password=phrase, confirm=phrase).status_code == 303


def test_malformed_phone_and_mismatch(app, client):
    before = _users(app)
    response = _register(client, phone="12345", confirm="something else entirely")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="phone-error"' in html and "11 位手机号码" in html
    assert 'id="confirm-error"' in html and "两次输入的密码不一致" in html
    assert _users(app) == before


def test_landline_and_plus86_are_accepted(client):
    assert _register(client, phone="021-57921234", email="a@example.com").status_code == 303
    assert _register(client, phone="+86 13912345678", email="b@example.com").status_code == 303


def test_invalid_form_fields_keep_their_values(client):
    response = _register(client, phone="bad")
    html = response.get_data(as_text=True)
    assert 'value="金山精细化工研究会"' in html
    assert GOOD["password"] not in html  # passwords are never echoed back


def test_resend_verification_says_the_same_for_unknown_accounts(app, client, user_factory):
    account = user_factory("client", verified=False)
    for email in (account.email, "nobody@example.com"):
        response = client.post("/auth/resend-verification",
                               data=form_data(client, "/auth/login", email=email),
                               follow_redirects=True)
        assert "如果该账户尚待验证" in response.get_data(as_text=True)
    assert len(outbox_for(app, account.email)) == 1
    assert outbox_for(app, "nobody@example.com") == []


def test_registration_is_rate_limited(app, client):
    for n in range(10):
        _register(client, email=f"r{n}@example.com", phone="12")  # invalid: 422, still counted
    response = _register(client, email="r11@example.com")
    assert response.status_code == 429
    assert outbox_for(app, "r11@example.com") == []
