"""The search index: one row per searchable record, kept in step by ``services``.

``text`` is the record's searchable text, normalised (NFKC, lower case, single spaces);
``grams`` its two-character substrings, each as a word between spaces, for queries shorter
than a trigram.  The engine-specific indexes over them (PostgreSQL: pg_trgm GIN indexes;
SQLite: the FTS5 table ``search_entry_fts`` with the trigram tokenizer and its triggers) are
created by migration 0016 and listed in :data:`RAW_OBJECTS`; the models cannot declare them.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..database import raw_objects
from ..extensions import db
from ..page_cache import cache_scope

# The modules of the index (portal/search/sources.py), named here for the migration.
MODULES = ("bookings", "venues", "feedback", "suppliers", "contracts", "tenants", "leases",
           "rooms", "meetings", "people")


def trigram_index(module: str, column: str) -> str:
    """PostgreSQL: one partial pg_trgm GIN index per module and column, so a term that is
    common in one module costs nothing in the others."""
    return f"ix_search_entry_{module}_{column}_trgm"


# Database objects of this module that the models do not describe (migration 0016).
RAW_OBJECTS = {
    "postgresql": {"index": tuple(trigram_index(module, column) for module in MODULES
                                  for column in ("text", "grams"))},
    "sqlite": {
        "table": ("search_entry_fts",),  # and FTS5's shadow tables search_entry_fts_*
        "trigger": ("search_entry_fts_insert", "search_entry_fts_delete",
                    "search_entry_fts_update"),
    },
}


@raw_objects  # autogenerate and the model comparison skip them
def is_raw_object(name: str | None, type_: str) -> bool:
    """True for a database object of the search index that the models do not describe."""
    if not name:
        return False
    if type_ == "table":
        return name.startswith("search_entry_fts")
    return name in RAW_OBJECTS["postgresql"]["index"]


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
    grams: Mapped[str] = mapped_column(sa.Text)


# The index changes only in the flushes that change the records it is built from (whose scopes
# the search pages name too); its own scope makes a direct change count as well.
cache_scope("search", SearchEntry)
