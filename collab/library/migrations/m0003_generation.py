"""`library_state.generation`: a number that changes, in the same commit, with anything a search
counts or filters on (an entry published, withdrawn, deleted, or its kind, level, year,
jurisdiction, date or topics changed).

Searches keep those facts of every published entry in memory (`catalogue.py`) and count
facets there: at 10,000 entries a common word matches most of them, and joining each match to
its row to group it cost more than the rest of the search. Each search reads the generation
first and reloads the facts when it moved, so every process sees another one's publication on
its next search. Triggers keep it, so no writer (the service, the importer, a migration) can
forget to. Draft edits do not touch these columns and do not move it.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa

_COLUMNS = "published_revision, kind, level, year, jurisdiction, published_at, topic_slugs"

_SQLITE = [
    *(f"""CREATE TRIGGER library_generation_{name} AFTER {event} ON library_entries BEGIN
        UPDATE library_state SET generation = generation + 1 WHERE id = 1;
    END""" for name, event in (("insert", "INSERT"), ("delete", "DELETE"),
                                ("update", f"UPDATE OF {_COLUMNS}"))),
]
_POSTGRES = [
    """CREATE FUNCTION library_next_generation() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        UPDATE library_state SET generation = generation + 1 WHERE id = 1;
        RETURN NULL;
    END $$""",
    f"""CREATE TRIGGER library_generation AFTER INSERT OR DELETE OR UPDATE OF {_COLUMNS}
        ON library_entries FOR EACH STATEMENT EXECUTE FUNCTION library_next_generation()""",
]


def upgrade(conn: sa.Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE library_state (id INTEGER PRIMARY KEY, "
                         "generation BIGINT NOT NULL)")
    # A random start: a process that searched another database (tests, a restored backup) never
    # takes this one's generation for the one it has facts of.
    conn.execute(sa.text("INSERT INTO library_state (id, generation) VALUES (1, :start)"),
                 {"start": secrets.randbelow(2**53)})
    for statement in _SQLITE if conn.dialect.name == "sqlite" else _POSTGRES:
        conn.exec_driver_sql(statement)
    if conn.dialect.name == "sqlite":
        # The covering index searches read facets through (library_0001) has no reader left:
        # it only cost every write.
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_library_entries_facets")
