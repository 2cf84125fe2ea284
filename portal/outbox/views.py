from __future__ import annotations

from flask import flash, request, url_for
from flask_babel import gettext as _

from ..authz import admin_required, visible_or_404
from ..errors import NotAllowed
from ..htmx import redirect_to, render
from ..pagination import paginate
from . import bp, services
from .masking import MASK
from .models import OutboxMessage, OutboxStatus


@bp.route("/")
@admin_required
def index():
    status = request.args.get("status", "")
    if status not in OutboxStatus.ALL:
        status = ""
    recipient = request.args.get("recipient", "").strip()
    pager = paginate(services.list_stmt(status or None, recipient or None))
    return render("outbox/index.html", "results", pager=pager, status_filter=status,
                  recipient=recipient, statuses=OutboxStatus.ALL,
                  smtp_configured=services.smtp_configured())


@bp.route("/<int:message_id>")
@admin_required
def detail(message_id: int):
    message = visible_or_404(OutboxMessage, message_id)
    return render("outbox/detail.html", message=message, masked_mark=MASK)


@bp.route("/<int:message_id>/retry", methods=["POST"])
@admin_required
def retry(message_id: int):
    message = visible_or_404(OutboxMessage, message_id)
    try:
        services.retry(message)
    except NotAllowed as error:
        flash(error.message, "danger")
    else:
        flash(_("The message will be sent again."), "success")
    return redirect_to(url_for("outbox.detail", message_id=message.id))
