"""The library's schema, frozen: later model changes get a migration of their own.

Search is kept up to date by the database itself, so every write path (the workflow, the
importer's batch inserts, a manual fix in SQL) indexes the same way:
- SQLite: an FTS5 table over the entry's published copy (`content=library_entries`, so the
  text is stored once) kept in step by triggers; Porter stemming, diacritics folded.
- PostgreSQL: a generated `tsvector` column weighting title (A), topics (B), summary (C) and
  body (D), with a GIN index; two small generated vectors for ranking (search_sql.py).
"""

from __future__ import annotations

import sqlalchemy as sa


def tables(md: sa.MetaData) -> list[sa.Table]:
    return [
        sa.Table(
            "library_topics", md,
            sa.Column("slug", sa.String(length=40), primary_key=True),
            sa.Column("name", sa.String(length=80), nullable=False),
            sa.Column("description", sa.Text()),
            sa.Column("position", sa.Integer()),
        ),
        sa.Table(
            "library_entries", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("kind", sa.String(length=20), nullable=False),
            sa.Column("author", sa.Integer(), sa.ForeignKey("users.id")),
            sa.Column("state", sa.String(length=20)),
            sa.Column("reviewer_id", sa.Integer()),
            sa.Column("latest_revision", sa.Integer()),
            sa.Column("published_revision", sa.Integer()),
            sa.Column("featured", sa.Boolean()),
            sa.Column("created_at", sa.DateTime()),
            sa.Column("updated_at", sa.DateTime()),
            sa.Column("first_published_at", sa.DateTime()),
            sa.Column("published_at", sa.DateTime()),
            # Short columns first: SQLite reads a row from its start, and a column after a
            # long body sits in overflow pages (searches read kind, level, year, topics
            # of every match).
            sa.Column("jurisdiction", sa.String(length=100)),
            sa.Column("level", sa.String(length=20)),
            sa.Column("year", sa.Integer()),
            sa.Column("topic_slugs", sa.String(length=400), nullable=False,
                      server_default="[]"),
            sa.Column("title", sa.String(length=200), nullable=False, server_default=""),
            sa.Column("summary", sa.Text(), nullable=False, server_default=""),
            sa.Column("topics_text", sa.Text(), nullable=False, server_default=""),
            sa.Column("body_text", sa.Text(), nullable=False, server_default=""),
            sa.Index("ix_library_entries_year", "year"),
            sa.Index("ix_library_entries_jurisdiction", "jurisdiction"),
            sa.Index("ix_library_entries_published", "published_revision", "published_at"),
            sa.Index("ix_library_entries_state", "state", "updated_at"),
            sa.Index("ix_library_entries_author", "author", "updated_at"),
        ),
        sa.Table(
            "library_revisions", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("entry", sa.Integer(),
                      sa.ForeignKey("library_entries.id", ondelete="CASCADE")),
            sa.Column("number", sa.Integer(), nullable=False),
            sa.Column("editor", sa.Integer(), sa.ForeignKey("users.id")),
            sa.Column("title", sa.String(length=200), nullable=False),
            sa.Column("summary", sa.Text()),
            sa.Column("body", sa.Text()),
            sa.Column("topics", sa.Text()),
            sa.Column("details", sa.Text()),
            sa.Column("created_at", sa.DateTime()),
            sa.Column("updated_at", sa.DateTime()),
            sa.Column("published_at", sa.DateTime()),
            sa.UniqueConstraint("entry", "number", name="uq_library_revisions_number"),
        ),
        sa.Table(
            "library_entry_topics", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("entry", sa.Integer(),
                      sa.ForeignKey("library_entries.id", ondelete="CASCADE")),
            sa.Column("topic", sa.String(length=40), nullable=False),
            sa.UniqueConstraint("entry", "topic", name="uq_library_entry_topics"),
            sa.Index("ix_library_entry_topics_topic", "topic", "entry"),
        ),
        sa.Table(
            "library_history", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("entry", sa.Integer(),
                      sa.ForeignKey("library_entries.id", ondelete="CASCADE")),
            sa.Column("revision", sa.Integer(), nullable=False),
            sa.Column("actor", sa.Integer(), sa.ForeignKey("users.id")),
            sa.Column("action", sa.String(length=30), nullable=False),
            sa.Column("from_state", sa.String(length=20)),
            sa.Column("to_state", sa.String(length=20)),
            sa.Column("comment", sa.Text()),
            sa.Column("created_at", sa.DateTime()),
            sa.Index("ix_library_history_entry", "entry", "id"),
        ),
    ]


