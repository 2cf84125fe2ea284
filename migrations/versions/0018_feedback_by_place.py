"""feedback: indexes for feedback by place (a room's history, the queue by building)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 23:05:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_building_submitted', ['building_id', 'submitted_at'],
                              unique=False)
        batch_op.create_index('ix_feedback_room_submitted', ['room_id', 'submitted_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_room_submitted')
        batch_op.drop_index('ix_feedback_building_submitted')
