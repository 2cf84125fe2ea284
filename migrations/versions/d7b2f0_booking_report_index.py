"""ix_booking_status_starts also holds what the venue reports read of a served booking (id,
slot_seconds, client_id, category, final_total_fen, arrived_at), so that they read the index
alone, not the wide rows (issue 14, the work report's figures)

Revision ID: d7b2f0
Revises: c4e1a9
Create Date: 2026-12-07 09:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'd7b2f0'
down_revision = 'c4e1a9'
branch_labels = None
depends_on = None

COLUMNS = ['status', 'starts_at', 'id', 'slot_seconds', 'client_id', 'category',
           'final_total_fen', 'arrived_at']


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_status_starts')
        batch_op.create_index('ix_booking_status_starts', COLUMNS, unique=False)


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_status_starts')
        batch_op.create_index('ix_booking_status_starts', ['status', 'starts_at'], unique=False)
