"""check-in on the day: a booking's arrival (time, actual headcount, extras note)

Revision ID: 0025
Revises: 0027
Create Date: 2026-12-07 02:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arrived_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('arrived_headcount', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('arrival_extras', sa.Text(), server_default='',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_booking_arrived_headcount_not_negative'),
                                         'arrived_headcount >= 0')
        batch_op.create_check_constraint(op.f('ck_booking_arrival_complete'),
                                         '(arrived_at IS NULL) = (arrived_headcount IS NULL)')
        batch_op.create_check_constraint(op.f('ck_booking_arrived_or_no_show'),
                                         "arrived_at IS NULL OR status != 'no_show'")


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_booking_arrived_or_no_show'), type_='check')
        batch_op.drop_constraint(op.f('ck_booking_arrival_complete'), type_='check')
        batch_op.drop_constraint(op.f('ck_booking_arrived_headcount_not_negative'),
                                 type_='check')
        batch_op.drop_column('arrival_extras')
        batch_op.drop_column('arrived_headcount')
        batch_op.drop_column('arrived_at')
