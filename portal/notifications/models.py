from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import db

# No cache scope: no cached page shows notifications; the unread badge is filled in outside the
# cached body on every request (see portal/notifications/__init__.py).


class Notification(db.Model):
    """A copy, in the account's inbox, of a mail the outbox queued for its address."""

    __tablename__ = "notification"
    __table_args__ = (
        sa.Index("ix_notification_user_id_id", "user_id", "id"),
        sa.Index("ix_notification_user_id_read_at", "user_id", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(100))  # the mail template's name
    subject: Mapped[str] = mapped_column(sa.String(300))
    text: Mapped[str] = mapped_column(sa.String(500), default="")
    link: Mapped[str] = mapped_column(sa.String(500), default="")  # a path in the portal, or ''
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @classmethod
    def visible_to(cls, user):
        """Only one's own notifications: another account's is a 404."""
        return cls.user_id == user.id

    @property
    def unread(self) -> bool:
        return self.read_at is None


class NotificationPreference(db.Model):
    """Whether a user also wants a kind of notification by email (no row: yes)."""

    __tablename__ = "notification_preference"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(100))
    email: Mapped[bool] = mapped_column(default=True)
