"""In-app notifications (站内消息): every mail the outbox sends to an account, in its inbox.

:func:`record_mail` is called by ``portal.outbox.services.queue_email`` (the one place that
decides recipients), in the caller's transaction: when the address belongs to an account it
stores the notification, and it answers whether the mail should also go (the account's
preference for that kind; yes by default).  Mails that carry a secret (``kinds.EMAIL_ONLY``)
always go and are never stored here.
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask import g, has_request_context
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..auth.models import User
from ..database import utcnow, write_transaction
from ..extensions import db
from ..urls import base_url
from .kinds import EMAIL_ONLY, kinds_for
from .models import Notification, NotificationPreference

TEXT_LENGTH = 200
_SPACE = re.compile(r"\s+")


def local_path(link: str | None) -> str:
    """The path of a link into the portal (``BASE_URL`` + path), else '' (nothing to follow)."""
    base = base_url().rstrip("/")
    if not link or not link.startswith(base + "/"):
        return ""
    path = link[len(base):]
    # Never a path a browser would read as another host ("//host", "/\\host").
    if path.startswith("//") or "\\" in path or len(path) > 500:
        return ""
    return path


def short_text(body_text: str, link: str | None) -> str:
    """The mail's text on one line, without its link, cut to ``TEXT_LENGTH`` characters."""
    lines = [line for line in body_text.splitlines() if not link or line.strip() != link]
    text = _SPACE.sub(" ", " ".join(lines)).strip()
    return text if len(text) <= TEXT_LENGTH else text[:TEXT_LENGTH - 1].rstrip() + "…"


def record_mail(recipient: str, template: str, subject: str, body_text: str,
                link: str | None) -> bool:
    """Store the notification of a mail to ``recipient`` if the address is an account's;
    True if the mail should also be sent (False: the account opted out of this kind)."""
    if template in EMAIL_ONLY:
        return True
    preference = NotificationPreference
    with db.session.no_autoflush:  # the caller's pending changes flush when it decides
        row = db.session.execute(
            sa.select(User.id, preference.email)
            .outerjoin(preference, sa.and_(preference.user_id == User.id,
                                           preference.kind == template))
            .where(User.email == (recipient or "").strip().lower())).first()
    if row is None:
        return True  # a desk address, a contact without an account: mail only
    user_id, wants_email = row
    db.session.add(Notification(
        user_id=user_id, kind=template, subject=subject[:300],
        text=short_text(body_text, link), link=local_path(link)))
    return wants_email is not False


# --- reading ---------------------------------------------------------------------------------


# Built once: every page's badge runs it, and building the statement cost more than running it.
_UNREAD_COUNT = (
    sa.select(sa.func.count()).select_from(Notification)
    .where(Notification.user_id == sa.bindparam("user_id"), Notification.read_at.is_(None)))


def unread_count(user_id: int) -> int:
    """The user's unread notifications: the figure read with the user at the start of this
    request when nothing has been committed since (:func:`load_user_with_unread`), else one
    query."""
    preloaded = g.get(_PRELOADED) if has_request_context() else None
    if preloaded is not None and preloaded[0] == user_id:
        return preloaded[1]
    return db.session.scalar(_UNREAD_COUNT, {"user_id": user_id}) or 0


_PRELOADED = "_portal_unread_preloaded"  # g: (user id, unread count) read with the user
_USER_WITH_UNREAD: list = []  # the statement, built on first use (once per process)


def load_user_with_unread(user_id: int):
    """The signed-in user and their unread count in one round trip (every logged-in page
    loads the user and shows the badge: two queries were one).  The count is kept for this
    request until something commits (a write may mark a notification read or add one)."""
    if not _USER_WITH_UNREAD:
        unread = (sa.select(sa.func.count()).select_from(Notification)
                  .where(Notification.user_id == User.id, Notification.read_at.is_(None))
                  .scalar_subquery())
        _USER_WITH_UNREAD.append(
            sa.select(User, unread).where(User.id == sa.bindparam("user_id")))
    row = db.session.execute(_USER_WITH_UNREAD[0], {"user_id": user_id}).first()
    if row is None:
        return None
    user, count = row
    if has_request_context():
        setattr(g, _PRELOADED, (user.id, count or 0))
    return user


@sa.event.listens_for(Session, "after_commit")
def _forget_preloaded_unread(session) -> None:
    if has_request_context():
        g.pop(_PRELOADED, None)


def list_stmt(user):
    """The user's notifications, newest first."""
    return (sa.select(Notification).where(Notification.visible_to(user))
            .order_by(Notification.id.desc()))


# --- marking read ----------------------------------------------------------------------------


def mark_read(notification: Notification) -> None:
    """Idempotent: a notification read twice keeps its first reading time."""
    with write_transaction():
        db.session.execute(
            sa.update(Notification)
            .where(Notification.id == notification.id, Notification.read_at.is_(None))
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False))
    db.session.refresh(notification)


def mark_all_read(user) -> int:
    with write_transaction():
        result = db.session.execute(
            sa.update(Notification)
            .where(Notification.visible_to(user), Notification.read_at.is_(None))
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False))
    return result.rowcount


# --- email preferences -----------------------------------------------------------------------


def email_preferences(user) -> dict[str, bool]:
    """For each kind that concerns the user's role: also by email?  (Default: yes.)"""
    saved = dict(db.session.execute(
        sa.select(NotificationPreference.kind, NotificationPreference.email)
        .where(NotificationPreference.user_id == user.id)).all())
    return {kind.template: saved.get(kind.template, True) for kind in kinds_for(user.role)}


def save_email_preferences(user, choices: dict[str, bool]) -> None:
    """Save the choices for the kinds of the user's role (others are ignored); an upsert, so
    two saves at once cannot collide."""
    offered = {kind.template for kind in kinds_for(user.role)}
    with write_transaction() as session:
        connection = session.connection()
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        table = NotificationPreference.__table__
        for kind in sorted(offered & choices.keys()):
            statement = insert(table).values(user_id=user.id, kind=kind, email=choices[kind])
            session.execute(statement.on_conflict_do_update(
                index_elements=[table.c.user_id, table.c.kind],
                set_={"email": statement.excluded.email}))
