"""The search index and the search itself.

* The index (:class:`SearchEntry`, with its grams :class:`SearchGram`) is kept in step by one
  ``after_flush`` hook, in the same transaction as the change (like the audit trail): the hook
  collects the records whose documents a flush made stale (each source's
  :class:`~.sources.Watch` list) and rewrites their entries from the database with the
  source's loader.  ``flask search reindex`` and migration 0020 rebuild it with the same
  loaders.
* A search runs one query (two for a query of three characters or more): for each module the
  user may open, the module's entries holding a gram of the query, newest first — a range
  scan of ``search_gram``'s primary key that stops at the first hits —, joined back to the
  module's table under the model's own ``visible_to`` predicate and capped (``UNION ALL`` of
  one capped branch per module).  Modules the user can see nothing of are left out.
* Matching is literal substring matching on the normalised text.  Two characters: the query is
  a gram, and the gram's entries are exactly the matches.  Three or more: per module, the gram
  of the query with the fewest of the module's entries (counted up to :data:`GRAM_PROBE`, one
  small query; a module lacking one of the grams is left out) drives, and ``strpos`` /
  ``instr`` on the text, which know no wildcards, keeps the exact matches.
"""

from __future__ import annotations

import contextlib
import functools
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy import event, inspect

from ..authz import Reader
from ..database import PortalSession, generic_plans
from ..extensions import db
from ..urls import record_url
from .models import SearchEntry, SearchGram
from .sources import BY_KEY, SOURCES, Doc, Source

MIN_LENGTH = 2  # one character would match most of the index
SUGGEST_LIMIT = 5  # per module, as you type
PAGE_LIMIT = 10  # per module, on the results page
MODULE_PAGE = 20  # one module's results, paginated
BATCH = 1000  # records per loader query when the whole index is rebuilt
GRAM_PROBE = 500  # a query's grams are counted up to this many entries per module
QUERY_GRAMS = 6  # at most this many of a long query's grams are counted
# Readers' filters that one plan serves for every reader and query.  These are small whoever
# reads: the public venues (200 at most), a tenant's own record and leases (the account's one
# tenant, by a unique index).
ONE_PLAN_FILTERS = frozenset({"venues", "tenants", "leases"})
# A client's bookings, thousands for the busiest: while the query's gram is common there
# (counted GRAM_PROBE times or more), the plan walks the client's bookings newest first
# (ix_booking_client_id) and probes the gram for each, bounded by the client's own bookings
# (planned for its arguments instead, the search spent 1.2 ms planning and 0.7 running).  A
# rare gram is walked itself (at most GRAM_PROBE entries), which only the plan chosen for the
# arguments does: a generic plan probed the busiest client's 4,250 bookings for a gram in
# none of them (9 ms).
ONE_PLAN_WHEN_COMMON = frozenset({"bookings"})
# A query's gram counts are kept this long per process (app.extensions[KEPT_COUNTS]): they
# only choose which gram a module's branch walks, so a count some minutes old costs at worst
# a longer walk, never a result (see driving_grams); counting them was 0.8 ms of the server's
# time on every search of three characters or more.
KEPT_COUNTS = "portal.search_gram_counts"
KEPT_COUNTS_SECONDS = 300
KEPT_COUNTS_SIZE = 4096


# --- text -----------------------------------------------------------------------------------


