from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify
from flask_login import current_user

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
