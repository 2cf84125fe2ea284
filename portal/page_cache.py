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

Finer keys (README, "Invalidation that follows the data"): a model may name, per changed row,
the keys of its scope that the change touches (``cache_scope(..., keys={Booking: fn})``: a
venue's day, a feedback item, a survey round...), and a page may follow, for a module, only the
keys it reads (``cached_page(bookings=lambda venue_id: [...])``) plus that module's *shared*
key, which changes of models without keys (and bulk statements) replace.  Keys are versions in
the same table, replaced by the same hook, so they hold on every worker; every change still
replaces its whole scope, which the pages spanning a module (reports, search) read.  The
stored figures of closed periods (``portal/stored_figures.py``) follow the same tokens: a
stored result is used while the keys of its period's data still hold the tokens it was
computed under.

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

from .database import PortalSession, unsaved_bookkeeping
from .extensions import cache, db
from .i18n import local_today

CSRF_PLACEHOLDER = "\x00csrf\x00"
_SCOPES: dict[type, str] = {}
_TABLE_SCOPES: dict[str, str] = {}
_IGNORED: dict[type, frozenset[str]] = {}
_KEYS: dict[type, Callable] = {}
KEY_LENGTH = 40  # DataVersion.scope
_KEPT_HEADERS = ("HX-Trigger", "HX-Push-Url", "HX-Retarget", "HX-Reswap", "Content-Disposition",
                 "Cache-Control")
_CACHEABLE = {"text/html", "text/csv",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


class DataVersion(db.Model):
    __tablename__ = "data_version"

    scope: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(32))


def cache_scope(scope: str, *models: type, ignoring: tuple[str, ...] = (),
                keys: dict[type, Callable] | None = None) -> None:
    """Register the models whose changes invalidate the pages cached under ``scope``.

    ``ignoring`` names columns no page shows: an update of only those leaves the token alone.
    ``keys`` gives a model the finer keys a changed row of it replaces besides ``scope``: a
    function of the row and the session returning keys that begin with ``scope + ":"`` (it is
    called with the row as written and with the row as it was, see :class:`_Before`).  A model
    without one replaces ``scope:shared``, which every page cached by finer keys of ``scope``
    reads too.
    """
    for model in models:
        _SCOPES[model] = scope
        _TABLE_SCOPES[model.__table__.name] = scope
        if ignoring:
            _IGNORED[model] = frozenset(ignoring)
    for model, function in (keys or {}).items():
        assert _SCOPES.get(model) == scope, f"{model.__name__} is not in the scope {scope}"
        _KEYS[model] = function


def shared_key(scope: str) -> str:
    """The key of a module's data that every one of its finely keyed pages shows (venues,
    categories...): replaced by a change of a model without finer keys, or a bulk statement."""
    return f"{scope}:shared"


def key(scope: str, *parts: object) -> str:
    """A finer key of ``scope`` (``key("bookings", "venue", 3, day)``); one too long for its
    column is shortened to a digest, still unique in practice."""
    text = ":".join((scope, *(str(part) for part in parts)))
    if len(text) > KEY_LENGTH:
        digest = hashlib.sha256(text.encode()).hexdigest()
        text = f"{scope}:#" + digest[:KEY_LENGTH - len(scope) - 2]
    return text


class _Before:
    """A changed row as it was before this flush: a column or relationship that the flush
    changed reads its previous value (a collection: the members it had), any other attribute
    the row's own.  A moved booking slot thus names the day it left as well as the day it
    took."""

    def __init__(self, row) -> None:
        self._row = row
        self._state = sa.inspect(row)

    def __getattr__(self, name: str):
        attr = self._state.attrs.get(name) if name in self._state.mapper.attrs else None
        if attr is not None:
            history = attr.history
            if history.deleted:
                relation = self._state.mapper.relationships.get(name)
                if relation is not None and relation.uselist:
                    return [*history.unchanged, *history.deleted]
                return history.deleted[0]
        return getattr(self._row, name)


def _keys_of(session, row, scope: str) -> set[str]:
    """The keys a change of ``row`` replaces: its scope, and its finer keys as written and as
    it was (or its scope's shared key)."""
    function = next((_KEYS[cls] for cls in type(row).__mro__ if cls in _KEYS), None)
    if function is None:
        return {scope, shared_key(scope)}
    keys = {scope}
    with session.no_autoflush:  # a key function may read a related row
        for version in (row, _Before(row)):
            keys.update(function(version, session))
    assert all(k.startswith(scope + ":") for k in keys - {scope}), (scope, keys)
    return keys


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


@unsaved_bookkeeping
def _holds_changed_scopes(session) -> bool:
    return bool(session.info.get("changed_scopes"))


@event.listens_for(PortalSession, "after_flush")
def _note_changed_scopes(session, flush_context) -> None:
    rows = [*session.new, *session.deleted,
            *(obj for obj in session.dirty if _shown_change(obj))]
    changed: set[str] = set()
    for row in rows:
        scope = scope_of_model(type(row))
        if scope is not None:
            changed |= _keys_of(session, row, scope)
    if changed:
        session.info.setdefault("changed_scopes", set()).update(changed)


@event.listens_for(PortalSession, "do_orm_execute")
def _note_bulk_statements(state) -> None:
    """ORM-enabled bulk UPDATE/DELETE (no flush) change their table's scope too, and (which
    rows they touch being unknown here) every page of it: the shared key."""
    if state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        scope = _TABLE_SCOPES.get(getattr(table, "name", ""))
        if scope:
            state.session.info.setdefault("changed_scopes", set()).update(
                {scope, shared_key(scope)})


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
    token = secrets.token_hex(16)  # one new token for every key this commit changes
    # One upsert (a key without its row yet gets one), its rows in a fixed order: two
    # committing writers lock shared keys in the same order and never deadlock.
    statement = insert(table).values([{"scope": scope, "token": token}
                                      for scope in sorted(changed)])
    connection.execute(statement.on_conflict_do_update(
        index_elements=[table.c.scope], set_={"token": statement.excluded.token}))


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


def cached_page(*scopes: str, **finer: Callable[..., list[str]]) -> Callable:
    """Serve a GET page from the cache while its data has not changed (see above).

    ``scopes`` are the modules the page reads as a whole (any change of them renders it
    afresh); ``finer`` names, for a module, a function of the view's arguments (it may read
    ``request.args``) returning the finer keys of that module the page reads, e.g.
    ``bookings=lambda venue_id: [...]``: the page then follows only those keys and the module's
    shared key, see :func:`cache_scope`.
    Put it below the access decorators, so that every request is still checked.
    """
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_app.config.get("PAGE_CACHE", True):
                return view(*args, **kwargs)
            if request.method != "GET" or session.get("_flashes"):
                return _said(make_response(view(*args, **kwargs)), "bypass")
            read = list(scopes)
            for scope, keys_of in finer.items():
                read += [shared_key(scope), *keys_of(*args, **kwargs)]
            key = _key(tuple(read))
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
        # Read by the tests: every cached page, the modules it follows (wholly or by keys).
        wrapper.cache_scopes = (*scopes, *finer)
        wrapper.cache_keys = finer
        return wrapper
    return decorator
