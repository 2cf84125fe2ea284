"""leases keep their true period; a deposit has a status; receipt numbers are unique

* A terminated lease's rooms were switched off (``lease_room.active = false``) with their old
  end, so the rooms looked free at once and the overlap guard let a new lease take the days
  the tenant still had.  From now on a termination shortens the period to the day after the
  last day and the rows stay active; an ended lease keeps its period too.  Existing rows are
  mended the same way, except where a later lease already holds some of those days (the
  situation the bug allowed): such a row stays switched off, as before, rather than refuse the
  upgrade.
* ``lease.deposit_status`` (none, received, settled), derived from the existing amounts, so
  deposit steps go through the one transition mechanism.
* ``payment.receipt_no`` is unique when given.  Duplicates already recorded keep their number
  with the payment's id appended (``SJ-9/#12``), so the upgrade does not fail.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 20:10:00.000000

"""
from datetime import timedelta

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

lease = sa.table("lease", sa.column("id", sa.Integer), sa.column("status", sa.String),
                 sa.column("terminated_on", sa.Date), sa.column("end_date", sa.Date))
lease_room = sa.table("lease_room", sa.column("id", sa.Integer),
                      sa.column("lease_id", sa.Integer), sa.column("room_id", sa.Integer),
                      sa.column("starts_on", sa.Date), sa.column("ends_before", sa.Date),
                      sa.column("active", sa.Boolean))
payment = sa.table("payment", sa.column("id", sa.Integer), sa.column("receipt_no", sa.String))


def _mend_periods() -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(lease_room.c.id, lease_room.c.room_id, lease_room.c.starts_on,
                  lease_room.c.ends_before, lease.c.status, lease.c.terminated_on)
        .join(lease, lease.c.id == lease_room.c.lease_id)
        .where(lease.c.status.in_(("ended", "terminated")), lease_room.c.active.is_(False))
        .order_by(lease_room.c.id)).all()
    for row_id, room_id, starts_on, ends_before, status, terminated_on in rows:
        if status == "terminated" and terminated_on is not None:
            ends_before = max(min(ends_before, terminated_on + timedelta(days=1)),
                              starts_on + timedelta(days=1))
        taken = connection.execute(
            sa.select(lease_room.c.id).where(
                lease_room.c.room_id == room_id, lease_room.c.active.is_(True),
                lease_room.c.starts_on < ends_before, lease_room.c.ends_before > starts_on)
            .limit(1)).first()
        if taken is None:
            connection.execute(lease_room.update().where(lease_room.c.id == row_id)
                               .values(ends_before=ends_before, active=True))


def _number_duplicate_receipts() -> None:
    connection = op.get_bind()
    seen = set()
    for payment_id, receipt_no in connection.execute(
            sa.select(payment.c.id, payment.c.receipt_no)
            .where(payment.c.receipt_no != "").order_by(payment.c.id)).all():
        if receipt_no in seen:
            connection.execute(payment.update().where(payment.c.id == payment_id)
                               .values(receipt_no=f"{receipt_no[:40]}/#{payment_id}"))
        seen.add(receipt_no)


def upgrade():
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deposit_status', sa.String(length=20), nullable=False,
                                      server_default='none'))
    op.execute("UPDATE lease SET deposit_status = CASE "
               "WHEN deposit_settled_on IS NOT NULL THEN 'settled' "
               "WHEN deposit_received_fen > 0 THEN 'received' ELSE 'none' END")
    # A terminated lease without its last day (none should exist): its end is the last day.
    op.execute("UPDATE lease SET terminated_on = end_date "
               "WHERE status = 'terminated' AND terminated_on IS NULL")
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_lease_deposit_status_known'), "deposit_status IN ('none', 'received', 'settled')")
        batch_op.create_check_constraint(
            op.f('ck_lease_terminated_on_known'), "status != 'terminated' OR terminated_on IS NOT NULL")
    _mend_periods()
    _number_duplicate_receipts()
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('uq_payment_receipt_no', ['receipt_no'], unique=True,
                              postgresql_where=sa.text("receipt_no != ''"),
                              sqlite_where=sa.text("receipt_no != ''"))


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('uq_payment_receipt_no')
    # Back to the old rule: ended and terminated leases hold no rooms.
    op.execute("UPDATE lease_room SET active = false WHERE lease_id IN "
               "(SELECT id FROM lease WHERE status IN ('ended', 'terminated'))")
    with op.batch_alter_table('lease', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_lease_terminated_on_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_lease_deposit_status_known'), type_='check')
        batch_op.drop_column('deposit_status')
