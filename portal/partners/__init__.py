"""The supplier channel (合作单位端): a supplier's own accounts answer the feedback transferred
to it and the action items agreed with it, and read its contracts, published minutes and
scorecard.  It sits above feedback and meetings (it uses both) and below search.
"""

from flask import Blueprint

bp = Blueprint("partners", __name__, url_prefix="/partner")

from . import demo, models, tiles, views  # noqa: E402,F401
