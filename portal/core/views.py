from __future__ import annotations

import sqlalchemy as sa
from flask import jsonify
from flask_login import current_user

from ..extensions import db, limiter
from ..htmx import render
from . import bp
from .dashboard import tiles_for


@bp.route("/")
def home():
    tiles = tiles_for(current_user) if current_user.is_authenticated else []
    return render("core/home.html", tiles=tiles)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
