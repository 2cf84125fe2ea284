"""search grams: a btree inverted index of two-character grams replaces pg_trgm and FTS5

Every two-character substring of each word of an entry's text becomes a row of search_gram,
whose primary key (gram, module, object_id) lists a module's entries holding a gram newest
first: a search reads a few index entries per module however common the word is (pg_trgm's
bitmap scans and FTS5's match lists read all of them).  The grams column, the twenty pg_trgm
indexes and the FTS5 table with its triggers go.  The index is rebuilt with the loaders
`flask search reindex` uses.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-06 23:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0018'
branch_labels = None
depends_on = None

# The index's modules as of this revision (portal.search.models.MODULES).
MODULES = ('bookings', 'venues', 'feedback', 'suppliers', 'contracts', 'tenants', 'leases',
           'rooms', 'meetings', 'people')


def _drop_engine_objects():
    if op.get_bind().dialect.name == 'postgresql':
        for module in MODULES:
            for column in ('text', 'grams'):
                op.execute(f'DROP INDEX IF EXISTS ix_search_entry_{module}_{column}_trgm')
    else:
        for trigger in ('insert', 'delete', 'update'):
            op.execute(f'DROP TRIGGER IF EXISTS search_entry_fts_{trigger}')
        op.execute('DROP TABLE IF EXISTS search_entry_fts')


def upgrade():
    _drop_engine_objects()
    with op.batch_alter_table('search_entry') as batch_op:
        batch_op.drop_column('grams')
    op.create_table('search_gram',
    sa.Column('gram', sa.String(length=2), nullable=False),
    sa.Column('module', sa.String(length=20), nullable=False),
    sa.Column('object_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('gram', 'module', 'object_id', name=op.f('pk_search_gram')),
    sqlite_with_rowid=False
    )
    op.create_index('ix_search_gram_module_object', 'search_gram', ['module', 'object_id'],
                    unique=False)
    # The whole index, entries and grams, from the records (the loaders of `flask search
    # reindex`; about a minute for the bench's 290,000 records).
    from portal.search.services import reindex

    reindex(op.get_bind())


def downgrade():
    # Back to 0016's shape: grams as a column with its engine's indexes, rebuilt from text.
    op.drop_index('ix_search_gram_module_object', table_name='search_gram')
    op.drop_table('search_gram')
    with op.batch_alter_table('search_entry') as batch_op:
        batch_op.add_column(sa.Column('grams', sa.Text(), nullable=False, server_default=''))
    conn = op.get_bind()
    entries = sa.table('search_entry', sa.column('id', sa.Integer), sa.column('text', sa.Text),
                       sa.column('grams', sa.Text))
    rows = conn.execute(sa.select(entries.c.id, entries.c.text)).all()
    for row in rows:
        found = {word[i:i + 2] for word in row.text.split(' ') for i in range(len(word) - 1)}
        grams = f" {' '.join(sorted(found))} " if found else ''
        conn.execute(entries.update().where(entries.c.id == row.id).values(grams=grams))
    if conn.dialect.name == 'postgresql':
        for module in MODULES:
            for column in ('text', 'grams'):
                op.execute(f'CREATE INDEX ix_search_entry_{module}_{column}_trgm '
                           f'ON search_entry USING gin ({column} gin_trgm_ops) '
                           f"WHERE module = '{module}'")
    else:
        op.execute("CREATE VIRTUAL TABLE search_entry_fts USING fts5(text, grams, "
                   "content='search_entry', content_rowid='id', tokenize='trigram')")
        op.execute("INSERT INTO search_entry_fts (search_entry_fts) VALUES ('rebuild')")
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
