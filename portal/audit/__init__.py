from flask import Blueprint

bp = Blueprint("audit", __name__, url_prefix="/admin/audit")


@bp.app_context_processor
def audit_labels():
    from .models import action_label

    return {"audit_action_label": action_label}


from . import views  # noqa: E402,F401
