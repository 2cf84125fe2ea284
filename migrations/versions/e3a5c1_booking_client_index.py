"""A client's bookings newest first (client_id, id): the global search walks a client's own
bookings and probes the query's gram for each, with one plan for every client (issue 13)

Revision ID: e3a5c1
Revises: d7b2f0
Create Date: 2026-12-07 12:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'e3a5c1'
down_revision = 'd7b2f0'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.create_index('ix_booking_client_id', ['client_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_client_id')
