from flask import Blueprint

bp = Blueprint("suppliers", __name__, url_prefix="/suppliers")

from ..feedback import models as _catalogue  # noqa: E402,F401  (ServiceCategory)
from . import models, scorecard, tasks, views  # noqa: E402,F401
