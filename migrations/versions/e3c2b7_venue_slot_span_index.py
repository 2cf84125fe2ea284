"""The slots' periods indexed (GiST, PostgreSQL): the venue figures read a month's slots
through it, not every served booking that began before the month; the stored venue figures
of whole periods dropped (they are stored per month now, portal/bookings/reports.py)

Revision ID: e3c2b7
Revises: e3a9c1
Create Date: 2026-12-07 16:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3c2b7'
down_revision = 'e3a9c1'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_venue_slot_span ON venue_slot "
                   "USING gist (tstzrange(starts_at, ends_at, '[)'))")
        # The expression's statistics (what share of the slots a month's range meets), as
        # autovacuum would gather them later: the planner's estimate until then is a guess.
        op.execute("ANALYZE venue_slot")
    op.execute("DELETE FROM stored_figure WHERE source = 'bookings.venue_figures'")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_venue_slot_span")
    op.execute("DELETE FROM stored_figure WHERE source = 'bookings.venue_figures'")
