"""Write audit rows for every change of an :class:`Audited` record, in the same transaction.

Models opt in by inheriting :class:`Audited`.  One ``after_flush`` hook sees every insert,
update and delete the session sends to the database and writes one ``audit_log`` row for
each, with the changed fields' old and new values, so no module writes audit code of its own.
"""

from __future__ import annotations

import enum
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import g, has_request_context, request
from sqlalchemy import event, inspect

from ..database import PortalSession, utcnow
from ..extensions import db
from .models import AuditAction, AuditLog

REDACTED = "***"
_actor_override: ContextVar[tuple[int | None, str] | None] = ContextVar(
    "portal_audit_actor", default=None
)


class Audited:
    """Mixin: every create, update, delete and status change of this model is audited.

    ``__audit_redact__`` names fields whose values are never written (password hashes).
    """

    __audit_redact__: frozenset[str] = frozenset()

    @classmethod
    def audit_type(cls) -> str:
        return cls.__tablename__


@contextmanager
def acting_as(actor_id: int | None, label: str):
    """Attribute changes made outside a request (CLI, cron) to a named actor."""
    token = _actor_override.set((actor_id, label))
    try:
        yield
    finally:
        _actor_override.reset(token)


def _jsonable(value):
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def _current_actor() -> tuple[int | None, str]:
    override = _actor_override.get()
    if override is not None:
        return override
    if has_request_context():
        user = g.get("_login_user")
        if user is not None and getattr(user, "is_authenticated", False):
            return user.id, user.email
        return None, "anonymous"
    return None, "system"


def _column_changes(obj, include_unchanged: bool) -> dict:
    state = inspect(obj)
    changes = {}
    for attr in state.mapper.column_attrs:
        key = attr.key
        history = state.attrs[key].history
        redact = key in obj.__audit_redact__
        if include_unchanged:
            value = getattr(obj, key)
            if value is not None:
                changes[key] = [None, REDACTED if redact else _jsonable(value)]
        elif history.has_changes():
            old = history.deleted[0] if history.deleted else None
            new = history.added[0] if history.added else None
            if old == new:
                continue
            changes[key] = [REDACTED, REDACTED] if redact else [_jsonable(old), _jsonable(new)]
    return changes


def _identity(obj) -> str:
    # Read from the instance: during the flush a new object has its key but no identity yet.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join(str(part) for part in key)


@event.listens_for(PortalSession, "after_flush")
def _audit_after_flush(session, flush_context) -> None:
    rows = []
    for obj in session.new:
        if isinstance(obj, Audited):
            rows.append((AuditAction.CREATE, obj, _column_changes(obj, include_unchanged=True)))
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            changes = _column_changes(obj, include_unchanged=False)
            if changes:
                action = AuditAction.STATUS if "status" in changes else AuditAction.UPDATE
                rows.append((action, obj, changes))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            rows.append((AuditAction.DELETE, obj, {}))
    if not rows:
        return
    actor_id, actor_label = _current_actor()
    request_id = g.get("request_id") if has_request_context() else None
    ip_address = request.remote_addr if has_request_context() else None
    now = utcnow()
    session.connection().execute(
        sa.insert(AuditLog),
        [
            {
                "created_at": now,
                "actor_id": actor_id,
                "actor_label": actor_label,
                "action": action,
                "object_type": obj.audit_type(),
                "object_id": _identity(obj),
                "changes": changes,
                "request_id": request_id,
                "ip_address": ip_address,
            }
            for action, obj, changes in rows
        ],
    )


def history_for(obj, limit: int = 50) -> list[AuditLog]:
    """The latest audit rows of one record, newest first (for the reusable history block)."""
    stmt = (
        sa.select(AuditLog)
        .where(AuditLog.object_type == obj.audit_type(), AuditLog.object_id == _identity(obj))
        .order_by(AuditLog.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def search_stmt(object_type=None, object_id=None, actor=None, action=None, since=None, until=None):
    """The admin page's filtered query, newest first."""
    stmt = sa.select(AuditLog).order_by(AuditLog.id.desc())
    if object_type:
        stmt = stmt.where(AuditLog.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditLog.object_id == str(object_id))
    if actor:
        stmt = stmt.where(AuditLog.actor_label.ilike(f"%{actor}%"))
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if since:
        stmt = stmt.where(AuditLog.created_at >= since)
    if until:
        stmt = stmt.where(AuditLog.created_at < until)
    return stmt


def object_types() -> list[str]:
    return sorted(
        mapper.class_.audit_type()
        for mapper in db.Model.registry.mappers
        if issubclass(mapper.class_, Audited)
    )
