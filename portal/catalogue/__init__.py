from flask import Blueprint

bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")

from . import forms, models, views  # noqa: E402,F401
