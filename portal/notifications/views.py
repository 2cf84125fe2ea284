from __future__ import annotations

from flask import flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..authz import visible_or_404
from ..htmx import is_htmx, redirect_to, render, trigger
from ..pagination import paginate
from . import bp, render_badge, services
from .forms import preferences_form
from .kinds import kinds_for
from .models import Notification

CHANGED = "inbox-changed"  # the badge listens for it


@bp.route("/")
@login_required
def index():
    pager = paginate(services.list_stmt(current_user))
    return render("notifications/index.html", "results", pager=pager)


@bp.route("/badge")
@login_required
def badge():
    """The badge's link with the unread count, for htmx to refresh (never cached)."""
    response = make_response(render_badge())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notification(notification_id: int):
    """Mark it read and go to its record (or back to the inbox when it links nowhere)."""
    notification = visible_or_404(Notification, notification_id)
    services.mark_read(notification)
    return redirect_to(notification.link or url_for("notifications.index"))


@bp.route("/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int):
    notification = visible_or_404(Notification, notification_id)
    services.mark_read(notification)
    if is_htmx():
        response = render("notifications/_item.html", notification=notification)
        return trigger(response, CHANGED)
    return redirect_to(url_for("notifications.index",
                               page=request.form.get("page", 1, type=int)))


@bp.route("/read-all", methods=["POST"])
@login_required
def read_all():
    services.mark_all_read(current_user)
    flash(_("All messages are marked as read."), "success")
    return redirect_to(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    kinds = kinds_for(current_user.role)
    form = preferences_form(kinds, services.email_preferences(current_user))
    if form.validate_on_submit():
        services.save_email_preferences(
            current_user, {kind.template: form[kind.template].data for kind in kinds})
        flash(_("Your email preferences are saved."), "success")
        return redirect_to(url_for("notifications.preferences"))
    status = 422 if request.method == "POST" else 200
    return render("notifications/preferences.html", "preferences_form", status=status,
                  form=form, kinds=kinds)
