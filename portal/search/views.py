"""The results page (works without JavaScript), the header box's suggestions and the
``flask search reindex`` command."""

from __future__ import annotations

import click
from flask import request
from flask_login import current_user, login_required

from ..database import write_transaction
from ..extensions import db
from ..htmx import render
from ..page_cache import cached_page
from . import bp, services
from .sources import BY_KEY

MAX_PAGE = 1000
# Everything a search reads: the index and the records its hits are joined to.  The cache key
# holds the reader, the query and these scopes' tokens, so a change to any record renders the
# results afresh (the index changes in the same transaction as the record).
SCOPES = ("search", "bookings", "feedback", "suppliers", "rentals", "meetings", "people")


def _query() -> str:
    return request.args.get("q", "")


@bp.route("")
@login_required
@cached_page(*SCOPES)
def index():
    """All modules, ``PAGE_LIMIT`` hits each; or one module (``module=``), paginated."""
    text = _query()
    module = request.args.get("module", "")
    module = module if module in BY_KEY else None
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)
    limit = services.MODULE_PAGE if module else services.PAGE_LIMIT
    groups = services.search(current_user, text, module=module, limit=limit, page=page)
    return render("search/index.html", "results", q=text, module=module, page=page,
                  groups=groups, too_short=_too_short(text))


@bp.route("/suggest")
@login_required
@cached_page(*SCOPES)
def suggest():
    """The header box's as-you-type results (a fragment for htmx)."""
    text = _query()
    groups = services.search(current_user, text, limit=services.SUGGEST_LIMIT)
    return render("search/_suggestions.html", q=text, groups=groups,
                  too_short=_too_short(text))


def _too_short(text: str) -> bool:
    return 0 < len(services.normalise(text)) < services.MIN_LENGTH


@bp.cli.command("reindex")
@click.option("--stale-only", is_flag=True,
              help="Only the modules whose entries do not number their records.")
def reindex_command(stale_only):
    """Rebuild the search index from the records (after bulk loads that bypass the ORM)."""
    with write_transaction():
        conn = db.session.connection()
        sources = services.stale_sources(conn) if stale_only else services.SOURCES
        counts = services.reindex(conn, sources)
    for key, count in counts.items():
        click.echo(f"{key:<10} {count}")
    if not counts:
        click.echo("the index is up to date")
