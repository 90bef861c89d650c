"""SQLite: the full-text table gains prefix indexes (1, 2 and 3 characters).

Search as you type makes the last word a prefix, and a word of one or two letters ("flood w")
expanded to every term starting with it: 28 ms for that term alone at 10,000 entries, 1 ms
with the prefix index (about a fifth more index). PostgreSQL's GIN index needs nothing.
"""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    # The triggers name the table, not its definition: they keep working on the new one.
    conn.exec_driver_sql("DROP TABLE library_fts")
    conn.exec_driver_sql("""CREATE VIRTUAL TABLE library_fts USING fts5(
        title, summary, body_text, topics_text,
        content='library_entries', content_rowid='id',
        tokenize='porter unicode61 remove_diacritics 2', prefix='1 2 3')""")
    conn.exec_driver_sql("INSERT INTO library_fts(library_fts) VALUES ('rebuild')")
