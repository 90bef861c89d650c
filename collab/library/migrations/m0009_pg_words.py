"""PostgreSQL: the last word typed finds the words it starts, not only the stems it starts.

The English vectors hold stems, which can be shorter than what is typed on the way to a word:
"procurem" on the way to "procurement" (stem "procur") and "runni" on the way to "running"
(stem "run") found nothing until the word was whole, and stop words ("the", "their") are not
in them at all. `words_vector` holds every word as it is written (the `simple` configuration,
over `library_plain` text), like SQLite's `library_words`. `library_matches` reads it only
when the stems find nothing for a typed word (it went past them, or is a stop word): a short
prefix's words are many, and reading them for every keystroke tripled the search's p95.
"""

from __future__ import annotations

import sqlalchemy as sa

WORDS = ("ALTER TABLE library_entries ADD COLUMN words_vector tsvector GENERATED ALWAYS AS ("
         "to_tsvector('simple'::regconfig, library_plain(title) || ' ' || "
         "library_plain(topics_text) || ' ' || library_plain(summary) || ' ' || "
         "library_plain(body_text))) STORED")
INDEX = "CREATE INDEX ix_library_entries_words ON library_entries USING GIN (words_vector)"

MATCHES = """CREATE OR REPLACE FUNCTION library_matches(q text)
RETURNS TABLE (generation bigint, ahead int[], found int[])
LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
DECLARE
    query tsquery := library_query(q);
    rest text := split_part(q, chr(31), 1);
    word text := split_part(q, chr(31), 2);
    negs text := split_part(q, chr(31), 4);
    gen bigint := (SELECT s.generation FROM library_state s WHERE s.id = 1);
    quick int[] := (SELECT array_agg(e.id) FROM library_entries e WHERE e.rank_vector @@ query);
    hits int[] := (SELECT array_agg(e.id) FROM library_entries e WHERE e.search_vector @@ query);
    others tsquery;
BEGIN
    -- The stems answer unless the typed word goes past every stem it starts ("procurem") or
    -- is a stop word: only then the words as written, whose short prefixes (a, b, …) would
    -- cost far more to read there.
    IF hits IS NULL AND strpos(q, chr(31)) > 0 AND word <> ''
            AND split_part(q, chr(31), 3) = '&' THEN
        others := to_tsquery('english', concat_ws(' & ', nullif(rest, ''), nullif(negs, '')));
        IF numnode(others) = 0 THEN
            hits := (SELECT array_agg(e.id) FROM library_entries e
                     WHERE e.words_vector @@ to_tsquery('simple', word || ':*'));
        ELSE
            hits := (SELECT array_agg(e.id) FROM library_entries e
                     WHERE e.words_vector @@ to_tsquery('simple', word || ':*')
                       AND e.search_vector @@ others);
        END IF;
    END IF;
    RETURN QUERY SELECT gen, quick, hits;
END $$"""


def upgrade(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(WORDS)
        conn.exec_driver_sql(INDEX)
        conn.exec_driver_sql(MATCHES)
