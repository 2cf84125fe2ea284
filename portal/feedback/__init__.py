from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

# The models first: they import the suppliers' and the bookings' models, so that a module
# importing rentals (whose pages build loader options, configuring every mapper) finds every
# class a relationship names, whichever test module imports the feedback package first.
from . import models  # noqa: E402,F401

# isort: split
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
