from flask import Blueprint
from flask_babel import lazy_gettext as _l

from ..core.nav import nav_item

bp = Blueprint("bookings", __name__, url_prefix="/venues")

ALL = ("anonymous", "client", "supervisor", "staff", "admin")
nav_item("bookings.venues", _l("Venues"), ALL, order=10)
nav_item("bookings.mine", _l("My bookings"), ("client",), order=11)
nav_item("bookings.waitlist_mine", _l("My waitlist"), ("client",), order=11)
nav_item("bookings.queue", _l("Booking requests"), ("staff", "admin"), order=12)

from . import calendars, demo, documents, reports, tasks, venues, views, waitlist_views, work  # noqa: E402,F401
