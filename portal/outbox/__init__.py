from flask import Blueprint

bp = Blueprint("outbox", __name__, url_prefix="/admin/outbox")


@bp.app_context_processor
def outbox_labels():
    from .models import status_label

    return {"outbox_status_label": status_label}


@bp.app_template_filter("outbox_text")
def outbox_text(text: str):
    """A message's text as the outbox pages show it: one-time tokens masked."""
    from .masking import mail_text

    return mail_text(text)


@bp.app_template_filter("outbox_masked")
def outbox_masked(text: str) -> str:
    from .masking import mask_tokens

    return mask_tokens(text or "")


from . import views  # noqa: E402,F401
