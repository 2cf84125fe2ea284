""""No two active periods of one resource overlap": one mechanism for bookings and leases.

The database guards the rule (services check first only to explain a conflict):

* PostgreSQL: an exclusion constraint with ``btree_gist`` over the resource id and a range
  built from the start and end columns, ``'[)'`` (an end touching the next start is no
  overlap), partial on active rows.
* SQLite: ``BEFORE INSERT`` and ``BEFORE UPDATE`` triggers that abort with a recognisable
  message; writes start with ``BEGIN IMMEDIATE`` (:func:`portal.database.write_transaction`),
  so the trigger's look-up and the write cannot interleave with another writer.

Migrations call :func:`create_guard` / :func:`drop_guard`; services call :func:`overlaps` to
find the conflicting rows and :func:`is_overlap_violation` to recognise the race that only the
database caught.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

SQLITE_MESSAGE = "overlapping active period"


@dataclass(frozen=True)
class PeriodGuard:
    table: str
    resource: str  # the column naming the resource: venue_id, room_id
    start: str
    end: str
    active: str  # a boolean column: only active rows take part
    range_type: str = "tstzrange"  # daterange for whole days
    # Further columns that must be equal for two periods to clash (a client's waitlist
    # entries: the same client and the same venue).
    scope: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return f"{self.table}_no_overlap"

    def postgresql_ddl(self) -> list[str]:
        return [
            "CREATE EXTENSION IF NOT EXISTS btree_gist",
            f"ALTER TABLE {self.table} ADD CONSTRAINT {self.name} EXCLUDE USING gist "
            f"({''.join(f'{column} WITH =, ' for column in self.scope)}"
            f"{self.resource} WITH =, {self.range_type}({self.start}, {self.end}, '[)') WITH &&)"
            f" WHERE ({self.active})",
        ]

    def sqlite_ddl(self) -> list[str]:
        # Identifiers come from the PeriodGuard declarations in code, never from input.
        clash = (
            f"SELECT RAISE(ABORT, '{SQLITE_MESSAGE}: {self.table}') WHERE EXISTS ("  # noqa: S608
            f"SELECT 1 FROM {self.table} AS other WHERE other.{self.resource} = NEW.{self.resource}"
            + "".join(f" AND other.{column} = NEW.{column}" for column in self.scope) +
            f" AND other.{self.active} AND other.{self.start} < NEW.{self.end}"
            f" AND NEW.{self.start} < other.{self.end}"
        )
        return [
            f"CREATE TRIGGER {self.name}_insert BEFORE INSERT ON {self.table} "
            f"WHEN NEW.{self.active} BEGIN {clash}); END",
            f"CREATE TRIGGER {self.name}_update BEFORE UPDATE OF "
            f"{''.join(f'{column}, ' for column in self.scope)}{self.resource}, {self.start}, "
            f"{self.end}, {self.active} ON {self.table} WHEN NEW.{self.active} "
            f"BEGIN {clash} AND other.id != NEW.id); END",
        ]


def create_guard(op, guard: PeriodGuard) -> None:
    """Install the guard from an Alembic migration, for the engine being migrated."""
    dialect = op.get_bind().dialect.name
    for statement in guard.postgresql_ddl() if dialect == "postgresql" else guard.sqlite_ddl():
        op.execute(statement)


def drop_guard(op, guard: PeriodGuard) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {guard.table} DROP CONSTRAINT IF EXISTS {guard.name}")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {guard.name}_insert")
        op.execute(f"DROP TRIGGER IF EXISTS {guard.name}_update")


def overlaps(start_column, end_column, start, end, guarded: bool = False):
    """SQL condition: the row's half-open period [start, end) meets [start, end).

    ``guarded``: the columns are a :class:`PeriodGuard`'s and the rows wanted are its active
    ones (or another GiST index of their range covers them: the slots' periods,
    ``ix_venue_slot_span``); on PostgreSQL the condition then also says it as the ranges
    meeting, which the GiST index answers.  The two comparisons alone can only be answered
    by walking every active row before ``end`` (a free-venue search read 44,000 slots to
    keep 112).
    """
    condition = sa.and_(start_column < end, start < end_column)
    if not guarded:
        return condition
    return sa.and_(condition, _RangesMeet(start_column, end_column, _bound(start, start_column),
                                          _bound(end, end_column)))


def _bound(value, column):
    return value if isinstance(value, sa.ColumnElement) else sa.literal(value, column.type)


class _RangesMeet(FunctionElement):
    """``range(start_column, end_column, '[)') && range(start, end, '[)')`` on PostgreSQL (the
    range type from the columns' type, as the guard builds it); nothing on SQLite, whose
    triggers have no index of ranges."""

    type = sa.Boolean()
    inherit_cache = True
    name = "ranges_meet"


@compiles(_RangesMeet)
def _ranges_meet_elsewhere(element, compiler, **kw) -> str:
    return "1 = 1"


@compiles(_RangesMeet, "postgresql")
def _ranges_meet_postgresql(element, compiler, **kw) -> str:
    first, last, start, end = (compiler.process(clause, **kw)
                               for clause in element.clauses)
    column_type = element.clauses.clauses[0].type
    kind = ("daterange" if isinstance(column_type, sa.Date)
            and not isinstance(column_type, sa.DateTime) else "tstzrange")
    return f"{kind}({first}, {last}, '[)') && {kind}({start}, {end}, '[)')"


def is_overlap_violation(error: sa.exc.DBAPIError) -> bool:
    """True for the database's refusal of an overlapping active period, on either engine."""
    orig = getattr(error, "orig", None)
    if getattr(orig, "sqlstate", None) == "23P01":  # exclusion_violation
        return True
    return SQLITE_MESSAGE in str(orig)


def violates(error: sa.exc.DBAPIError, guard: PeriodGuard) -> bool:
    """True when the refusal is this guard's (a table may be written next to another guarded
    table in one transaction)."""
    text = str(getattr(error, "orig", ""))
    return is_overlap_violation(error) and (guard.name in text
                                            or f"{SQLITE_MESSAGE}: {guard.table}" in text)
