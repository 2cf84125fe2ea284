from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")

from . import demo, views  # noqa: E402,F401
