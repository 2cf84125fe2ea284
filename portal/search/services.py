"""The search index and the search itself.

* The index (:class:`SearchEntry`) is kept in step by one ``after_flush`` hook, in the same
  transaction as the change (like the audit trail): the hook collects the records whose
  documents a flush made stale (each source's :class:`~.sources.Watch` list) and rewrites
  their entries from the database with the source's loader.  ``flask search reindex`` and
  migration 0016 rebuild it with the same loaders.
* A search runs one query: for each module the user may open, the matching entries joined
  back to the module's table under the model's own ``visible_to`` predicate, newest first and
  capped (``UNION ALL`` of one capped branch per module).
* Matching is literal substring matching on the normalised text.  Three characters or more:
  ``text`` (PostgreSQL: ``LIKE`` with escaped wildcards, served by a pg_trgm GIN index;
  SQLite: an FTS5 trigram phrase, quoted).  Two characters, shorter than a trigram: the
  ``grams`` column, where every two-character substring of the text is a word between spaces,
  so the query becomes a four-character pattern `` xy `` the same indexes serve.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app, url_for
from sqlalchemy import event, inspect

from ..database import PortalSession
from ..extensions import db
from .models import SearchEntry
from .sources import SOURCES, Doc, Source

MIN_LENGTH = 2  # one character would match most of the index
SUGGEST_LIMIT = 5  # per module, as you type
PAGE_LIMIT = 10  # per module, on the results page
MODULE_PAGE = 20  # one module's results, paginated
BATCH = 1000  # records per loader query when the whole index is rebuilt
RECENT = 2000  # a module's newest entries searched first (PostgreSQL; see _branch)
FEW_HITS = 5000  # SQLite: up to this many matches, the search starts from them


# --- text -----------------------------------------------------------------------------------


def normalise(text: str | None) -> str:
    """Full-width forms folded (ＺＬ → zl), lower case, runs of white space as one space,
    control and format characters (NUL, zero-width spaces) left out."""
    text = unicodedata.normalize("NFKC", text or "")
    text = "".join(char for char in text
                   if char.isspace() or not unicodedata.category(char).startswith("C"))
    return " ".join(text.split()).lower()


def grams(text: str) -> str:
    """Every two-character substring of each word, once, as words between spaces."""
    found = {word[i:i + 2] for word in text.split(" ") for i in range(len(word) - 1)}
    return f" {' '.join(sorted(found))} " if found else ""


def _entry(source: Source, doc: Doc) -> dict:
    text = normalise(" ".join(part for part in doc.parts if part))
    return {"module": source.key, "object_id": doc.object_id, "title": doc.title[:300],
            "detail": (doc.detail or "")[:300], "text": text, "grams": grams(text)}


# --- keeping the index in step --------------------------------------------------------------


def refresh(conn: sa.Connection, source: Source, ids) -> None:
    """Rewrite the entries of ``ids`` (a list, or a SELECT of ids) from the database."""
    conn.execute(sa.delete(SearchEntry).where(SearchEntry.module == source.key,
                                              SearchEntry.object_id.in_(ids)))
    rows = [_entry(source, doc) for doc in source.load(conn, lambda column: column.in_(ids))]
    if rows:
        conn.execute(sa.insert(SearchEntry), rows)


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
        conn.execute(sa.delete(SearchEntry).where(SearchEntry.module == source.key))
        ids = list(conn.execute(sa.select(source.model.id).order_by(source.model.id)).scalars())
        counts[source.key] = 0
        for start in range(0, len(ids), BATCH):
            low, high = ids[start], ids[min(start + BATCH, len(ids)) - 1]
            rows = [_entry(source, doc) for doc in
                    source.load(conn, lambda column, low=low, high=high:
                                column.between(low, high))]
            if rows:
                conn.execute(sa.insert(SearchEntry), rows)
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


def _page_roles(source: Source) -> tuple[str, ...] | None:
    """The roles the record's page admits (its role decorator); None: any signed-in user."""
    return getattr(current_app.view_functions[source.endpoint], "portal_roles", None)


def sources_for(user) -> list[Source]:
    """The modules whose records ``user`` may find: those whose pages the role may open."""
    found = []
    for source in SOURCES:
        roles = source.roles or _page_roles(source)
        if roles is None or user.role in roles:
            found.append(source)
    return found


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _fts_phrase(query: str) -> str:
    """SQLite: the query as one quoted FTS5 phrase (``"`` doubled), on text or grams."""
    quoted = query.replace('"', '""')
    return f'text : "{quoted}"' if len(query) > 2 else f'grams : " {quoted} "'


