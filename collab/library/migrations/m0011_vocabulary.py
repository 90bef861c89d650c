"""The library's own words, for "did you mean" (spelling.py).

SQLite: an `fts5vocab` table over `library_words` (the unstemmed index of m0007): each word as
written, with the number of entries that have it. Only published revisions are in that index
(a draft's search columns stay empty until it is published), so no draft's words can be
suggested. PostgreSQL reads the same from `words_vector` with `ts_stat` (m0009); nothing to
create there.
"""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(
            "CREATE VIRTUAL TABLE library_vocab USING fts5vocab(library_words, 'row')")
