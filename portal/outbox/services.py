"""The outbox: mail is stored with the change that caused it and delivered later.

``queue_email`` never talks to a mail server, so a change and its notification commit or
roll back together and nothing is lost while SMTP is down.  ``send_pending`` (run by
``flask --app portal outbox send`` or ``tick``) claims messages so that two senders running
at once never deliver the same message twice.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import smtplib
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from jinja2_fragments.flask import render_block

from ..database import utcnow, write_transaction
from ..errors import NotAllowed
from ..extensions import db
from ..urls import base_url
from ..workflow import locked
from .models import OutboxMessage, OutboxStatus

STALE_CLAIM = timedelta(minutes=10)  # a claim is re-stamped before each message is sent
log = logging.getLogger("portal.outbox")


def queue_email(recipient: str, template: str, locale: str | None = None, **context) -> None:
    """Render ``templates/emails/<template>.{txt,html}`` and add it to the outbox.

    The caller's transaction commits it together with the change it announces.  ``locale``
    is the recipient's language (Chinese by default), not the current request's.

    When the address is an account's, the mail also lands in its inbox (a notification with
    the subject, a short text and the context's ``link``); the account may have chosen not to
    get this kind by email too, and then only the notification is stored.  Mails carrying a
    secret (password reset, verification, invitations, survey links) always go, and only by
    email (``portal/notifications``).
    """
    from ..notifications.services import record_mail

    locale = locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    context.setdefault("base_url", base_url())
    with force_locale(locale):
        subject = render_block(f"emails/{template}.txt", "subject", **context).strip()
        body_text = render_block(f"emails/{template}.txt", "body", **context).strip() + "\n"
        if not record_mail(recipient, template, subject, body_text, context.get("link")):
            return  # in the inbox only: the account opted out of this kind by email
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


def _email(message: dict) -> EmailMessage:
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_SENDER"]
    email["To"] = message["recipient"]
    email["Subject"] = message["subject"]
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = make_msgid(domain="portal.localhost")
    email.set_content(message["body_text"])
    if message["body_html"]:
        email.add_alternative(message["body_html"], subtype="html")
    return email


def _connect() -> smtplib.SMTP:
    config = current_app.config
    smtp_class = smtplib.SMTP_SSL if config["MAIL_USE_SSL"] else smtplib.SMTP
    smtp = smtp_class(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30)
    if config["MAIL_USE_TLS"]:
        smtp.starttls()
    if config["MAIL_USERNAME"]:
        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"] or "")
    return smtp


def _still_ours(message_id: int, token: str) -> bool:
    """Re-stamp the claim just before sending; False if another sender took the message over."""
    with write_transaction():
        result = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token,
                   OutboxMessage.status == OutboxStatus.SENDING)
            .values(claimed_at=utcnow())
        )
    return result.rowcount == 1


def _record(message_id: int, token: str, error: str | None, result: dict) -> None:
    max_attempts = current_app.config["MAIL_MAX_ATTEMPTS"]
    with write_transaction():
        message = db.session.get(OutboxMessage, message_id)
        if message is None or message.claim_token != token:
            return  # another sender owns it now
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
                message.next_attempt_at = utcnow() + timedelta(minutes=2 ** message.attempts)
                result["retry"] += 1


def send_pending(batch_size: int = 100) -> dict[str, int]:
    """Deliver due messages over one SMTP connection; failures are retried with backoff.

    A message that cannot be sent for any reason (server down, a malformed address) is
    recorded as a failed attempt and never blocks the others.
    """
    result = {"sent": 0, "retry": 0, "failed": 0}
    if not smtp_configured():
        return result
    claimed = _claim(batch_size)
    if not claimed:
        return result
    fields = ("recipient", "subject", "body_text", "body_html")
    messages = {
        row.id: dict(zip(fields, row[1:], strict=True))
        for row in db.session.execute(
            sa.select(OutboxMessage.id, *(getattr(OutboxMessage, f) for f in fields))
            .where(OutboxMessage.id.in_([message_id for message_id, _ in claimed])))
    }
    db.session.rollback()  # no transaction stays open while we talk to the mail server
    smtp, connect_error = None, None
    try:
        smtp = _connect()
    except (OSError, smtplib.SMTPException) as exc:
        connect_error = f"{type(exc).__name__}: {exc}"
    try:
        for message_id, token in claimed:
            if message_id not in messages or not _still_ours(message_id, token):
                continue
            error = connect_error
            if smtp is not None:
                try:
                    smtp.send_message(_email(messages[message_id]))
                except Exception as exc:  # noqa: BLE001 - any failure is one failed attempt
                    log.warning("outbox message %s not sent: %s", message_id, exc)
                    error = f"{type(exc).__name__}: {exc}"
                    if isinstance(exc, smtplib.SMTPServerDisconnected):
                        smtp = None
                        connect_error = error
            _record(message_id, token, error, result)
    finally:
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
    return result


def retry(message: OutboxMessage) -> None:
    """An admin sends a failed message again (only failed ones: never a sent one twice)."""
    with write_transaction():
        message = locked(message)
        if message.status != OutboxStatus.FAILED:
            raise NotAllowed(_l("Only failed messages can be sent again."))
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
