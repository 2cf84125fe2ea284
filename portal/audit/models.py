"""The append-only audit trail.

Rows are written by :mod:`portal.audit.services` in the same flush (so the same transaction)
as the change they describe; database triggers refuse any UPDATE or DELETE of them.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, utcnow
from ..extensions import db


class AuditAction:
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    STATUS = "status"  # an update whose changes include the record's status
    ALL = (CREATE, UPDATE, DELETE, STATUS)


def action_label(action: str):
    return {
        AuditAction.CREATE: lazy_pgettext("audit action", "Created"),
        AuditAction.UPDATE: _l("Changed"),
        AuditAction.DELETE: _l("Deleted"),
        AuditAction.STATUS: _l("Status changed"),
    }.get(action, action)


class AuditLog(db.Model):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_object", "object_type", "object_id"),
        sa.CheckConstraint(
            "action IN ('create', 'update', 'delete', 'status')", name="action_known"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # No foreign key: the trail must outlive whatever it describes, users included.
    actor_id: Mapped[int | None] = mapped_column(index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(200), default="")
    action: Mapped[str] = mapped_column(sa.String(10))
    object_type: Mapped[str] = mapped_column(sa.String(50))
    object_id: Mapped[str] = mapped_column(sa.String(50))
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    ip_address: Mapped[str | None] = mapped_column(sa.String(64))