def _fts_rowids(query: str):
    return sa.select(sa.column("rowid").label("id")).select_from(
        sa.table("search_entry_fts")).where(
        sa.text("search_entry_fts MATCH :phrase").bindparams(phrase=_fts_phrase(query)))


def match(query: str):
    """SQL: entries whose text holds ``query`` (normalised, at least two characters)."""
    if _is_sqlite():
        # Materialised once for every module's branch of the search.
        hits = _fts_rowids(query).cte("fts_hits").prefix_with("MATERIALIZED", dialect="sqlite")
        return SearchEntry.id.in_(sa.select(hits.c.id))
    literal = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if len(query) > 2:
        return SearchEntry.text.like(f"%{literal}%", escape="\\")
    return SearchEntry.grams.like(f"% {literal} %", escape="\\")


def _few_fts_hits(query: str) -> bool:
    """SQLite: whether the FTS5 table holds at most :data:`FEW_HITS` matches.

    Few: the branches start from the matches (``+module`` keeps SQLite off the module index);
    many: they walk each module's entries newest first and stop at the first hits.
    """
    capped = _fts_rowids(query).limit(FEW_HITS + 1).subquery()
    return db.session.scalar(sa.select(sa.func.count()).select_from(capped)) <= FEW_HITS


def _hits(source: Source, user, condition, from_matches: bool = False):
    module = sa.literal_column("+search_entry.module") if from_matches else SearchEntry.module
    stmt = (
        sa.select(sa.literal(source.key).label("module"), SearchEntry.object_id,
                  SearchEntry.title, SearchEntry.detail)
        .join(source.model, source.model.id == SearchEntry.object_id)
        .where(module == source.key, condition)
    )
    visible_to = getattr(source.model, "visible_to", None)
    if visible_to is not None:
        stmt = stmt.where(visible_to(user))  # the module's own rule, as on its page
    return stmt


def _branch(source: Source, user, condition, limit: int, offset: int = 0,
            from_matches: bool = False):
    """One module's newest ``limit`` hits (after ``offset``).

    PostgreSQL estimates a LIKE's selectivity over the whole table, so a term common in one
    module looks common in all: walking a module's entries newest first (ideal for a common
    term) could read all 200,000 bookings for a word only feedback holds.  So the walk is
    bounded to the module's newest :data:`RECENT` entries; only when they hold fewer hits than
    wanted does the second part run (its one-time filter), driven by the trigram index and
    sorted (``object_id + 0`` keeps the planner off the ordered walk), which is cheap because
    the term is then rare in the module.  SQLite's FTS5 query is one materialised list
    (see :func:`_few_fts_hits`).
    """
    hits = _hits(source, user, condition, from_matches)
    if _is_sqlite() or offset:
        return hits.order_by(SearchEntry.object_id.desc()).limit(limit).offset(offset)
    floor = (sa.select(SearchEntry.object_id).where(SearchEntry.module == source.key)
             .order_by(SearchEntry.object_id.desc()).offset(RECENT).limit(1).scalar_subquery())
    recent = (hits.where(SearchEntry.object_id >= sa.func.coalesce(floor, 0))
              .order_by(SearchEntry.object_id.desc()).limit(limit)
              .cte(f"recent_{source.key}").prefix_with("MATERIALIZED", dialect="postgresql"))
    enough = sa.select(sa.func.count()).select_from(recent).scalar_subquery() >= limit
    older = hits.order_by((SearchEntry.object_id + 0).desc()).limit(limit).subquery()
    return sa.union_all(sa.select(recent).where(enough),
                        sa.select(older).where(sa.not_(enough)))


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
    condition = match(query)
    from_matches = _is_sqlite() and _few_fts_hits(query)
    offset = (max(page, 1) - 1) * limit
    branches = [_branch(source, user, condition, limit + 1, offset if module else 0,
                        from_matches).subquery().select() for source in sources]
    stmt = branches[0] if len(branches) == 1 else sa.union_all(*branches)
    if not _is_sqlite():
        # Each branch reads a few index pages; starting parallel workers costs more (and the
        # app's requests are the parallelism).  SET LOCAL: this transaction only.
        db.session.execute(sa.text("SET LOCAL max_parallel_workers_per_gather = 0"))
    rows = defaultdict(list)
    for row in db.session.execute(stmt):
        rows[row.module].append(row)
    groups = []
    for source in sources:
        found = sorted(rows.get(source.key, ()), key=lambda row: row.object_id, reverse=True)
        if not found:
            continue
        roles = _page_roles(source)
        linked = roles is None or user.role in roles
        hits = [Hit(row.object_id, row.title, row.detail,
                    url_for(source.endpoint, **{source.id_arg: row.object_id})
                    if linked else None)
                for row in found[:limit]]
        groups.append(Group(source, hits, len(found) > limit))
    return groups
