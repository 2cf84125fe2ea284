"""stored figures and report indexes (issue 17): a closed survey round's scale answers
counted per question and point (survey_round_figure, filled here for the rounds already
closed); indexes for the rental reports (payments by day, open rent by due day).

Revision ID: 0030
Revises: 0025
Create Date: 2026-12-07 03:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.add_column(sa.Column('figures_stored_at', sa.DateTime(timezone=True),
                                      nullable=True))
    op.create_table('survey_round_figure',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('point', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('answers', sa.Integer(), nullable=False),
    sa.CheckConstraint('answers > 0', name=op.f('ck_survey_round_figure_answers_positive')),
    sa.CheckConstraint('point BETWEEN 0 AND 4', name=op.f('ck_survey_round_figure_point_known')),
    sa.ForeignKeyConstraint(['question_id'], ['survey_question.id'],
                            name=op.f('fk_survey_round_figure_question_id_survey_question'),
                            ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['survey_round.id'],
                            name=op.f('fk_survey_round_figure_round_id_survey_round'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'question_id', 'point',
                            name=op.f('pk_survey_round_figure'))
    )
    # The rounds closed so far: their figures, counted once here.
    op.execute("""
        INSERT INTO survey_round_figure (round_id, question_id, point, answers)
        SELECT r.round_id, a.question_id, COALESCE(a.value, 0), COUNT(*)
        FROM survey_answer a
        JOIN survey_response r ON r.id = a.response_id
        JOIN survey_question q ON q.id = a.question_id
        JOIN survey_round s ON s.id = r.round_id
        WHERE q.kind = 'scale' AND s.status = 'closed'
        GROUP BY r.round_id, a.question_id, COALESCE(a.value, 0)
    """)
    op.execute("UPDATE survey_round SET figures_stored_at = CURRENT_TIMESTAMP "
               "WHERE status = 'closed'")


    with op.batch_alter_table('rent_period', schema=None) as batch_op:
        batch_op.create_index('ix_rent_period_due_sums',
                              ['due_on', 'lease_id', 'amount_fen', 'paid_fen'], unique=False)
        batch_op.create_index('ix_rent_period_overdue', ['due_on', 'lease_id'], unique=False,
                              postgresql_where=sa.text('paid_fen < amount_fen'),
                              sqlite_where=sa.text('paid_fen < amount_fen'))
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.create_index('ix_payment_paid_on', ['paid_on', 'amount_fen'], unique=False,
                              postgresql_where=sa.text("receipt_status != 'voided'"),
                              sqlite_where=sa.text("receipt_status != 'voided'"))


def downgrade():
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_paid_on')
    with op.batch_alter_table('rent_period', schema=None) as batch_op:
        batch_op.drop_index('ix_rent_period_overdue')
        batch_op.drop_index('ix_rent_period_due_sums')
    op.drop_table('survey_round_figure')
    with op.batch_alter_table('survey_round', schema=None) as batch_op:
        batch_op.drop_column('figures_stored_at')
