"""lease list: an index in the list's order (end date, id), so a page of the lease list
reads 25 index entries instead of sorting every lease (issue 17, uncached pages)

Revision ID: 0032
Revises: 0030
Create Date: 2026-12-07 03:10:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_lease_end_id", "lease", ["end_date", "id"])


def downgrade():
    op.drop_index("ix_lease_end_id", table_name="lease")
