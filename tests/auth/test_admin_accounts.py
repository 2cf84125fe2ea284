import logging

import sqlalchemy as sa

from portal.auth.models import User
from portal.extensions import db
from tests.conftest import login
from tests.helpers import form_data, link_in, outbox_for


def test_admin_creates_a_supervisor_who_sets_a_password(app, login_as):
    admin = login_as("admin")
    response = admin.post("/admin/users/new", data=form_data(
        admin, "/admin/users/new", role="supervisor", name="刘芳",
        email="liufang@rd.example.gov.cn", organisation="区人大常委会办公室", phone=""))
    assert response.status_code == 303
    [invitation] = outbox_for(app, "liufang@rd.example.gov.cn")
    assert "服务质量监督员" in invitation.body_text
    link = link_in(invitation)
    visitor = app.test_client()
    page = visitor.get(link)
    assert "欢迎：请设置您的密码" in page.get_data(as_text=True)
    password = "supervising the canteen 2026"
    assert visitor.post(link, data=form_data(visitor, link, password=password,
                                             confirm=password)).status_code == 303
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "liufang@rd.example.gov.cn"))
        assert user.role == "supervisor" and user.email_verified_at is not None
        user_id = user.id
    from tests.conftest import Account

    assert login(app.test_client(), Account(user_id, user.email, password, "supervisor")
                 ).status_code == 303


def test_admin_form_errors_beside_the_field(app, login_as, user_factory):
    admin = login_as("admin")
    user_factory("staff", email="dup@example.com")
    response = admin.post("/admin/users/new", data=form_data(
        admin, "/admin/users/new", role="staff", name="", email="dup@example.com"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="name-error"' in html
    response = admin.post("/admin/users/new", data=form_data(
        admin, "/admin/users/new", role="staff", name="重复", email="dup@example.com"))
    assert 'id="email-error"' in response.get_data(as_text=True)


def test_deactivation_ends_the_users_sessions(app, login_as, user_factory):
    admin = login_as("admin")
    staff = login_as("staff")
    assert staff.get("/auth/account").status_code == 200
    path = f"/admin/users/{staff.account.id}"
    response = admin.post(path, data=form_data(admin, path, role="staff"))  # active unchecked
    assert response.status_code == 303
    assert staff.get("/auth/account").status_code == 302
    assert login(app.test_client(), staff.account).status_code == 422
    history = admin.get(path).get_data(as_text=True)
    assert "active" in history and "变更记录" in history


def test_admin_cannot_deactivate_themself(login_as):
    admin = login_as("admin")
    path = f"/admin/users/{admin.account.id}"
    response = admin.post(path, data=form_data(admin, path, role="admin"))
    assert response.status_code == 422
    assert "不能更改自己的角色" in response.get_data(as_text=True)


def test_only_admins_manage_accounts(login_as, caplog):
    caplog.set_level(logging.WARNING, logger="portal.security")
    for role in ("staff", "supervisor", "client"):
        response = login_as(role).get("/admin/users")
        assert response.status_code == 403
        assert "无权访问" in response.get_data(as_text=True)
    assert sum("access denied" in r.message for r in caplog.records) == 3


def test_user_search_filters(login_as, user_factory):
    admin = login_as("admin")
    user_factory("supervisor", name="孙志刚", email="sun@zx.example.gov.cn")
    user_factory("client", name="黄晓梅", email="huang@example.com")
    html = admin.get("/admin/users?q=孙志", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "sun@zx.example.gov.cn" in html and "huang@example.com" not in html
    html = admin.get("/admin/users?role=client").get_data(as_text=True)
    assert "huang@example.com" in html and "sun@zx.example.gov.cn" not in html


def test_users_page_runs_a_fixed_number_of_queries(login_as, user_factory, count_queries):
    admin = login_as("admin")
    admin.get("/admin/users")
    with count_queries() as few:
        admin.get("/admin/users")
    for _ in range(40):
        user_factory("client")
    with count_queries() as many:
        html = admin.get("/admin/users").get_data(as_text=True)
    assert len(many) == len(few)
    assert "下一页" in html  # 42 accounts paginate


def test_cli_creates_accounts(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--role", "staff", "--email",
                                 "Wang@Example.com", "--name", "王海燕"])
    assert result.exit_code == 0, result.output
    assert "invitation" in result.output
    assert len(outbox_for(app, "wang@example.com")) == 1
    again = runner.invoke(args=["users", "create", "--role", "staff", "--email",
                                "wang@example.com"])
    assert again.exit_code != 0 and "该电子邮箱已注册账户" in again.output
    weak = runner.invoke(args=["users", "create", "--role", "admin", "--email", "x@example.com",
                               "--password", "password"])
    assert weak.exit_code != 0
    listing = runner.invoke(args=["users", "list"])
    assert "wang@example.com" in listing.output


def test_deactivation_kills_outstanding_links(app, login_as, client):
    admin = login_as("admin")
    admin.post("/admin/users/new", data=form_data(
        admin, "/admin/users/new", role="staff", name="待停用", email="gone@example.com"))
    link = link_in(outbox_for(app, "gone@example.com")[0])
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.email == "gone@example.com"))
    path = f"/admin/users/{user_id}"
    assert admin.post(path, data=form_data(admin, path, role="staff")).status_code == 303
    assert client.get(link).status_code == 410


def test_cli_refuses_a_malformed_email(app):
    result = app.test_cli_runner().invoke(args=["users", "create", "--role", "staff",
                                                "--email", "bad\naddress@example.com"])
    assert result.exit_code != 0
    assert outbox_for(app, "bad\naddress@example.com") == []
