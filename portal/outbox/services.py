"""The outbox: mail is stored with the change that caused it and delivered later.

``queue_email`` never talks to a mail server, so a change and its notification commit or
roll back together and nothing is lost while SMTP is down.  ``send_pending`` (run by
``flask --app portal outbox send`` or ``tick``) claims messages so that two senders running
at once never deliver the same message twice.
"""

from __future__ import annotations

import secrets
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from jinja2_fragments.flask import render_block

from ..database import utcnow, write_transaction
from ..extensions import db
from .models import OutboxMessage, OutboxStatus

STALE_CLAIM = timedelta(minutes=10)


def queue_email(recipient: str, template: str, locale: str | None = None, **context) -> None:
    """Render ``templates/emails/<template>.{txt,html}`` and add it to the outbox.

    The caller's transaction commits it together with the change it announces.  ``locale``
    is the recipient's language (Chinese by default), not the current request's.
    """
    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    context.setdefault("base_url", current_app.config["BASE_URL"])
    with force_locale(locale):
        subject = render_block(f"emails/{template}.txt", "subject", **context).strip()
        body_text = render_block(f"emails/{template}.txt", "body", **context).strip() + "\n"
        body_html = render_template(f"emails/{template}.html", subject=subject, **context)
    db.session.add(
        OutboxMessage(
            recipient=recipient,
            template=template,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
        )
    )


def smtp_configured() -> bool:
    return bool(current_app.config.get("MAIL_SERVER"))


def _claim(batch_size: int) -> list[tuple[int, str]]:
    now = utcnow()
    token = secrets.token_hex(8)
    with write_transaction() as session:
        due = sa.or_(
            sa.and_(
                OutboxMessage.status == OutboxStatus.PENDING,
                OutboxMessage.next_attempt_at <= now,
            ),
            sa.and_(
                OutboxMessage.status == OutboxStatus.SENDING,
                OutboxMessage.claimed_at < now - STALE_CLAIM,
            ),
        )
        stmt = sa.select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(batch_size)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = list(session.scalars(stmt))
        if ids:
            session.execute(
                sa.update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids), due)
                .values(status=OutboxStatus.SENDING, claimed_at=now, claim_token=token)
            )
    return [(message_id, token) for message_id in ids]


def _deliver(message: OutboxMessage) -> None:
    config = current_app.config
    email = EmailMessage()
    email["From"] = config["MAIL_SENDER"]
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="portal.localhost")
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    with smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
        if config["MAIL_USE_TLS"]:
            smtp.starttls()
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
        smtp.send_message(email)


def send_pending(batch_size: int = 100) -> dict[str, int]:
    """Deliver due messages over SMTP; failed ones are retried with backoff."""
    result = {"sent": 0, "retry": 0, "failed": 0}
    if not smtp_configured():
        return result
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    for message_id, token in _claim(batch_size):
        message = db.session.get(OutboxMessage, message_id)
        if message is None or message.claim_token != token:
            continue
        error = None
        try:
            _deliver(message)
        except (OSError, smtplib.SMTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
        with write_transaction():
            message.attempts += 1
            message.claim_token = None
            if error is None:
                message.status = OutboxStatus.SENT
                message.sent_at = utcnow()
                result["sent"] += 1
            else:
                message.last_error = error[:2000]
                if message.attempts >= max_attempts:
                    message.status = OutboxStatus.FAILED
                    result["failed"] += 1
                else:
                    message.status = OutboxStatus.PENDING
                    delay = timedelta(minutes=2 ** message.attempts)
                    message.next_attempt_at = utcnow() + delay
                    result["retry"] += 1
    return result


def retry(message: OutboxMessage) -> None:
    """An admin sends a failed message again."""
    with write_transaction():
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = utcnow()
        message.attempts = 0
        message.last_error = ""


def list_stmt(status: str | None = None, recipient: str | None = None):
    stmt = sa.select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if recipient:
        stmt = stmt.where(OutboxMessage.recipient.ilike(f"%{recipient}%"))
    return stmt
