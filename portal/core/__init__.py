from flask import Blueprint
from flask_babel import lazy_gettext as _l

from .nav import init_nav as init_app  # noqa: F401  (create_app runs it)
from .nav import nav_item

bp = Blueprint("core", __name__)

nav_item("core.home", _l("Home"),
         ("anonymous", "client", "supervisor", "staff", "admin", "supplier"), order=0)

from . import views  # noqa: E402,F401
