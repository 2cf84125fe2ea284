"""rent receipts: the portal numbers every payment's receipt (收据) from a per-year counter
without gaps; a receipt can be voided with a reason and keeps its number.  The hand-typed
``receipt_no`` stays as the bank's or another external reference.

Existing payments get receipts numbered in the year they were paid, in the order they were
paid (then recorded), and each year's counter continues after the last of them.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 02:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('receipt_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.CheckConstraint('last_number >= 0', name=op.f('ck_receipt_counter_last_not_negative')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_receipt_counter'))
    )
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_year', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('receipt_number', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('receipt_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('receipt_status', sa.String(length=10),
                                      server_default='issued', nullable=False))
        batch_op.add_column(sa.Column('void_reason', sa.Text(), server_default='',
                                      nullable=False))
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('voided_by_id', sa.Integer(), nullable=True))

    # Number the receipts of the payments recorded so far (both engines: plain statements).
    connection = op.get_bind()
    payment = sa.table('payment', sa.column('id', sa.Integer), sa.column('paid_on', sa.Date),
                       sa.column('receipt_year', sa.Integer),
                       sa.column('receipt_number', sa.Integer),
                       sa.column('receipt_code', sa.String))
    counter = sa.table('receipt_counter', sa.column('year', sa.Integer),
                       sa.column('last_number', sa.Integer))
    last: dict[int, int] = {}
    rows = connection.execute(sa.select(payment.c.id, payment.c.paid_on)
                              .order_by(payment.c.paid_on, payment.c.id)).all()
    for payment_id, paid_on in rows:
        year = paid_on.year if hasattr(paid_on, 'year') else int(str(paid_on)[:4])
        last[year] = last.get(year, 0) + 1
        connection.execute(payment.update().where(payment.c.id == payment_id).values(
            receipt_year=year, receipt_number=last[year],
            receipt_code=f"{year}-{last[year]:06d}"))
    if last:
        connection.execute(counter.insert(), [{'year': year, 'last_number': number}
                                              for year, number in sorted(last.items())])

    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.alter_column('receipt_year', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('receipt_number', existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column('receipt_code', existing_type=sa.String(length=40),
                              nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_payment_receipt_code'),
                                          ['receipt_code'])
        batch_op.create_unique_constraint('uq_payment_receipt_year_number',
                                          ['receipt_year', 'receipt_number'])
        batch_op.create_check_constraint(op.f('ck_payment_receipt_number_positive'),
                                         'receipt_number >= 1')
        batch_op.create_check_constraint(op.f('ck_payment_receipt_status_known'),
                                         "receipt_status IN ('issued', 'voided')")
        batch_op.create_check_constraint(op.f('ck_payment_void_has_reason'),
                                         "receipt_status != 'voided' OR void_reason != ''")
        batch_op.create_foreign_key(batch_op.f('fk_payment_voided_by_id_user_account'),
                                    'user_account', ['voided_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_payment_voided_by_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_constraint(op.f('ck_payment_void_has_reason'), type_='check')
        batch_op.drop_constraint(op.f('ck_payment_receipt_status_known'), type_='check')
        batch_op.drop_constraint(op.f('ck_payment_receipt_number_positive'), type_='check')
        batch_op.drop_constraint('uq_payment_receipt_year_number', type_='unique')
        batch_op.drop_constraint(batch_op.f('uq_payment_receipt_code'), type_='unique')
        batch_op.drop_column('voided_by_id')
        batch_op.drop_column('voided_at')
        batch_op.drop_column('void_reason')
        batch_op.drop_column('receipt_status')
        batch_op.drop_column('receipt_code')
        batch_op.drop_column('receipt_number')
        batch_op.drop_column('receipt_year')
    op.drop_table('receipt_counter')