def normalise(text: str | None) -> str:
    """Full-width forms folded (ＺＬ → zl), lower case, runs of white space as one space,
    control and format characters (NUL, zero-width spaces) left out."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(char for char in text
                   if char.isspace() or not unicodedata.category(char).startswith("C"))
    return " ".join(text.split()).lower()


def grams(text: str) -> set[str]:
    """Every two-character substring of each word (words are separated by single spaces)."""
    return {word[i:i + 2] for word in text.split(" ") for i in range(len(word) - 1)}


def _entry(source: Source, doc: Doc) -> dict:
    text = normalise(" ".join(part for part in doc.parts if part))
    return {"module": source.key, "object_id": doc.object_id, "title": doc.title[:300],
            "detail": (doc.detail or "")[:300], "text": text}


def _insert(conn: sa.Connection, rows: list[dict]) -> None:
    """Insert entries and their grams."""
    if not rows:
        return
    conn.execute(sa.insert(SearchEntry), rows)
    gram_rows = [{"gram": gram, "module": row["module"], "object_id": row["object_id"]}
                 for row in rows for gram in grams(row["text"])]
    if gram_rows:
        conn.execute(sa.insert(SearchGram), gram_rows)


def _delete(conn: sa.Connection, module: str, ids=None) -> None:
    """Delete a module's entries and their grams (those of ``ids``, or all)."""
    for model in (SearchGram, SearchEntry):
        stmt = sa.delete(model).where(model.module == module)
        conn.execute(stmt if ids is None else stmt.where(model.object_id.in_(ids)))


# --- keeping the index in step --------------------------------------------------------------


def refresh(conn: sa.Connection, source: Source, ids) -> None:
    """Rewrite the entries of ``ids`` (a list, or a SELECT of ids) from the database."""
    _delete(conn, source.key, ids)
    _insert(conn, [_entry(source, doc)
                   for doc in source.load(conn, lambda column: column.in_(ids))])


def stale_sources(conn: sa.Connection) -> list[Source]:
    """The sources whose entries do not number their records (after bulk Core inserts)."""
    stale = []
    for source in SOURCES:
        records = sa.select(sa.func.count()).select_from(source.model)
        if source.scope is not None:
            records = records.where(source.scope())
        entries = sa.select(sa.func.count()).select_from(SearchEntry).where(
            SearchEntry.module == source.key)
        if conn.execute(records).scalar() != conn.execute(entries).scalar():
            stale.append(source)
    return stale


def reindex(conn: sa.Connection, sources=SOURCES) -> dict[str, int]:
    """Rebuild the index of ``sources`` from scratch; returns the entries per module."""
    counts = {}
    for source in sources:
        _delete(conn, source.key)
        ids = list(conn.execute(sa.select(source.model.id).order_by(source.model.id)).scalars())
        counts[source.key] = 0
        for start in range(0, len(ids), BATCH):
            low, high = ids[start], ids[min(start + BATCH, len(ids)) - 1]
            rows = [_entry(source, doc) for doc in
                    source.load(conn, lambda column, low=low, high=high:
                                column.between(low, high))]
            _insert(conn, rows)
            counts[source.key] += len(rows)
    return counts


_WATCHES: dict[type, list] = defaultdict(list)
for _source in SOURCES:
    for _watch in _source.watches:
        _WATCHES[_watch.model].append((_source, _watch))


def _changed(obj, fields) -> bool:
    if fields is None:
        return True
    attrs = inspect(obj).attrs
    return any(attrs[name].history.has_changes() for name in fields)


@event.listens_for(PortalSession, "after_flush")
def _search_after_flush(session, flush_context) -> None:
    """Entries of the records this flush changed are rewritten in the same transaction."""
    stale: dict[tuple[Source, object], list] = defaultdict(list)
    for created, objects in ((True, session.new), (True, session.deleted),
                             (False, session.dirty)):
        for obj in objects:
            for source, watch in _WATCHES.get(type(obj), ()):
                if (watch.created if created else _changed(obj, watch.fields)):
                    stale[(source, watch)].append(obj)
    if not stale:
        return
    conn = session.connection()
    direct: dict[Source, set] = defaultdict(set)
    for (source, watch), objects in stale.items():
        ids = watch.ids(objects)
        if isinstance(ids, sa.Select):
            refresh(conn, source, ids)
        else:
            direct[source].update(ids)
    for source, ids in direct.items():
        refresh(conn, source, sorted(ids))


# --- searching ------------------------------------------------------------------------------


@dataclass
class Hit:
    object_id: int
    title: str
    detail: str
    url: str | None  # None: shown, but the user may not open the page (staff directory)


