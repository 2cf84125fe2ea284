"""Flask-Login wiring: sessions carry the user's session epoch, so bumping it ends them all."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager

from ..htmx import is_htmx


def init_login(app, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        user_id, _, epoch = session_id.partition(":")
        if not user_id.isdigit() or not epoch.isdigit():
            return None
        from ..notifications.services import load_user_with_unread

        # The user and the unread badge's count in one round trip (every page shows both).
        user = load_user_with_unread(int(user_id))
        if user is None or not user.active or user.session_epoch != int(epoch):
            return None
        return user

    @login_manager.unauthorized_handler
    def unauthorized():
        login_url = url_for("auth.login", next=request.full_path.rstrip("?"))
        if is_htmx():
            # An htmx request from a page whose session has ended: reload to the login page
            # with a message, never a blank swap.
            current = request.headers.get("HX-Current-URL", "")
            from urllib.parse import urlsplit

            from ..security import safe_next

            parts = urlsplit(current)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            flash(_l("Your session has expired. Please log in again."), "warning")
            response = app.make_response(("", 401))
            response.headers["HX-Redirect"] = url_for(
                "auth.login", next=safe_next(path, url_for("core.home"))
            )
            return response
        flash(_l("Please log in to see this page."), "info")
        return redirect(login_url)
