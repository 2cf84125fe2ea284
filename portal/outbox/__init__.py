from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")


@bp.app_context_processor
def outbox_labels():
    from .models import status_label

    return {"outbox_status_label": status_label}


from . import views  # noqa: E402,F401
