"""feedback: the public QR channel (source, place, reporter contact, follow link, spam)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 23:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

OLD_STATUSES = ("status IN ('submitted', 'accepted', 'in_progress', 'resolved', 'closed', "
                "'rejected', 'duplicate')")
NEW_STATUSES = ("status IN ('submitted', 'accepted', 'in_progress', 'resolved', 'closed', "
                "'rejected', 'duplicate', 'spam')")


def upgrade():
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=12), nullable=False,
                                      server_default='supervisor'))
        batch_op.add_column(sa.Column('venue_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('place_label', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('reporter_contact', sa.String(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('follow_token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reporter_address_hash', sa.String(length=64),
                                      nullable=True))
        batch_op.alter_column('supervisor_id', existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column('appointment_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key(batch_op.f('fk_feedback_venue_id_venue'), 'venue',
                                    ['venue_id'], ['id'], ondelete='SET NULL')
        batch_op.create_unique_constraint(batch_op.f('uq_feedback_follow_token_hash'),
                                          ['follow_token_hash'])
        batch_op.create_index(batch_op.f('ix_feedback_venue_id'), ['venue_id'], unique=False)
        batch_op.create_index('ix_feedback_source_submitted', ['source', 'submitted_at'],
                              unique=False)
        batch_op.create_index('ix_feedback_reporter_status',
                              ['reporter_address_hash', 'status'], unique=False)
        batch_op.drop_constraint(op.f('ck_feedback_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_feedback_status_known'), NEW_STATUSES)
        batch_op.create_check_constraint(op.f('ck_feedback_source_known'),
                                         "source IN ('supervisor', 'public')")
        batch_op.create_check_constraint(
            op.f('ck_feedback_supervisor_item_signed'),
            "source != 'supervisor' OR (supervisor_id IS NOT NULL AND appointment_id IS NOT NULL)")
        batch_op.create_check_constraint(op.f('ck_feedback_public_item_placed'),
                                         "source != 'public' OR place_label != ''")
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.alter_column('source', server_default=None)
        batch_op.alter_column('place_label', server_default=None)
        batch_op.alter_column('reporter_contact', server_default=None)


def downgrade():
    op.execute("DELETE FROM feedback WHERE source = 'public'")
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_feedback_public_item_placed'), type_='check')
        batch_op.drop_constraint(op.f('ck_feedback_supervisor_item_signed'), type_='check')
        batch_op.drop_constraint(op.f('ck_feedback_source_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_feedback_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_feedback_status_known'), OLD_STATUSES)
        batch_op.drop_index('ix_feedback_reporter_status')
        batch_op.drop_index('ix_feedback_source_submitted')
        batch_op.drop_index(batch_op.f('ix_feedback_venue_id'))
        batch_op.drop_constraint(batch_op.f('uq_feedback_follow_token_hash'), type_='unique')
        batch_op.drop_constraint(batch_op.f('fk_feedback_venue_id_venue'), type_='foreignkey')
        batch_op.alter_column('appointment_id', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('supervisor_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('reporter_address_hash')
        batch_op.drop_column('follow_token_hash')
        batch_op.drop_column('reporter_contact')
        batch_op.drop_column('place_label')
        batch_op.drop_column('venue_id')
        batch_op.drop_column('source')
