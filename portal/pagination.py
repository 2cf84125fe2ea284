"""List pages paginate: one COUNT and one page of rows, whatever the table size."""

from __future__ import annotations

from flask import current_app, request

from .extensions import db


def paginate(stmt, per_page: int | None = None):
    page = request.args.get("page", 1, type=int) or 1
    return db.paginate(
        stmt, page=max(page, 1), per_page=per_page or current_app.config["PER_PAGE"],
        max_per_page=100, error_out=False,
    )
