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
from sqlalchemy.orm import MANYTOONE

from ..database import PortalSession, unsaved_bookkeeping, utcnow
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
    # The lifecycle columns: a change of one is a status step ("status" action) in the trail.
    __audit_status__: tuple[str, ...] = ("status",)

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


def _created_values(obj) -> dict:
    state = inspect(obj)
    changes = {}
    for attr in state.mapper.column_attrs:
        value = getattr(obj, attr.key)
        if value is not None:
            redact = attr.key in obj.__audit_redact__
            changes[attr.key] = [None, REDACTED if redact else _jsonable(value)]
    return changes


def _updated_values(session, obj) -> dict:
    """Changed columns as {field: [old, new]}.

    A service's write transaction starts by expiring what the request had loaded, so an old
    value is often not in memory; it is read from the row (still unchanged before the flush).
    """
    state = inspect(obj)
    mapper = state.mapper
    changed, unknown_old = {}, []
    for attr in mapper.column_attrs:
        history = state.attrs[attr.key].history
        if not history.added:
            continue
        new = history.added[0]
        if history.deleted:
            changed[attr.key] = [history.deleted[0], new]
        else:
            changed[attr.key] = [None, new]
            unknown_old.append(attr)
    # A many-to-one set through its relationship (booking.venue = other) changes the foreign
    # key only during the flush; describe it as the change of that column.
    for relation in mapper.relationships:
        if relation.direction is not MANYTOONE:
            continue
        history = state.attrs[relation.key].history
        if not history.added or len(relation.local_remote_pairs) != 1:
            continue
        local, remote = relation.local_remote_pairs[0]
        attr = mapper.get_property_by_column(local)
        if attr.key in changed:
            continue
        target = history.added[0]
        new = None if target is None else getattr(
            target, inspect(target).mapper.get_property_by_column(remote).key)
        changed[attr.key] = [None, new]
        unknown_old.append(attr)
    if unknown_old:
        key = mapper.primary_key_from_instance(obj)
        where = [column == value for column, value in zip(mapper.primary_key, key, strict=True)]
        with session.no_autoflush:
            row = session.execute(
                sa.select(*[attr.columns[0] for attr in unknown_old]).where(*where)
            ).one_or_none()
        if row is not None:
            for attr, old in zip(unknown_old, row, strict=True):
                changed[attr.key][0] = old
    changes = {}
    for field, (old, new) in changed.items():
        if old == new:
            continue
        if field in obj.__audit_redact__:
            changes[field] = [REDACTED, REDACTED]
        else:
            changes[field] = [_jsonable(old), _jsonable(new)]
    return changes


def _identity(obj) -> str:
    # Read from the instance: during the flush a new object has its key but no identity yet.
    key = inspect(obj).mapper.primary_key_from_instance(obj)
    return ",".join(str(part) for part in key)


@unsaved_bookkeeping
def _holds_pending_audit_rows(session) -> bool:
    return bool(session.info.get("audit_pending"))


@event.listens_for(PortalSession, "before_flush")
def _audit_before_flush(session, flush_context, instances) -> None:
    """Updates and deletes are described before the flush, while the rows are unchanged."""
    pending = session.info.setdefault("audit_pending", [])
    for obj in session.dirty:
        if isinstance(obj, Audited) and session.is_modified(obj, include_collections=False):
            changes = _updated_values(session, obj)
            if changes:
                action = (AuditAction.STATUS if any(column in changes for column in
                                                    obj.__audit_status__)
                          else AuditAction.UPDATE)
                pending.append((action, obj.audit_type(), _identity(obj), changes))
    for obj in session.deleted:
        if isinstance(obj, Audited):
            with session.no_autoflush:
                snapshot = {key: [old, None] for key, (_none, old) in
                            _created_values(obj).items()}
            pending.append((AuditAction.DELETE, obj.audit_type(), _identity(obj), snapshot))


@event.listens_for(PortalSession, "after_flush")
def _audit_after_flush(session, flush_context) -> None:
    """Creates are described after the flush, when their keys exist; then all rows are written."""
    rows = session.info.pop("audit_pending", [])
    for obj in session.new:
        if isinstance(obj, Audited):
            rows.append((AuditAction.CREATE, obj.audit_type(), _identity(obj),
                         _created_values(obj)))
    if not rows:
        return
    actor_id, actor_label = _current_actor()
    # Work done by the CLI or cron runs in a made-up request: it has no address of its own.
    real_request = has_request_context() and _actor_override.get() is None
    request_id = g.get("request_id") if real_request else None
    ip_address = request.remote_addr if real_request else None
    now = utcnow()
    session.connection().execute(
        sa.insert(AuditLog),
        [
            {
                "created_at": now,
                "actor_id": actor_id,
                "actor_label": actor_label,
                "action": action,
                "object_type": object_type,
                "object_id": object_id,
                "changes": changes,
                "request_id": request_id,
                "ip_address": ip_address,
            }
            for action, object_type, object_id, changes in rows
        ],
    )


@event.listens_for(PortalSession, "do_orm_execute")
def _no_unaudited_bulk_changes(state) -> None:
    """Bulk UPDATE/DELETE would bypass the trail: refused for audited models."""
    if not (state.is_update or state.is_delete):
        return
    for mapper in state.all_mappers:
        if issubclass(mapper.class_, Audited):
            raise RuntimeError(
                f"bulk {'update' if state.is_update else 'delete'} of {mapper.class_.__name__} "
                "would not be audited; change the objects instead"
            )


@event.listens_for(PortalSession, "after_rollback")
def _audit_forget(session) -> None:
    session.info.pop("audit_pending", None)


def history_for(obj, limit: int = 50, show_routine: bool = False):
    """The latest changes of one record in plain language, newest first (for the reusable
    history block); login bookkeeping is left out unless ``show_routine``."""
    from .vocabulary import describe_rows, routine_condition

    stmt = (
        sa.select(AuditLog)
        .where(AuditLog.object_type == obj.audit_type(), AuditLog.object_id == _identity(obj))
        .order_by(AuditLog.id.desc())
        .limit(limit)
    )
    if not show_routine:
        stmt = stmt.where(sa.not_(routine_condition()))
    return describe_rows(list(db.session.scalars(stmt)), show_routine=show_routine)


def search_stmt(object_type=None, object_id=None, actor=None, action=None, since=None, until=None,
                show_routine=False):
    """The admin page's filtered query, newest first; login bookkeeping only when asked."""
    from .vocabulary import routine_condition

    stmt = sa.select(AuditLog).order_by(AuditLog.id.desc())
    if not show_routine:
        stmt = stmt.where(sa.not_(routine_condition()))
    if object_type:
        stmt = stmt.where(AuditLog.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditLog.object_id == str(object_id))
    if actor:
        from ..auth.models import User  # the accounts module is itself audited

        stmt = stmt.where(sa.or_(
            AuditLog.actor_label.ilike(f"%{actor}%"),
            AuditLog.actor_id.in_(sa.select(User.id).where(User.name.ilike(f"%{actor}%")))))
    if action:
        stmt = stmt.where(AuditLog.action == action)
    if since:
        stmt = stmt.where(AuditLog.created_at >= since)
    if until:
        stmt = stmt.where(AuditLog.created_at < until)
    return stmt


def object_types() -> list[tuple[str, str]]:
    """(audit type, what the reader calls it) of every audited model, by name."""
    from .vocabulary import type_label

    return sorted(((mapper.class_.audit_type(), type_label(mapper.class_.audit_type()))
                   for mapper in db.Model.registry.mappers
                   if issubclass(mapper.class_, Audited)), key=lambda pair: pair[1])
