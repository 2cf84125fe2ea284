from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, jsonify
from flask_login import current_user

from ..database import migration_revisions
from ..extensions import db, limiter
from ..htmx import render
from . import bp
from .dashboard import home_actions_for, tiles_for, work_for


@bp.route("/")
def home():
    if not current_user.is_authenticated:
        return render("core/home.html", tiles=[], actions=[], work=[])
    user = current_user._get_current_object()
    return render("core/home.html", work=work_for(user), tiles=tiles_for(user),
                  actions=home_actions_for(user))


@bp.route("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@bp.route("/readyz")
@limiter.exempt
def readyz():
    """Readiness for the load balancer: the database answers, Redis answers when configured,
    and the database is at this code's migration head.  200, or 503 naming what failed."""
    checks, ready = {}, True
    try:
        connection = db.session.connection()
        connection.execute(sa.text("SELECT 1"))
        current, heads = migration_revisions(connection)
        checks["database"] = "ok"
        if current == heads:
            checks["migrations"] = "ok"
        else:
            ready = False
            checks["migrations"] = (f"at {','.join(sorted(current)) or 'none'}, "
                                    f"head is {','.join(sorted(heads))}")
    except sa.exc.SQLAlchemyError:
        ready = False
        checks["database"] = checks["migrations"] = "unreachable"
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            _redis_client(redis_url).ping()
            checks["redis"] = "ok"
        except Exception:  # noqa: BLE001  (any failure to answer is "not ready")
            ready = False
            checks["redis"] = "unreachable"
    return jsonify(status="ok" if ready else "error", **checks), 200 if ready else 503


def _redis_client(url: str):
    """One small client per app (its connection pool is reused by the next probe)."""
    clients = current_app.extensions.setdefault("portal_readyz_redis", {})
    if url not in clients:
        import redis

        clients[url] = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
    return clients[url]
