from flask import Blueprint

bp = Blueprint("rentals", __name__, url_prefix="/rentals")

from . import models, views  # noqa: E402,F401
