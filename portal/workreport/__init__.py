"""The half-year work report (上半年/年度工作总结, issue 14): the figures every module already
reports, for any period, beside the previous period and the same period a year before, as
the sections of the bureau's summary.

The package sits above every module (``tests/test_import_graph.py``): it reads the modules'
own report functions and no module imports it.
"""

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..core.nav import nav_item

bp = Blueprint("workreport", __name__, url_prefix="/work-report")

nav_item("workreport.report", _l("Work report"), ("staff", "admin"), order=90)

from . import demo, exports, models, views  # noqa: E402,F401
