from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..core.nav import nav_item

bp = Blueprint("admin", __name__, url_prefix="/admin")

nav_item("admin.users", _l("Accounts"), ("admin",), order=90)
nav_item("audit.index", _l("Audit trail"), ("admin",), order=91)
nav_item("outbox.index", _l("Outbox"), ("admin",), order=92)

from . import tiles, views  # noqa: E402,F401
