"""search: the search index (search_entry) with its trigram indexes, built for existing rows

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 20:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# The index's modules as of this revision (portal.search.models.MODULES).
MODULES = ('bookings', 'venues', 'feedback', 'suppliers', 'contracts', 'tenants', 'leases',
           'rooms', 'meetings', 'people')


def upgrade():
    op.create_table('search_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('module', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('detail', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('grams', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_entry')),
    sa.UniqueConstraint('module', 'object_id', name='uq_search_entry_module_object')
    )
    if op.get_bind().dialect.name == 'postgresql':
        # pg_trgm ships with postgresql-contrib and is a trusted extension (PostgreSQL 13+):
        # the database's owner may create it.  Its GIN indexes serve LIKE '%…%' patterns of
        # three characters or more; two-character queries look for ' xy ' in grams.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        # One partial index per module and column: the planner estimates a LIKE over the
        # whole column, and a module's own index keeps a term that is common elsewhere cheap.
        for module in MODULES:
            for column in ('text', 'grams'):
                op.execute(f'CREATE INDEX ix_search_entry_{module}_{column}_trgm '
                           f'ON search_entry USING gin ({column} gin_trgm_ops) '
                           f"WHERE module = '{module}'")
    else:
        # FTS5 over the table's own rows (external content), kept in step by triggers.
        op.execute("CREATE VIRTUAL TABLE search_entry_fts USING fts5(text, grams, "
                   "content='search_entry', content_rowid='id', tokenize='trigram')")
        op.execute("CREATE TRIGGER search_entry_fts_insert AFTER INSERT ON search_entry BEGIN "
                   "INSERT INTO search_entry_fts (rowid, text, grams) "
                   "VALUES (new.id, new.text, new.grams); END")
        op.execute("CREATE TRIGGER search_entry_fts_delete AFTER DELETE ON search_entry BEGIN "
                   "INSERT INTO search_entry_fts (search_entry_fts, rowid, text, grams) "
                   "VALUES ('delete', old.id, old.text, old.grams); END")
        op.execute("CREATE TRIGGER search_entry_fts_update AFTER UPDATE ON search_entry BEGIN "
                   "INSERT INTO search_entry_fts (search_entry_fts, rowid, text, grams) "
                   "VALUES ('delete', old.id, old.text, old.grams); "
                   "INSERT INTO search_entry_fts (rowid, text, grams) "
                   "VALUES (new.id, new.text, new.grams); END")
    # The index of the records that exist already is built by 0020 (search_gram), with the
    # loaders `flask search reindex` uses: this revision's own columns are gone from the model.


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for module in MODULES:
            for column in ('text', 'grams'):
                op.execute(f'DROP INDEX ix_search_entry_{module}_{column}_trgm')
    else:
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER search_entry_fts_{trigger}')
        op.execute('DROP TABLE search_entry_fts')
    op.drop_table('search_entry')
