"""The search index: one row per searchable record, and its two-character grams.

``SearchEntry.text`` is the record's searchable text, normalised (NFKC, lower case, single
spaces).  ``SearchGram`` lists, once per entry, every two-character substring of each word of
that text: its primary key (gram, module, object_id) is a btree that answers "this module's
entries holding this gram, newest first" as an index range scan that stops at the first hits,
however common the gram (a search's plan, in ``services``).  Both engines use these plain
tables and indexes (migration 0020); nothing engine-specific is left.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..page_cache import cache_scope

# The modules of the index (portal/search/sources.py).
MODULES = ("bookings", "venues", "feedback", "suppliers", "contracts", "tenants", "leases",
           "rooms", "meetings", "people")


class SearchEntry(db.Model):
    __tablename__ = "search_entry"
    __table_args__ = (
        sa.UniqueConstraint("module", "object_id", name="uq_search_entry_module_object"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    module: Mapped[str] = mapped_column(sa.String(20))
    object_id: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(300))
    detail: Mapped[str] = mapped_column(sa.String(300), default="")
    text: Mapped[str] = mapped_column(sa.Text)


class SearchGram(db.Model):
    """One two-character gram of one entry's text (an inverted index kept in ordinary tables).

    SQLite stores the table as its primary key (WITHOUT ROWID): the btree is the table.
    """

    __tablename__ = "search_gram"
    __table_args__ = (
        # Rewriting an entry deletes its grams by (module, object_id).
        sa.Index("ix_search_gram_module_object", "module", "object_id"),
        {"sqlite_with_rowid": False},
    )

    gram: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    module: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    object_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)


# The index changes only in the flushes that change the records it is built from (whose scopes
# the search pages name too); its own scope makes a direct change count as well.
cache_scope("search", SearchEntry, SearchGram)
