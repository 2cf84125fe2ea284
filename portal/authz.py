"""The one authorization layer every module uses.

* :func:`role_required` guards a view by role: anonymous users are sent to log in, a logged-in
  user of another role gets 403, except a supplier's account, which gets 404: to a supplier
  everything internal is indistinguishable from a page that does not exist (issue 15).
* Per-object checks answer 404 for records the user may not see, so another client's booking
  is indistinguishable from one that does not exist.  Models that hold users' records define
  ``visible_to(user)``: a SQL condition, so the check is part of the one query that loads it.
"""

from __future__ import annotations

import logging
from functools import wraps

import sqlalchemy as sa
from flask import abort, request
from flask_login import current_user, login_required

from .extensions import db
from .roles import Role

security_log = logging.getLogger("portal.security")


class Reader:
    """The reader as the models' ``visible_to`` rules see it while a statement is built: the
    role, which decides a rule's shape, and the id as a bound parameter, so that one statement
    serves every reader of a role (the global search, the venue grid: building statements per
    request cost more than running them).  A rule that needs another attribute of the user
    fails here, loudly."""

    is_authenticated = True
    id = sa.bindparam("reader_id", type_=sa.Integer)
    supplier_id = sa.bindparam("reader_supplier_id", type_=sa.Integer)  # a supplier's account

    def __init__(self, role: str):
        self.role = role


def log_denied(reason: str) -> None:
    user = current_user.email if current_user.is_authenticated else "anonymous"
    security_log.warning(
        "access denied: %s %s by %s from %s (%s)",
        request.method, request.path, user, request.remote_addr, reason,
    )


def role_required(*roles: str):
    """Allow only logged-in users with one of ``roles``."""
    unknown = set(roles) - set(Role.ALL)
    if unknown:
        raise ValueError(f"unknown roles: {unknown}")

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                log_denied(f"role {current_user.role} not in {roles}")
                abort(denied_status(current_user))
            return view(*args, **kwargs)

        wrapped.portal_roles = roles  # read by the route-walk test
        return wrapped

    return decorator


def denied_status(user) -> int:
    """What a logged-in user refused by a role guard gets: 404 for a supplier's account (it
    must not learn which internal pages exist), 403 for every other role."""
    return 404 if user.role == Role.SUPPLIER else 403


staff_required = role_required(*Role.BUREAU)
admin_required = role_required(Role.ADMIN)


def visible_or_404(model, object_id, *options):
    """Load one record the current user may see, or answer 404."""
    stmt = sa.select(model).where(model.id == object_id)
    visible_to = getattr(model, "visible_to", None)
    if visible_to is not None:
        stmt = stmt.where(visible_to(current_user))
    if options:
        stmt = stmt.options(*options)
    obj = db.session.scalar(stmt)
    if obj is None:
        if visible_to is not None and db.session.get(model, object_id) is not None:
            log_denied(f"{model.__name__} {object_id} is not visible to this user")
        abort(404)
    return obj
