"""The last word typed is a prefix of the words it finds, not of their stems.

SQLite: the full-text index holds Porter stems, and FTS5 stems a prefix term too: "bus" became
"bu*" and found "budgeting", "gas" found "gaps". `library_words` indexes the same columns
unstemmed (no positions, prefix indexes for 1 to 3 characters), and a search narrows its
matches to the entries with a word starting with what was typed.

PostgreSQL: `to_tsquery('english', 'an:*')` drops a stop word and finds nothing, so typing
"an" towards "analytics" showed no entry until the third letter. `library_query` builds the
query from a text whose typed prefix travels apart (search.tsquery): the prefix matches a
lexeme starting with its English stem or with the word as typed (the `simple` dictionary keeps
stop words). Every statement that read `to_tsquery('english', q)` reads `library_query(q)`.

The typed word matches a lexeme that starts with it as typed, or that is its own English stem:
"bus" finds business and buses, "cities" finds city and cities; the stem as a prefix widened
"cities" to citizen and "informal" to information. SQLite does the same: the unstemmed words
starting with it, or its stem as a whole word.
"""

from __future__ import annotations

import sqlalchemy as sa

_COLUMNS = "title, summary, body_text, topics_text"

SQLITE = [
    f"""CREATE VIRTUAL TABLE library_words USING fts5(
        {_COLUMNS}, content='library_entries', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='1 2 3', detail='none')""",
    "INSERT INTO library_words(library_words) VALUES ('rebuild')",
    f"""CREATE TRIGGER library_entries_words_insert AFTER INSERT ON library_entries BEGIN
        INSERT INTO library_words(rowid, {_COLUMNS})
        VALUES (new.id, new.title, new.summary, new.body_text, new.topics_text);
    END""",
    f"""CREATE TRIGGER library_entries_words_delete AFTER DELETE ON library_entries BEGIN
        INSERT INTO library_words(library_words, rowid, {_COLUMNS})
        VALUES ('delete', old.id, old.title, old.summary, old.body_text, old.topics_text);
    END""",
    f"""CREATE TRIGGER library_entries_words_update
    AFTER UPDATE OF {_COLUMNS} ON library_entries BEGIN
        INSERT INTO library_words(library_words, rowid, {_COLUMNS})
        VALUES ('delete', old.id, old.title, old.summary, old.body_text, old.topics_text);
        INSERT INTO library_words(rowid, {_COLUMNS})
        VALUES (new.id, new.title, new.summary, new.body_text, new.topics_text);
    END""",
]

# q: a `to_tsquery` text, or four parts joined by U+001F: the other positive terms, the typed
# prefix word, how they combine (& or |), and the excluded terms.
QUERY = """CREATE FUNCTION library_query(q text) RETURNS tsquery
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    rest text := split_part(q, chr(31), 1);
    word text := split_part(q, chr(31), 2);
    op text := split_part(q, chr(31), 3);
    negs text := split_part(q, chr(31), 4);
    typed tsquery;
    found tsquery;
BEGIN
    IF strpos(q, chr(31)) = 0 THEN
        RETURN to_tsquery('english', q);
    END IF;
    typed := to_tsquery('english', word) || to_tsquery('simple', word || ':*');
    IF rest = '' THEN
        found := typed;
    ELSIF op = '|' THEN
        found := to_tsquery('english', rest) || typed;
    ELSE
        found := to_tsquery('english', rest) && typed;
    END IF;
    IF negs <> '' THEN
        found := found && to_tsquery('english', negs);
    END IF;
    RETURN found;
END $$"""

MATCHES = """CREATE FUNCTION library_matches(q text)
RETURNS TABLE (generation bigint, ahead int[], found int[])
LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
DECLARE
    query tsquery := library_query(q);
BEGIN
    RETURN QUERY
    SELECT (SELECT s.generation FROM library_state s WHERE s.id = 1),
           (SELECT array_agg(e.id) FROM library_entries e WHERE e.rank_vector @@ query),
           (SELECT array_agg(e.id) FROM library_entries e WHERE e.search_vector @@ query);
END $$"""


def upgrade(conn: sa.Connection) -> None:
    if conn.dialect.name == "sqlite":
        for statement in SQLITE:
            conn.exec_driver_sql(statement)
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql(QUERY)
        conn.exec_driver_sql("DROP FUNCTION library_matches(text)")
        conn.exec_driver_sql(MATCHES)
