from flask import Blueprint

bp = Blueprint("rentals", __name__, url_prefix="/rentals")

from . import demo, inventory, leases, models, photos, reports, tasks, tiles, views  # noqa: E402,F401
