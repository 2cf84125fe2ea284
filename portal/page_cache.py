"""Page cache with invalidation by data version: busy read pages served without re-rendering.

Each module declares the models its pages are drawn from as a *scope* (``cache_scope("bookings",
Booking, VenueSlot, ...)``); accounts are the ``people`` scope (``auth/models.py``).  A cached
page names every scope whose models it reads: the booking queue shows clients' names
("bookings", "people"), a feedback item its building ("rentals");
``tests/core/test_page_cache_scopes.py`` reads the SQL each cached page sends and fails when
a scope is missing.  A ``data_version`` row per scope holds a random token that the
transaction changing any of those models replaces, as the last statement before it commits
(so it never waits on that row while holding others: no deadlock between writers).  An update
counts unless it touches only columns no page shows (``ignoring=``: the password, session
epoch and last login that signing in and out write, so logins leave the cache alone).  Pages
decorated with :func:`cached_page` are cached under a key made of the request (path, query,
htmx headers), the reader (id, role, name, session epoch, locale), today's date and the
scopes' tokens: the next request after any change reads the new token and renders afresh, on
every worker, and a rolled-back change leaves the old token (random tokens never come back).

Also never stale for long: entries expire after ``PORTAL_PAGE_CACHE_SECONDS`` (60; Flask-Caching's
``CACHE_DEFAULT_TIMEOUT``), which bounds what depends on the clock alone (a session that has
begun drops out of the free-venue search).
Pages are cached with a placeholder for the CSRF token, filled with the reader's own token.
A request with messages waiting to be shown, or any non-GET, bypasses the cache.

``PORTAL_PAGE_CACHE_HEADER=1`` (off by default; ``make bench`` turns it on for its own server)
makes each cached page say ``X-Page-Cache: hit``, ``miss`` or ``bypass``, from which the
benchmark's mixed-load phase counts the hit rate.  Off on a public server: it would tell an
anonymous visitor whether someone else opened the same page within the minute.

The store is Flask-Caching: Redis when ``PORTAL_REDIS_URL`` is set (shared by the workers),
else each process's memory.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from functools import wraps

import sqlalchemy as sa
from flask import current_app, g, make_response, request, session
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from .database import PortalSession
from .extensions import cache, db
from .i18n import local_today

CSRF_PLACEHOLDER = "\x00csrf\x00"
_SCOPES: dict[type, str] = {}
_TABLE_SCOPES: dict[str, str] = {}
_IGNORED: dict[type, frozenset[str]] = {}
_KEPT_HEADERS = ("HX-Trigger", "HX-Push-Url", "HX-Retarget", "HX-Reswap", "Content-Disposition",
                 "Cache-Control")
_CACHEABLE = {"text/html", "text/csv",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class DataVersion(db.Model):
    __tablename__ = "data_version"

    scope: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32))


def cache_scope(scope: str, *models: type, ignoring: tuple[str, ...] = ()) -> None:
    """Register the models whose changes invalidate the pages cached under ``scope``.

    ``ignoring`` names columns no page shows: an update of only those leaves the token alone.
    """
    for model in models:
        _SCOPES[model] = scope
        _TABLE_SCOPES[model.__table__.name] = scope
        if ignoring:
            _IGNORED[model] = frozenset(ignoring)


def scope_of_model(model: type) -> str | None:
    """The scope whose token a change of ``model`` replaces (None: no cached page shows it)."""
    for cls in model.__mro__:
        if cls in _SCOPES:
            return _SCOPES[cls]
    return None


def _shown_change(instance) -> bool:
    """An updated record changed a column that pages may show (history is still there in
    after_flush)."""
    ignored = _IGNORED.get(type(instance))
    if not ignored:
        return True
    state = sa.inspect(instance)
    return any(state.attrs[attr.key].history.has_changes()
               for attr in state.mapper.column_attrs if attr.key not in ignored)


@event.listens_for(PortalSession, "after_flush")
def _note_changed_scopes(session, flush_context) -> None:
    changed = {scope_of_model(type(obj)) for obj in (*session.new, *session.deleted)}
    changed |= {scope_of_model(type(obj)) for obj in session.dirty if _shown_change(obj)}
    changed.discard(None)
    if changed:
        session.info.setdefault("changed_scopes", set()).update(changed)


@event.listens_for(PortalSession, "do_orm_execute")
def _note_bulk_statements(state) -> None:
    """ORM-enabled bulk UPDATE/DELETE (no flush) change their table's scope too."""
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        scope = _TABLE_SCOPES.get(getattr(table, "name", ""))
        if scope:
            state.session.info.setdefault("changed_scopes", set()).add(scope)


