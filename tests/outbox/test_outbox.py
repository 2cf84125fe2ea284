import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller

from portal.database import utcnow, write_transaction
from portal.extensions import db
from portal.outbox import services as outbox
from portal.outbox.models import OutboxMessage, OutboxStatus
from tests.conftest import make_user
from tests.helpers import form_data


class Inbox:
    """A real SMTP server on loopback that keeps what it receives."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp(app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    yield inbox
    controller.stop()
    app.config.update(MAIL_SERVER=None, MAIL_PORT=25)


def _queue(app, ctx, recipient="zhao@example.com", count=1):
    account = make_user(app, "client", email=recipient)
    with ctx():
        from portal.auth.models import User

        user = db.session.get(User, account.id)
        with write_transaction():
            for _ in range(count):
                outbox.queue_email(user.email, "reset_password", user=user,
                                   link="http://localhost/auth/reset/abc", minutes=60)
    return account


def _statuses(app):
    with app.app_context():
        return [m.status for m in db.session.scalars(
            sa.select(OutboxMessage).order_by(OutboxMessage.id))]


def test_mail_is_rendered_in_chinese_text_and_html(app, ctx):
    _queue(app, ctx)
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage))
        assert message.subject == "设置机关事务服务门户的新密码"
        assert "http://localhost/auth/reset/abc" in message.body_text
        assert '<a href="http://localhost/auth/reset/abc">' in message.body_html
        assert message.status == OutboxStatus.PENDING


def test_english_recipients_get_english_mail(app, ctx):
    with ctx(), write_transaction():
        outbox.queue_email("en@example.com", "verify_email", locale="en",
                           user=type("U", (), {"name": "Ann"})(), link="http://x/y", hours=48)
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage))
        assert message.subject == "Verify your email for the Bureau Services Portal"
        assert "Dear Ann," in message.body_text


def test_send_delivers_over_smtp_and_marks_sent(app, ctx, smtp):
    _queue(app, ctx, count=2)
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert result.exit_code == 0 and "sent 2" in result.output, result.output
    assert len(smtp.messages) == 2
    email = smtp.messages[0]
    assert email["To"] == "zhao@example.com"
    assert str(email["Subject"]) == "设置机关事务服务门户的新密码"
    assert email.get_body(("plain",)).get_content().count("http://localhost/auth/reset/abc") == 1
    assert email.get_body(("html",)) is not None
    assert _statuses(app) == ["sent", "sent"]
    # Sending again sends nothing twice.
    app.test_cli_runner().invoke(args=["outbox", "send"])
    assert len(smtp.messages) == 2


def test_smtp_down_keeps_mail_and_retries_with_backoff(app, ctx):
    _queue(app, ctx)
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())  # nothing listens
    try:
        with ctx():
            assert outbox.send_pending() == {"sent": 0, "retry": 1, "failed": 0}
            message = db.session.scalar(sa.select(OutboxMessage))
            assert message.status == OutboxStatus.PENDING and message.attempts == 1
            assert message.next_attempt_at > utcnow() + timedelta(minutes=1)
            assert "ConnectionRefusedError" in message.last_error
            # Not due yet: nothing is attempted.
            assert outbox.send_pending() == {"sent": 0, "retry": 0, "failed": 0}
            # After the last attempt the message is marked failed, never dropped.
            with write_transaction():
                message.attempts = app.config["MAIL_MAX_ATTEMPTS"] - 1
                message.next_attempt_at = utcnow()
            assert outbox.send_pending() == {"sent": 0, "retry": 0, "failed": 1}
            assert db.session.scalar(sa.select(OutboxMessage)).status == OutboxStatus.FAILED
    finally:
        app.config.update(MAIL_SERVER=None, MAIL_PORT=25)


def test_without_smtp_mail_stays_in_the_outbox(app, ctx):
    _queue(app, ctx)
    result = app.test_cli_runner().invoke(args=["outbox", "send"])
    assert "not configured" in result.output
    assert _statuses(app) == ["pending"]


def test_admin_reads_and_retries_mail(app, ctx, login_as):
    _queue(app, ctx)
    admin = login_as("admin")
    page = admin.get("/admin/outbox/")
    html = page.get_data(as_text=True)
    assert "设置机关事务服务门户的新密码" in html and "未配置 SMTP" in html
    with app.app_context(), write_transaction():
        message = db.session.scalar(sa.select(OutboxMessage))
        message_id = message.id
        message.status = OutboxStatus.FAILED
    detail = admin.get(f"/admin/outbox/{message_id}").get_data(as_text=True)
    assert "/auth/reset/abc" not in detail  # a one-time link: its token is masked
    assert "http://localhost/auth/reset/••••••" in detail
    path = f"/admin/outbox/{message_id}"
    response = admin.post(f"{path}/retry", data=form_data(admin, path))
    assert response.status_code == 303
    assert _statuses(app) == ["pending"]
    assert login_as("staff").get(path).status_code == 403
    assert admin.get("/admin/outbox/999999").status_code == 404


def test_mail_is_lost_with_the_change_that_caused_it(app, ctx):
    """Queued mail belongs to its transaction: a rolled-back change sends nothing."""
    account = make_user(app, "client")
    with ctx(), pytest.raises(RuntimeError):
        from portal.auth.models import User

        user = db.session.get(User, account.id)
        with write_transaction():
            outbox.queue_email(user.email, "reset_password", user=user, link="x", minutes=1)
            raise RuntimeError("the change failed")
    assert _statuses(app) == []


@pytest.mark.live
def test_two_senders_at_once_deliver_each_message_once(live_app):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    live_app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=controller.port)
    try:
        with live_app.test_request_context(), write_transaction():
            for n in range(30):
                outbox.queue_email(f"user{n}@example.com", "reset_password",
                                   user=type("U", (), {"name": f"用户{n}"})(),
                                   link="http://x", minutes=5)
        barrier = threading.Barrier(2)
        results, errors = [], []

        def sender():
            try:
                with live_app.test_request_context():
                    barrier.wait()
                    results.append(outbox.send_pending(batch_size=10))
                    results.append(outbox.send_pending(batch_size=10))
                    results.append(outbox.send_pending(batch_size=10))
                    db.session.remove()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=sender) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert sum(r["sent"] for r in results) == 30
        recipients = [m["To"] for m in inbox.messages]
        assert len(recipients) == 30 and len(set(recipients)) == 30
    finally:
        controller.stop()


def test_a_message_that_cannot_be_sent_does_not_block_the_others(app, ctx, smtp):
    _queue(app, ctx)
    with ctx(), write_transaction():
        db.session.add(OutboxMessage(recipient="broken\r\nBcc: x@example.com", subject="s",
                                     body_text="b", template="t"))
    _queue(app, ctx, recipient="after@example.com")
    with ctx():
        result = outbox.send_pending()
    assert result == {"sent": 2, "retry": 1, "failed": 0}
    assert sorted(m["To"] for m in smtp.messages) == ["after@example.com", "zhao@example.com"]
    assert sorted(_statuses(app)) == ["pending", "sent", "sent"]


def test_sent_mail_cannot_be_retried(app, ctx, login_as, smtp):
    _queue(app, ctx)
    with ctx():
        outbox.send_pending()
        message_id = db.session.scalar(sa.select(OutboxMessage.id))
    admin = login_as("admin")
    path = f"/admin/outbox/{message_id}"
    response = admin.post(f"{path}/retry", data=form_data(admin, path), follow_redirects=True)
    assert "只有发送失败的邮件可以重新发送" in response.get_data(as_text=True)
    assert _statuses(app) == ["sent"] and len(smtp.messages) == 1


# --- one-time tokens never show in the outbox pages --------------------------------------------


def _tokened_links(app, token: str) -> dict[str, str]:
    """A link to every route of the application that takes a token."""
    with app.test_request_context():
        from flask import url_for

        return {rule.endpoint: url_for(rule.endpoint, token=token, _external=True)
                for rule in app.url_map.iter_rules() if "token" in rule.arguments}


def test_the_outbox_masks_every_one_time_token_and_keeps_the_message_intact(app, login_as):
    token = "Sx9-secret_TOKEN42"
    links = _tokened_links(app, token)
    assert {"auth.verify_email", "auth.reset_password", "surveys.answer"} <= set(links)
    body = "\n".join([*(f"{endpoint}: {link}." for endpoint, link in links.items()),
                      "Your item: http://localhost/feedback/7 (no token)."])
    with app.app_context(), write_transaction():
        message = OutboxMessage(recipient="li@example.com", template="test",
                                subject=f"About {links['surveys.answer']}", body_text=body)
        db.session.add(message)
        db.session.flush()
        message_id = message.id
    admin = login_as("admin")
    pages = [admin.get(f"/admin/outbox/{message_id}"), admin.get("/admin/outbox/"),
             admin.get("/admin/outbox/?recipient=li")]
    for page in pages:
        assert page.status_code == 200
        assert token not in page.get_data(as_text=True) and "TOKEN42" not in page.get_data(
            as_text=True)
    detail = pages[0].get_data(as_text=True)
    for link in links.values():
        masked = link.replace(token, "••••••")
        assert masked in detail and f'href="{masked}"' not in detail  # shown, not clickable
    assert "http://localhost/surveys/r/••••••" in detail
    assert "http://localhost/auth/verify/••••••" in detail
    assert '<a href="http://localhost/feedback/7" target="_blank" rel="noopener">' in detail
    with app.app_context():  # what is sent keeps the real links
        stored = db.session.get(OutboxMessage, message_id)
        assert all(link in stored.body_text for link in links.values())
        assert stored.subject == f"About {links['surveys.answer']}"


def test_survey_invitations_and_account_links_are_masked_in_real_mail(app, ctx, login_as):
    from portal.auth import services as auth
    from tests.surveys.factories import invite, make_round

    round_id = make_round(app)
    survey_token, = invite(app, round_id, "invitee@example.com")
    account = make_user(app, "client", email="forgot@example.com")
    with ctx():
        auth.request_password_reset(account.email)
    admin = login_as("admin")
    with app.app_context():
        messages = {m.recipient: (m.id, m.body_text) for m in db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.recipient.in_(
                ("invitee@example.com", "forgot@example.com"))))}
    survey_id, survey_text = messages["invitee@example.com"]
    reset_id, reset_text = messages["forgot@example.com"]
    assert survey_token in survey_text  # the email carries the real link
    reset_token = reset_text.split("/auth/reset/", 1)[1].split()[0]
    survey_page = admin.get(f"/admin/outbox/{survey_id}").get_data(as_text=True)
    reset_page = admin.get(f"/admin/outbox/{reset_id}").get_data(as_text=True)
    assert survey_token not in survey_page and "/surveys/r/••••••" in survey_page
    assert reset_token not in reset_page and "/auth/reset/••••••" in reset_page
