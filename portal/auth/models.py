from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..audit.services import Audited
from ..database import UTCDateTime, utcnow
from ..extensions import db
from ..page_cache import cache_scope
from ..roles import (  # noqa: F401  (re-exported)
    Role,
    assignable_role_choices,
    role_choices,
    role_label,
)


class TokenPurpose:
    VERIFY_EMAIL = "verify_email"
    RESET_PASSWORD = "reset_password"  # noqa: S105 (a purpose name, not a password)
    INVITATION = "invitation"  # an admin-created account sets its first password
    ALL = (VERIFY_EMAIL, RESET_PASSWORD, INVITATION)


class User(Audited, UserMixin, db.Model):
    __tablename__ = "user_account"
    __audit_redact__ = frozenset({"password_hash"})
    __table_args__ = (
        sa.CheckConstraint("role IN ('admin', 'staff', 'supervisor', 'client', 'supplier')",
                           name="role_known"),
        # A supplier's account belongs to exactly one supplier; no other account to any.
        sa.CheckConstraint("(role = 'supplier' AND supplier_id IS NOT NULL) OR "
                           "(role != 'supplier' AND supplier_id IS NULL)",
                           name="supplier_account_has_supplier"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("locale IS NULL OR locale IN ('zh_Hans_CN', 'en')", name="locale_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    organisation: Mapped[str] = mapped_column(sa.String(200), default="")
    phone: Mapped[str] = mapped_column(sa.String(20), default="")
    role: Mapped[str] = mapped_column(sa.String(20), index=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped by logout, password change and deactivation: every older session stops working.
    session_epoch: Mapped[int] = mapped_column(default=0)
    locale: Mapped[str | None] = mapped_column(sa.String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A supplier account: its supplier, and the contact person it was created from (removing
    # the contact sets it to NULL: the account may still read its history but no longer act).
    supplier_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supplier.id", ondelete="RESTRICT"), index=True)
    supplier_contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("supplier_contact.id", ondelete="SET NULL"), unique=True)

    tokens: Mapped[list[UserToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    @property
    def is_staff(self) -> bool:
        """Bureau staff and admins run the back office."""
        return self.role in Role.BUREAU

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class UserToken(db.Model):
    """A one-time, expiring token; only its SHA-256 is stored."""

    __tablename__ = "user_token"
    __table_args__ = (
        sa.CheckConstraint(
            "purpose IN ('verify_email', 'reset_password', 'invitation')", name="purpose_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(20))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")


# Pages showing accounts (a client, an assignee, an attendee) name this scope.  What signing in,
# out and changing a password write is shown on no cached page (the reader's own session epoch
# is in the cache key): those updates leave the pages alone.
cache_scope("people", User, ignoring=("password_hash", "session_epoch", "last_login_at",
                                      "email_verified_at"))
