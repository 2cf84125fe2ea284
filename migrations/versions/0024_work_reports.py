"""work reports: versions of a period's report (draft / issued, frozen figures) and the
revisions of their narratives; a booking's category (government sessions: 人代会, 政协会)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 23:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('category', sa.String(length=20), server_default='',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_booking_category_known'),
                                         "category IN ('', 'government_session')")

    op.create_table('work_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('period_key', sa.String(length=40), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('narratives', sa.JSON(), nullable=False),
    sa.Column('frozen', sa.JSON(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'issued')", name=op.f('ck_work_report_status_known')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_work_report_version_positive')),
    sa.CheckConstraint("status != 'issued' OR issued_at IS NOT NULL", name=op.f('ck_work_report_issued_at_known')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_work_report_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['issued_by_id'], ['user_account.id'], name=op.f('fk_work_report_issued_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_report')),
    sa.UniqueConstraint('period_key', 'version', name=op.f('uq_work_report_period_key_version'))
    )
    with op.batch_alter_table('work_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_report_period_key'), ['period_key'], unique=False)

    op.create_table('work_report_revision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sa.Integer(), nullable=False),
    sa.Column('section', sa.String(length=20), nullable=False),
    sa.Column('before', sa.Text(), nullable=False),
    sa.Column('after', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_work_report_revision_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['report_id'], ['work_report.id'], name=op.f('fk_work_report_revision_report_id_work_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_work_report_revision'))
    )
    with op.batch_alter_table('work_report_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_work_report_revision_report_id'), ['report_id'], unique=False)


def downgrade():
    with op.batch_alter_table('work_report_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_report_revision_report_id'))
    op.drop_table('work_report_revision')
    with op.batch_alter_table('work_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_work_report_period_key'))
    op.drop_table('work_report')
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_booking_category_known'), type_='check')
        batch_op.drop_column('category')