@dataclass
class Group:
    source: Source
    hits: list[Hit]
    more: bool  # more hits than shown

    @property
    def key(self) -> str:
        return self.source.key

    @property
    def label(self):
        return self.source.label


def _page_roles(source: Source, role: str) -> tuple[str, ...] | None:
    """The roles the page that shows ``role`` the record admits (its role decorator); None:
    any signed-in user."""
    endpoint = source.page(role).endpoint
    return getattr(current_app.view_functions[endpoint], "portal_roles", None)


def sources_for(user) -> list[Source]:
    """The modules whose records ``user`` may find: those whose pages the role may open (a
    supplier's account: its partners pages, so modules it has no page for are left out)."""
    found = []
    for source in SOURCES:
        roles = source.roles or _page_roles(source, user.role)
        if roles is None or user.role in roles:
            found.append(source)
    return found


def _visible(source: Source, user):
    """The module's own rule, as on its page (None: every record)."""
    visible_to = getattr(source.model, "visible_to", None)
    return visible_to(user) if visible_to is not None else None


def _contains(dialect: str):
    """SQL: the entry's text holds the query literally (no wildcards, no escaping)."""
    find = sa.func.instr if dialect == "sqlite" else sa.func.strpos
    return find(SearchEntry.text, sa.bindparam("query", type_=sa.Text)) > 0


@functools.lru_cache(maxsize=256)
def _gram_counts(keys: tuple[str, ...], size: int):
    """SQL: how many entries of each module of ``keys`` hold each of ``size`` grams (bound as
    gram_0…), up to :data:`GRAM_PROBE` each: index-only scans of search_gram's primary key."""
    return sa.select(*[sa.select(sa.func.count()).select_from(
        sa.select(sa.literal(1)).where(SearchGram.gram == sa.bindparam(f"gram_{n}"),
                                       SearchGram.module == sa.literal_column(f"'{key}'"))
        .limit(GRAM_PROBE).subquery()).scalar_subquery()
        for key in keys for n in range(size)])


def driving_grams(query: str, keys: tuple[str, ...],
                  before_counting: Callable[[], None] = lambda: None,
                  counted: dict[str, int] | None = None) -> dict[str, str | None]:
    """{module: the gram whose entries the module's branch walks} for a search of ``query``.

    A module left out cannot match (one of the query's grams is in none of its entries).  The
    gram is None when the query has none (every word a single character: the branch walks the
    module's entries).  A two-character query is its own gram.  A longer one: per module, the
    gram with the fewest of the module's entries, counted up to :data:`GRAM_PROBE` (index-only
    counts, one query), so that a gram common in a module (00 in every booking reference) does
    not drive a rare phrase there (ZL000012).  The counts are kept a few minutes
    (:data:`KEPT_COUNTS_SECONDS`); ``before_counting`` runs before they are counted afresh.
    With ``counted`` (a dict filled with each module's count of its chosen gram), a query of
    one gram is counted too.
    """
    found = grams(query)
    if not found or (counted is None and (len(query) == 2 or len(found) <= 1)):
        return dict.fromkeys(keys, next(iter(found), None))
    # The last grams of the query first: on a tie (every gram common in the module) the
    # latest wins, as a reference ends with its most specific digits (ZL000012: 12, not 00).
    found = sorted(found, key=query.rindex, reverse=True)[:QUERY_GRAMS]
    kept = current_app.extensions.setdefault(KEPT_COUNTS, {})
    now = time.monotonic()
    row, counted_at = kept.get((keys, *found), ((), 0.0))
    fresh = now - counted_at > KEPT_COUNTS_SECONDS
    if fresh:
        before_counting()
        row = tuple(db.session.execute(_gram_counts(keys, len(found)),
                                       {f"gram_{n}": gram for n, gram in enumerate(found)}).one())
        if len(kept) >= KEPT_COUNTS_SIZE:
            kept.clear()
        kept[(keys, *found)] = (row, now)
    chosen = {}
    for index, key in enumerate(keys):
        counts = row[index * len(found):(index + 1) * len(found)]
        count, position = min((count, position) for position, count in enumerate(counts))
        # Counts kept from an earlier search only choose the gram: a module whose count was
        # zero may hold it by now, and walking a gram it lacks finds nothing at once.
        if count or not fresh:
            chosen[key] = found[position]
        if counted is not None:
            counted[key] = count
    return chosen


