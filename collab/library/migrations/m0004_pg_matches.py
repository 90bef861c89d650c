"""PostgreSQL: `library_matches(query)`, a search's matches in one call with no transaction.

A word in most entries makes the planner prefer reading the whole table, which then reads
every entry's search_vector out of TOAST to test the match: 150 ms for "use*" at 10,000
entries, against 20 ms through the GIN index it thought dearer. The function carries
`enable_seqscan = off` itself (a function's SET applies while it runs), so a search no longer
needs a transaction to hold a SET LOCAL: two round trips fewer (BEGIN, COMMIT).

It returns the library's generation and every published match in two arrays: those whose
title, topics or summary match (the quick rank), then the others.
"""

from __future__ import annotations

import sqlalchemy as sa

FUNCTION = """CREATE FUNCTION library_matches(q text)
RETURNS TABLE (generation bigint, ahead int[], rest int[])
LANGUAGE plpgsql STABLE SET enable_seqscan = off AS $$
BEGIN
    RETURN QUERY
    SELECT (SELECT s.generation FROM library_state s WHERE s.id = 1),
           array_agg(e.id) FILTER (WHERE e.rank_vector @@ query),
           array_agg(e.id) FILTER (WHERE NOT e.rank_vector @@ query)
    FROM library_entries e CROSS JOIN to_tsquery('english', q) AS query
    WHERE e.search_vector @@ query AND e.published_revision IS NOT NULL;
END $$"""


def upgrade(conn: sa.Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(FUNCTION)
