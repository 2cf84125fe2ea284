from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

# The models first: they import the suppliers' models, which every mapper needs before any
# module (by_place → rentals) configures the mappers with its module-level loader options.
from . import models  # noqa: E402,F401,I001
from . import (  # noqa: E402,F401
    by_place,
    dashboard,
    demo,
    qr,
    roster,
    scorecard,
    tasks,
    tiles,
    views,
)
