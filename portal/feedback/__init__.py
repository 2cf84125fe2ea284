from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

from . import (  # noqa: E402,F401
    by_place,
    dashboard,
    demo,
    models,
    qr,
    roster,
    scorecard,
    tasks,
    tiles,
    views,
)
