"""waitlist: a client's place in the queue of a taken venue period, and the held booking
("offered") a freed period becomes for the first client who fits

Revision ID: 0026
Revises: 0024
Create Date: 2026-12-07 02:30:00

"""
from alembic import op
import sqlalchemy as sa

from portal.periods import PeriodGuard, create_guard, drop_guard


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0024'
branch_labels = None
depends_on = None

# Frozen copy of portal.bookings.models.WAITLIST_GUARD.
WAITLIST_GUARD = PeriodGuard(table="waitlist_entry", resource="venue_id", start="starts_at",
                             end="ends_at", active="active", scope=("client_id",))
OLD_STATUSES = ("status IN ('requested', 'approved', 'completed', 'rejected', 'cancelled', "
                "'expired', 'no_show')")
NEW_STATUSES = ("status IN ('offered', 'requested', 'approved', 'completed', 'rejected', "
                "'cancelled', 'expired', 'no_show')")


def upgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_booking_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_booking_status_known'), NEW_STATUSES)

    op.create_table('waitlist_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('venue_id', sa.Integer(), nullable=False),
    sa.Column('session', sa.String(length=20), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('offered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.CheckConstraint('starts_at < ends_at', name=op.f('ck_waitlist_entry_period')),
    sa.CheckConstraint('headcount > 0', name=op.f('ck_waitlist_entry_headcount_positive')),
    sa.CheckConstraint("status IN ('waiting', 'offered', 'booked', 'lapsed', 'left', 'removed')",
                       name=op.f('ck_waitlist_entry_status_known')),
    sa.CheckConstraint("active = (status IN ('waiting', 'offered'))",
                       name=op.f('ck_waitlist_entry_active_status')),
    sa.CheckConstraint("status != 'offered' OR booking_id IS NOT NULL",
                       name=op.f('ck_waitlist_entry_offer_has_hold')),
    sa.ForeignKeyConstraint(['booking_id'], ['booking.id'],
                            name=op.f('fk_waitlist_entry_booking_id_booking'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['client_id'], ['user_account.id'],
                            name=op.f('fk_waitlist_entry_client_id_user_account'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['venue_id'], ['venue.id'],
                            name=op.f('fk_waitlist_entry_venue_id_venue'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_waitlist_entry')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_waitlist_entry_booking_id'))
    )
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.create_index('ix_waitlist_entry_client', ['client_id', 'created_at', 'id'],
                              unique=False)
        batch_op.create_index('ix_waitlist_entry_venue_queue',
                              ['venue_id', 'status', 'created_at', 'id'], unique=False)
    create_guard(op, WAITLIST_GUARD)


def downgrade():
    drop_guard(op, WAITLIST_GUARD)
    with op.batch_alter_table('waitlist_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_waitlist_entry_venue_queue')
        batch_op.drop_index('ix_waitlist_entry_client')
    op.drop_table('waitlist_entry')
    op.execute("UPDATE booking SET status = 'cancelled' WHERE status = 'offered'")
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_booking_status_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_booking_status_known'), OLD_STATUSES)
