"""stored figures of closed periods (issue 17, item 2): a report source's result for a closed
period, with a digest of the data versions it was computed under (portal/stored_figures.py)

Revision ID: e3a9c1
Revises: e3a5c1
Create Date: 2026-12-07 12:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e3a9c1'
down_revision = 'e3a5c1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stored_figure',
    sa.Column('source', sa.String(length=40), nullable=False),
    sa.Column('first_day', sa.Date(), nullable=False),
    sa.Column('end_day', sa.Date(), nullable=False),
    sa.Column('versions', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('first_day < end_day', name=op.f('ck_stored_figure_period_not_empty')),
    sa.PrimaryKeyConstraint('source', 'first_day', 'end_day', name=op.f('pk_stored_figure'))
    )


def downgrade():
    op.drop_table('stored_figure')