_SQLITE_SEARCH = [
    # What a search reads of every match (search_sql.py): a narrow covering index.
    """CREATE INDEX ix_library_entries_facets ON library_entries
        (id, published_revision, kind, level, year, jurisdiction, published_at, topic_slugs)""",
    """CREATE VIRTUAL TABLE library_fts USING fts5(
        title, summary, body_text, topics_text,
        content='library_entries', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER library_entries_fts_insert AFTER INSERT ON library_entries BEGIN
        INSERT INTO library_fts(rowid, title, summary, body_text, topics_text)
        VALUES (new.id, new.title, new.summary, new.body_text, new.topics_text);
    END""",
    """CREATE TRIGGER library_entries_fts_delete AFTER DELETE ON library_entries BEGIN
        INSERT INTO library_fts(library_fts, rowid, title, summary, body_text, topics_text)
        VALUES ('delete', old.id, old.title, old.summary, old.body_text, old.topics_text);
    END""",
    # Only a change of the indexed text re-indexes (not a state change or a timestamp).
    """CREATE TRIGGER library_entries_fts_update
    AFTER UPDATE OF title, summary, body_text, topics_text ON library_entries BEGIN
        INSERT INTO library_fts(library_fts, rowid, title, summary, body_text, topics_text)
        VALUES ('delete', old.id, old.title, old.summary, old.body_text, old.topics_text);
        INSERT INTO library_fts(rowid, title, summary, body_text, topics_text)
        VALUES (new.id, new.title, new.summary, new.body_text, new.topics_text);
    END""",
]

_POSTGRES_SEARCH = [
    # Everything, for finding (and ranking the best few again with their body): in TOAST.
    """ALTER TABLE library_entries ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(topics_text, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'C') ||
        setweight(to_tsvector('english'::regconfig, coalesce(body_text, '')), 'D')) STORED""",
    # Small, kept in the row, for ranking every match (search_sql.py says why).
    """ALTER TABLE library_entries ADD COLUMN rank_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') ||
        setweight(to_tsvector('english'::regconfig, coalesce(topics_text, '')), 'B') ||
        setweight(to_tsvector('english'::regconfig, coalesce(summary, '')), 'C')) STORED""",
    """ALTER TABLE library_entries ADD COLUMN title_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('english'::regconfig, coalesce(title, ''))) STORED""",
    # Long text and the big vector go to TOAST, so the rows a search visits are narrow (about
    # ten times more per page): counting facets over thousands of matches reads fewer pages.
    # What every match is counted or ranked by stays in the row (MAIN: moved out only when a
    # row would not fit a page); left EXTENDED, even a 30-byte jurisdiction went to TOAST.
    "ALTER TABLE library_entries SET (toast_tuple_target = 128)",
    *(f"ALTER TABLE library_entries ALTER COLUMN {column} SET STORAGE MAIN"
      for column in ("kind", "level", "jurisdiction", "topic_slugs", "title", "rank_vector",
                     "title_vector")),
    "CREATE INDEX ix_library_entries_search ON library_entries USING GIN (search_vector)",
]


# The list a new library starts with; experts, moderators and admins add more.
TOPICS = [
    ("procurement", "Procurement",
     "Buying well with public money: tenders, frameworks, contracts."),
    ("digital-services", "Digital services",
     "Designing, building and running services people can use."),
    ("data-analytics", "Data and analytics",
     "Using data to decide, allocate and evaluate."),
    ("emergency-response", "Emergency response",
     "Preparing for, coordinating and recovering from emergencies."),
    ("citizen-engagement", "Citizen engagement",
     "Involving residents in decisions and services."),
    ("workforce", "Workforce",
     "Skills, recruitment, ways of working in the public sector."),
    ("finance", "Finance and budgeting",
     "Budgets, funding models and value for money."),
    ("climate", "Climate and environment",
     "Net zero, adaptation and environmental services."),
]


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    # The users table belongs to an earlier migration: named here only for the foreign keys.
    sa.Table("users", md, sa.Column("id", sa.Integer(), primary_key=True))
    md.create_all(conn, tables=tables(md))
    statements = _SQLITE_SEARCH if conn.dialect.name == "sqlite" else _POSTGRES_SEARCH
    for statement in statements:
        conn.exec_driver_sql(statement)
    topics = md.tables["library_topics"]
    conn.execute(topics.insert(), [{"slug": slug, "name": name, "description": description,
                                    "position": n}
                                   for n, (slug, name, description) in enumerate(TOPICS, 1)])
