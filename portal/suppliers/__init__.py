from flask import Blueprint

bp = Blueprint("suppliers", __name__, url_prefix="/suppliers")


@bp.app_template_filter("names")
def _names(items):
    from ..lists import join_names

    return join_names(items)


from ..catalogue import models as _catalogue  # noqa: E402,F401  (ServiceCategory)
from . import models, scorecard, tasks, views  # noqa: E402,F401
