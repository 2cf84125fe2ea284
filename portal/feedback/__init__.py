from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

from . import models  # noqa: E402,F401
