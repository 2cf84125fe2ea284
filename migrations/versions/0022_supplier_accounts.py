"""supplier accounts: a user_account belongs to one supplier (and the contact it was made
for); suppliers' notes and proposed resolutions on transferred feedback; photos of action
items a supplier marked done

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-06 23:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0020'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('admin', 'staff', 'supervisor', 'client')"
NEW_ROLES = "role IN ('admin', 'staff', 'supervisor', 'client', 'supplier')"


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('supplier_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('supplier_contact_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_account_supplier_id'), ['supplier_id'],
                              unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_user_account_supplier_contact_id'),
                                          ['supplier_contact_id'])
        batch_op.create_foreign_key(batch_op.f('fk_user_account_supplier_id_supplier'),
                                    'supplier', ['supplier_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(
            batch_op.f('fk_user_account_supplier_contact_id_supplier_contact'),
            'supplier_contact', ['supplier_contact_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(op.f('ck_user_account_role_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_user_account_role_known'), NEW_ROLES)
        batch_op.create_check_constraint(
            op.f('ck_user_account_supplier_account_has_supplier'),
            "(role = 'supplier' AND supplier_id IS NOT NULL) OR "
            "(role != 'supplier' AND supplier_id IS NULL)")

    op.create_table('feedback_supplier_note',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('feedback_id', sa.Integer(), nullable=False),
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('progress', 'proposal')", name=op.f('ck_feedback_supplier_note_kind_known')),
    sa.CheckConstraint('length(body) > 0', name=op.f('ck_feedback_supplier_note_body_given')),
    sa.CheckConstraint("(kind = 'progress' AND status IS NULL) OR (kind = 'proposal' AND status IN ('pending', 'confirmed', 'declined'))", name=op.f('ck_feedback_supplier_note_proposal_has_status')),
    sa.CheckConstraint("status IS NULL OR status != 'declined' OR decision_note != ''", name=op.f('ck_feedback_supplier_note_decline_has_reason')),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_feedback_supplier_note_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_feedback_supplier_note_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['feedback_id'], ['feedback.id'], name=op.f('fk_feedback_supplier_note_feedback_id_feedback'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_feedback_supplier_note_supplier_id_supplier'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_supplier_note'))
    )
    with op.batch_alter_table('feedback_supplier_note', schema=None) as batch_op:
        batch_op.create_index('ix_feedback_supplier_note_feedback', ['feedback_id', 'id'], unique=False)
        batch_op.create_index('ix_feedback_supplier_note_supplier_status', ['supplier_id', 'status'], unique=False)

    op.create_table('action_item_photo',
    sa.Column('action_item_id', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=64), nullable=False),
    sa.Column('caption', sa.String(length=200), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_item_id'], ['action_item.id'], name=op.f('fk_action_item_photo_action_item_id_action_item'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_item_photo')),
    sa.UniqueConstraint('file_name', name=op.f('uq_action_item_photo_file_name'))
    )
    with op.batch_alter_table('action_item_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_item_photo_action_item_id'), ['action_item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('action_item_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_item_photo_action_item_id'))
    op.drop_table('action_item_photo')
    with op.batch_alter_table('feedback_supplier_note', schema=None) as batch_op:
        batch_op.drop_index('ix_feedback_supplier_note_supplier_status')
        batch_op.drop_index('ix_feedback_supplier_note_feedback')
    op.drop_table('feedback_supplier_note')
    op.execute("DELETE FROM user_account WHERE role = 'supplier'")
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_account_supplier_account_has_supplier'),
                                 type_='check')
        batch_op.drop_constraint(op.f('ck_user_account_role_known'), type_='check')
        batch_op.create_check_constraint(op.f('ck_user_account_role_known'), OLD_ROLES)
        batch_op.drop_constraint(
            batch_op.f('fk_user_account_supplier_contact_id_supplier_contact'),
            type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_user_account_supplier_id_supplier'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_user_account_supplier_contact_id'),
                                 type_='unique')
        batch_op.drop_index(batch_op.f('ix_user_account_supplier_id'))
        batch_op.drop_column('supplier_contact_id')
        batch_op.drop_column('supplier_id')
