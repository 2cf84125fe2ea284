from flask import Blueprint

bp = Blueprint("rentals", __name__, url_prefix="/rentals")

from . import (  # noqa: E402,F401
    demo,
    inventory,
    leases,
    models,
    paperwork,
    photos,
    reports,
    tasks,
    tiles,
    views,
)