def _branch(source: Source, reader, dialect: str, by_gram: bool, check_text: bool,
            limit: int):
    """One module's newest ``limit`` hits (after the bound ``offset``).

    With a gram (bound as ``gram``): the primary key of ``search_gram`` lists the module's
    entries holding it newest first, so the scan stops after the first ``limit`` visible
    matches however common the gram is.
    """
    # The module and the limit are constants of the statement, written into it, so that the
    # plan PostgreSQL keeps for the prepared statement knows them.
    key = sa.literal_column(f"'{source.key}'", sa.String)
    limit = sa.literal_column(str(int(limit)), sa.Integer)
    offset = sa.bindparam("offset", type_=sa.Integer)
    visible = _visible(source, reader)
    conditions = [SearchEntry.module == key]
    if check_text:
        conditions.append(_contains(dialect))
    if not _sees_all(visible):
        conditions.append(visible)
    elif by_gram and dialect == "postgresql":
        # Every entry is visible: walk the gram's entries newest first and look each up
        # (LATERAL), which stops at the limit.  Left to itself, the planner hashes a small
        # module's matches and sorts them all (1,000 meetings: 3 ms instead of 0.1).
        walk = (sa.select(SearchGram.object_id)
                .where(SearchGram.gram == sa.bindparam(f"gram_{source.key}", type_=sa.String),
                       SearchGram.module == key)
                .order_by(SearchGram.object_id.desc()).subquery("walk"))
        hit = (sa.select(SearchEntry.object_id, SearchEntry.title, SearchEntry.detail)
               .join(source.model, source.model.id == SearchEntry.object_id)
               .where(SearchEntry.object_id == walk.c.object_id, *conditions)
               .limit(1).lateral("hit"))
        return (sa.select(key.label("module"), hit.c.object_id, hit.c.title, hit.c.detail)
                .select_from(walk).join(hit, sa.true())
                .order_by(walk.c.object_id.desc()).limit(limit).offset(offset))
    columns = (key.label("module"), SearchEntry.object_id, SearchEntry.title,
               SearchEntry.detail)
    if by_gram:
        stmt = (sa.select(*columns).select_from(SearchGram)
                .join(SearchEntry, sa.and_(SearchEntry.module == SearchGram.module,
                                           SearchEntry.object_id == SearchGram.object_id))
                .where(SearchGram.gram == sa.bindparam(f"gram_{source.key}", type_=sa.String),
                       SearchGram.module == key))
        newest = SearchGram.object_id.desc()
    else:
        stmt = sa.select(*columns)
        newest = SearchEntry.object_id.desc()
    stmt = stmt.join(source.model, source.model.id == SearchEntry.object_id).where(*conditions)
    return stmt.order_by(newest).limit(limit).offset(offset)


@functools.cache
def _filtered_by_reader(role: str, keys: tuple[str, ...]) -> frozenset[str]:
    """The modules of ``keys`` whose branch filters by the reader for ``role``.  None: each
    walks its gram's entries newest first and one plan fits every query, whereas a reader's
    filter (a client's own bookings) may need the plan chosen for its arguments (33 ms
    generic, 1 ms custom), unless every such filter is one of :data:`ONE_PLAN_FILTERS` or
    :data:`ONE_PLAN_WHEN_COMMON` (see :func:`search`)."""
    reader = Reader(role)
    return frozenset(key for key in keys if not _sees_all(_visible(BY_KEY[key], reader)))


def _sees_all(visible) -> bool:
    """Whether a branch's visibility condition lets the reader see every entry."""
    return visible is None or isinstance(visible, sa.sql.elements.True_)


