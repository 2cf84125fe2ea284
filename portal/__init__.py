"""Bureau Services Portal (机关事务服务门户)."""

from __future__ import annotations

import logging
from importlib import import_module
from pathlib import Path

from flask import Flask

from .config import check_production, load_config

ROOT = Path(__file__).resolve().parent.parent

# The packages that serve pages, registered in this order: each exposes ``bp`` (its blueprint)
# and may expose ``init_app(app)``, run just before.  Shared infrastructure first, then the
# modules (the vertical slices), lowest layer first; tests/test_import_graph.py holds the
# layering they keep.
MODULES = (
    "core", "auth", "audit", "outbox", "notifications",
    "admin", "bookings", "rentals", "catalogue", "suppliers", "feedback", "surveys", "meetings",
    "partners", "search", "workreport",
)


def create_app(config: dict | None = None) -> Flask:
    """Build the application; ``config`` overrides settings read from the environment."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.update(load_config(app.instance_path))
    if config:
        app.config.update(config)
        if "BASE_URL" in config:  # an address given in code is the address
            app.config["BASE_URL_FROM_REQUEST"] = config.get("BASE_URL_FROM_REQUEST", False)
    check_production({**app.config, "DEBUG": app.config.get("DEBUG") or app.debug})
    from .request_log import init_request_log, install_record_factory

    install_record_factory()
    if not app.config.get("TESTING"):
        # Every record carries the request id ("-" outside requests): portal/request_log.py.
        logging.basicConfig(
            level=logging.INFO,
            format="%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        )
        logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from .database import (  # also registers the SQLite engine events
        include_migration_name,
        init_read_transactions,
        render_migration_item,
    )
    from .extensions import babel, cache, csrf, db, limiter, migrate
    from .i18n import init_i18n, select_locale
    from .security import init_security

    db.init_app(app)
    init_read_transactions(app)  # after db: runs before the session's removal
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True,
                    render_as_batch=True, render_item=render_migration_item,
                    include_name=include_migration_name)
    csrf.init_app(app)
    limiter.init_app(app)
    cache.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    init_security(app)
    if app.config["PROXY_HOPS"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    init_i18n(app)
    from .urls import init_urls

    init_urls(app)

    # Models (alerts, stored figures) and the page cache's change events.
    from . import alerts, page_cache, stored_figures  # noqa: F401

    for name in MODULES:  # each package's blueprint, and its init hook if it has one
        module = import_module(f"{__name__}.{name}")
        init = getattr(module, "init_app", None)
        if init is not None:
            init(app)
        app.register_blueprint(module.bp)

    from .core.errors import init_error_handlers

    init_error_handlers(app)

    from .cli import init_cli

    init_cli(app)
    init_request_log(app)
    return app
