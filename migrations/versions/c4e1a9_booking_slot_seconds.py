"""booking.slot_seconds: the seconds of all a booking's slots, kept with them by the booking
services, so the venue reports share a booking's income over its slots without a window over
every slot (issue 14, the work report's figures); filled here from the slots

Revision ID: c4e1a9
Revises: 0032
Create Date: 2026-12-07 05:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e1a9'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('slot_seconds', sa.BigInteger(), server_default='0',
                                      nullable=False))
        batch_op.create_check_constraint(op.f('ck_booking_slot_seconds_not_negative'),
                                         'slot_seconds >= 0')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("""
            UPDATE booking SET slot_seconds = counted.seconds
            FROM (SELECT booking_id,
                         SUM(ROUND(EXTRACT(EPOCH FROM ends_at - starts_at)))::bigint AS seconds
                  FROM venue_slot WHERE booking_id IS NOT NULL GROUP BY booking_id) AS counted
            WHERE counted.booking_id = booking.id""")
    else:
        op.execute("""
            UPDATE booking SET slot_seconds = COALESCE((
                SELECT SUM(CAST(ROUND((julianday(ends_at) - julianday(starts_at)) * 86400)
                                AS INTEGER))
                FROM venue_slot WHERE venue_slot.booking_id = booking.id), 0)""")


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_booking_slot_seconds_not_negative'), type_='check')
        batch_op.drop_column('slot_seconds')
