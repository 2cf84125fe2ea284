from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/auth")


def init_app(app) -> None:
    """Sessions: Flask-Login with the per-user session epoch (create_app runs it)."""
    from ..extensions import login_manager
    from .session import init_login

    init_login(app, login_manager)


from . import demo, views  # noqa: E402,F401
