from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

from . import by_place, catalogue, dashboard, demo, models, roster, tasks, tiles, views  # noqa: E402,F401