@functools.cache
def _hidden_from(role: str) -> frozenset[str]:
    """The modules whose rule hides every record from the role (feedback from a client): left
    out of the statement rather than joined for nothing."""
    reader = Reader(role)
    return frozenset(source.key for source in SOURCES
                     if isinstance(_visible(source, reader), sa.sql.elements.False_))


def _link(source: Source, role: str):
    """object_id -> the record's URL for ``role``: one ``url_for`` per module rather than one
    per hit."""
    page = source.page(role)
    if page.id_arg is None:  # the record's row on a list page
        head = f"{url_for(page.endpoint)}#{page.anchor}-"
        return lambda object_id: f"{head}{object_id}"
    return record_url(page.endpoint, page.id_arg)


@functools.lru_cache(maxsize=256)
def _statement(role: str, keys: tuple[str, ...], dialect: str, by_gram: bool,
               check_text: bool, limit: int):
    """The search statement of a role over modules ``keys``, built once: ``UNION ALL`` of one
    branch per module, with the gram, the query, the reader's id and the offset bound."""
    reader = Reader(role)
    branches = [_branch(BY_KEY[key], reader, dialect, by_gram, check_text, limit)
                .subquery().select() for key in keys]
    return branches[0] if len(branches) == 1 else sa.union_all(*branches)


def search(user, text: str | None, module: str | None = None, limit: int = PAGE_LIMIT,
           page: int = 1) -> list[Group]:
    """Hits grouped by module (in the order of SOURCES), at most ``limit`` each.

    With ``module``, that module only, page ``page`` of ``limit``.  A query shorter than
    :data:`MIN_LENGTH` finds nothing.
    """
    query = normalise(text)
    if len(query) < MIN_LENGTH:
        return []
    sources = sources_for(user)
    if module is not None:
        sources = [source for source in sources if source.key == module]
    if not sources:
        return []
    hidden = _hidden_from(user.role)
    sources = [source for source in sources if source.key not in hidden]
    if not sources:
        return []
    keys = tuple(source.key for source in sources)
    with contextlib.ExitStack() as plans:
        switched = []

        def generic_from_now() -> None:
            if not switched:
                switched.append(plans.enter_context(generic_plans()))

        # The gram counts, when counted: one plan fits every gram (index-only counts).
        filtered = _filtered_by_reader(user.role, keys)
        one_plan_may_fit = filtered and filtered <= ONE_PLAN_FILTERS | ONE_PLAN_WHEN_COMMON
        counted = {} if one_plan_may_fit else None
        chosen = driving_grams(query, keys, before_counting=generic_from_now, counted=counted)
        sources = [source for source in sources if source.key in chosen]
        if not sources:
            return []
        gram = chosen[sources[0].key]
        keys = tuple(source.key for source in sources)
        filtered &= set(keys)
        generic = gram is not None and (not filtered or (
            counted is not None and all(counted[key] >= GRAM_PROBE
                                        for key in filtered & ONE_PLAN_WHEN_COMMON)))
        if not generic:  # a reader's filter: planned for its arguments (see generic_plans)
            plans.close()
        else:
            generic_from_now()
        dialect = db.session.get_bind().dialect.name
        stmt = _statement(user.role, keys, dialect, gram is not None,
                          gram is None or len(query) > 2, limit + 1)
        params = {**{f"gram_{key}": value for key, value in chosen.items()},
                  "query": query, "reader_id": user.id,
                  "reader_supplier_id": getattr(user, "supplier_id", None),
                  "offset": (max(page, 1) - 1) * limit if module else 0}
        rows = defaultdict(list)
        for row in db.session.execute(stmt, params).all():
            rows[row.module].append(row)
    groups = []
    for source in sources:
        found = sorted(rows.get(source.key, ()), key=lambda row: row.object_id, reverse=True)
        if not found:
            continue
        roles = _page_roles(source, user.role)
        link = _link(source, user.role) if roles is None or user.role in roles else None
        hits = [Hit(row.object_id, row.title, row.detail,
                    link(row.object_id) if link else None)
                for row in found[:limit]]
        groups.append(Group(source, hits, len(found) > limit))
    return groups
