from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

from . import dashboard, demo, models, roster, scorecard, tasks, tiles, views  # noqa: E402,F401
