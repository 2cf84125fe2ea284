"""Global search: one box in the header, results grouped by module (issue 13 item 3)."""

from flask import Blueprint

bp = Blueprint("search", __name__, url_prefix="/search")

from . import models, services, views  # noqa: E402,F401