@event.listens_for(PortalSession, "before_commit")
def _replace_tokens(session) -> None:
    changed = session.info.pop("changed_scopes", None)
    if not changed:
        return
    session.flush()  # changes pending at commit time count too
    changed |= session.info.pop("changed_scopes", set())
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    table = DataVersion.__table__
    for scope in sorted(changed):  # a fixed order: two committing writers never deadlock
        token = secrets.token_hex(16)
        # An upsert: a scope without its row yet gets one.
        connection.execute(insert(table).values(scope=scope, token=token).on_conflict_do_update(
            index_elements=[table.c.scope], set_={"token": token}))


@event.listens_for(PortalSession, "after_rollback")
def _forget_scopes(session) -> None:
    session.info.pop("changed_scopes", None)


def tokens(scopes: tuple[str, ...]) -> tuple[str, ...]:
    """The scopes' current tokens (one query); '' for a scope never changed."""
    rows = dict(db.session.execute(
        sa.select(DataVersion.scope, DataVersion.token).where(DataVersion.scope.in_(scopes))
    ).all())
    return tuple(rows.get(scope, "") for scope in scopes)


def _key(scopes: tuple[str, ...]) -> str:
    if current_user.is_authenticated:
        who = (current_user.id, current_user.role, current_user.name, current_user.session_epoch)
    else:
        who = ("anonymous",)
    headers = tuple(request.headers.get(name, "") for name in
                    ("HX-Request", "HX-Target", "HX-Boosted", "HX-History-Restore-Request"))
    parts = (request.full_path, headers, who, str(get_locale()), local_today().isoformat(),
             tokens(scopes))
    return "page:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _said(response, outcome: str):
    """``X-Page-Cache: hit|miss|bypass`` when ``PAGE_CACHE_HEADER`` is on (the benchmark)."""
    if current_app.config.get("PAGE_CACHE_HEADER"):
        response.headers["X-Page-Cache"] = outcome
    return response


def cached_page(*scopes: str) -> Callable:
    """Serve a GET page from the cache while its scopes' data has not changed (see above).

    Put it below the access decorators, so that every request is still checked.
    """
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_app.config.get("PAGE_CACHE", True):
                return view(*args, **kwargs)
            if request.method != "GET" or session.get("_flashes"):
                return _said(make_response(view(*args, **kwargs)), "bypass")
            key = _key(scopes)
            hit = cache.get(key)
            if hit is not None:
                body, mimetype, headers = hit
                if isinstance(body, str):
                    body = body.replace(CSRF_PLACEHOLDER, generate_csrf())
                response = make_response(body)
                response.mimetype = mimetype
                response.headers.update(headers)
                return _said(response, "hit")
            response = _said(make_response(view(*args, **kwargs)), "miss")
            if (response.status_code == 200 and response.mimetype in _CACHEABLE
                    and not response.direct_passthrough and not session.get("_flashes")):
                if response.mimetype == "text/html":
                    body = response.get_data(as_text=True)
                    token = g.get("csrf_token")
                    if token:
                        body = body.replace(token, CSRF_PLACEHOLDER)
                else:
                    body = response.get_data()
                headers = {name: response.headers[name] for name in _KEPT_HEADERS
                           if name in response.headers}
                cache.set(key, (body, response.mimetype, headers))  # CACHE_DEFAULT_TIMEOUT
            return response
        wrapper.cache_scopes = scopes  # read by the tests: every cached page, its scopes
        return wrapper
    return decorator
