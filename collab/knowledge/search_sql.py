"""The library search's two statements, per database.

1. One pass over the matching entries (materialised once) gives every facet's counts, hence the
   total, and the page's ids in order: the full-text index is read once, not once for the
   counts and again for the page.
2. The page's rows with their highlighted title and snippets, for those ids only (SQLite's
   snippet(); on PostgreSQL, highlight.py from the query's lexemes).

Ranking: a quick rank for every match, then the full rank for the best RESCORE by it.
- Quick: SQLite, whether the query matches in the title, topics or summary alone (an FTS5
  column filter); PostgreSQL, `ts_rank` over a small `rank_vector` (title A, topics B,
  summary C) plus 1 when the title alone matches the whole query (`title_vector`).
- Full: SQLite, FTS5's bm25 with column weights title 10, summary 3, body 1, topics 5;
  PostgreSQL, the quick rank plus `ts_rank` over `search_vector` (body D as well).
Ranking every match in full cost about 1 ms per 100 matches on either database (bm25 reads
each match's column sizes; PostgreSQL reads each whole vector out of TOAST), which a common
word at 10,000 entries turned into 50 ms or more. With RESCORE matches or fewer the order is
the full rank's; past them the quick rank orders the rest, and pages stay consistent (the
first RESCORE are the same set either way).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from collab import db

from . import highlight
from .highlight import CLOSE, OPEN

RESCORE = 200

_FILTER_SQL = {
    "kind": "e.kind = :kind",
    "level": "e.level = :level",
    "jurisdiction": "e.jurisdiction = :jurisdiction",
    "year": "e.year = :year",
    "topic": "EXISTS (SELECT 1 FROM library_entry_topics t WHERE t.entry = e.id "
             "AND t.topic = :topic)",
}
_FACETS = """
SELECT 'kind' AS facet, kind AS value, count(*) AS n FROM m GROUP BY kind
UNION ALL SELECT 'level', level, count(*) FROM m WHERE level <> '' GROUP BY level
UNION ALL SELECT 'year', CAST(year AS TEXT), count(*) FROM m WHERE year IS NOT NULL GROUP BY year
UNION ALL {topics}
UNION ALL SELECT 'page', CAST(id AS TEXT), position FROM ({page}) AS p"""
# The slugs ride on the entry row as a JSON array: unnesting them costs less than joining the
# topic table for every match (or, as PostgreSQL planned it, hashing all of that table).
# Matches share a few dozen sets of topics: each set is unnested once, with its count (unnesting
# every match's array cost about twice as much at 7,000 matches).
_TOPIC_SETS = "(SELECT topic_slugs, count(*) AS n FROM m GROUP BY topic_slugs) AS g"
_SQLITE_TOPICS = (f"SELECT 'topic', topic.value, sum(g.n) FROM {_TOPIC_SETS} "
                  "CROSS JOIN json_each(g.topic_slugs) AS topic GROUP BY topic.value")
_PG_TOPICS = (f"SELECT 'topic', topic, sum(g.n) FROM {_TOPIC_SETS} "
              "CROSS JOIN json_array_elements_text(g.topic_slugs::json) AS topic GROUP BY topic")
# SQLite: every column a search counts or filters on is in one narrow covering index, so a
# match costs an index lookup, not a read of its row (about one page each, with its text).
_SQLITE_ENTRIES = "library_entries e INDEXED BY ix_library_entries_facets"
_BY_DATE = "published_at DESC, id DESC"
_COLUMNS = ("e.id, e.kind, e.title, e.summary, e.published_at, e.jurisdiction, e.level, "
            "e.year, e.featured, e.topic_slugs")
_QUERY = "to_tsquery('english', :match)"
_PG_QUICK = ("ts_rank('{0.1, 0.3, 0.5, 1.0}'::float4[], e.rank_vector, query) + "
             "CASE WHEN e.title_vector @@ query THEN 1.0 ELSE 0.0 END")


@dataclass
class Page:
    total: int
    facets: dict[str, dict[str, int]]
    rows: list[Any]


def _where(filters: dict[str, Any], fts_first: bool) -> list[str]:
    where = ["e.published_revision IS NOT NULL", *(_FILTER_SQL[name] for name in filters)]
    if fts_first:
        # SQLite: a unary + keeps the planner off the entry table's indexes, so the full-text
        # index drives. Starting from `year` instead made FTS5 run the whole MATCH once per
        # entry of that year: 10 s instead of 5 ms at 10,000 entries.
        where = [w.replace("e.", "+e.", 1) if w.startswith("e.") else w for w in where]
    return where


def _page_sql(sqlite: bool, ranked: bool, rescore: bool) -> str:
    """The page's ids with their position, ordered, from the match set `m`."""
    order = f"rank DESC, {_BY_DATE}" if ranked else _BY_DATE
    if not rescore:
        return (f"SELECT id, row_number() OVER (ORDER BY {order}) AS position FROM m "
                f"ORDER BY {order} LIMIT :limit OFFSET :offset")
    best = f"SELECT id, rank, published_at FROM m ORDER BY {order} LIMIT {RESCORE}"
    if sqlite:
        # bm25 (lower is better) of the best few only: `+rowid` keeps FTS5 from running the
        # whole MATCH again for each of them (a seek per row cost 3 ms with a prefix term).
        scored = (f"SELECT c.id, c.published_at, -bm25(library_fts, 10.0, 3.0, 1.0, 5.0) "
                  f"AS score FROM library_fts JOIN ({best}) c ON c.id = +library_fts.rowid "
                  "WHERE library_fts MATCH :match")
    else:
        scored = (f"SELECT c.id, c.published_at, c.rank + ts_rank("
                  f"'{{0.1, 0.3, 0.5, 1.0}}'::float4[], e.search_vector, query) AS score "
                  f"FROM ({best}) c JOIN library_entries e ON e.id = c.id "
                  f"CROSS JOIN {_QUERY} AS query")
    again = f"score DESC, {_BY_DATE}"
    return (f"SELECT id, row_number() OVER (ORDER BY {again}) AS position FROM ({scored}) s "
            f"ORDER BY {again} LIMIT :limit OFFSET :offset")


async def run(conn: Any, filters: dict[str, Any], match: str | None, by_relevance: bool,
              page: int, per_page: int) -> Page:
    """Facet counts, total and one page of rows for `match` (None: every entry) and filters."""
    sqlite = db.is_sqlite()
    where = _where(filters, fts_first=sqlite and match is not None)
    params: dict[str, Any] = dict(filters)
    offset = (page - 1) * per_page
    params.update(limit=per_page, offset=offset)
    ranked = match is not None and by_relevance
    if match is None:
        source, quick = _SQLITE_ENTRIES if sqlite else "library_entries e", "0"
    elif sqlite:
        source = f"library_fts JOIN {_SQLITE_ENTRIES} ON e.id = library_fts.rowid"
        where.append("library_fts MATCH :match")
        # The quick rank: does the query match in the title, topics or summary alone? (one
        # more pass of the index, evaluated once: cheap next to bm25 for every match)
        quick = ("CASE WHEN e.id IN (SELECT rowid FROM library_fts WHERE library_fts "
                 "MATCH :head) THEN 1 ELSE 0 END")
        params["head"] = "{title summary topics_text} : (" + match + ")"
    else:
        source, quick = f"library_entries e CROSS JOIN {_QUERY} AS query", _PG_QUICK
        where.append("e.search_vector @@ query")
    if match is not None:
        params["match"] = match
        if not sqlite:
            # A word in most entries makes the planner prefer reading the whole table, which
            # then reads every entry's search_vector out of TOAST to test the match: 150 ms for
            # "use*" at 10,000 entries, against 20 ms through the GIN index it thought dearer.
            await conn.execute(sa.text("SET LOCAL enable_seqscan = off"))
    rescore = ranked and offset + per_page <= RESCORE
    statement = (
        f"WITH m AS MATERIALIZED (SELECT e.id, e.kind, e.level, e.year, e.published_at, "
        f"e.topic_slugs, {quick if ranked else '0'} AS rank "
        f"FROM {source} WHERE {' AND '.join(where)}) "
        + _FACETS.format(topics=_SQLITE_TOPICS if sqlite else _PG_TOPICS,
                         page=_page_sql(sqlite, ranked, rescore)))
    facets: dict[str, dict[str, int]] = {"kind": {}, "topic": {}, "level": {}, "year": {}}
    positions: list[tuple[int, int]] = []
    for facet, value, n in (await conn.execute(sa.text(statement), params)).all():
        if facet == "page":
            positions.append((int(n), int(value)))
        else:
            facets[facet][str(value)] = int(n)
    ids = [entry_id for _position, entry_id in sorted(positions)]
    total = sum(facets["kind"].values())
    return Page(total, facets, await _rows(conn, ids, match) if ids else [])


async def _rows(conn: Any, ids: list[int], match: str | None) -> list[Any]:
    """The page's rows in `ids` order, with highlights when there is a query."""
    params: dict[str, Any] = {"ids": ids}
    if match is None:
        sql = (f"SELECT {_COLUMNS}, NULL AS title_hl, NULL AS summary_hl, NULL AS body_hl "
               "FROM library_entries e WHERE e.id IN :ids")
    elif db.is_sqlite():
        params.update(match=match, open=OPEN, close=CLOSE)
        sql = (f"SELECT {_COLUMNS}, highlight(library_fts, 0, :open, :close) AS title_hl, "
               "snippet(library_fts, 1, :open, :close, '…', 32) AS summary_hl, "
               "snippet(library_fts, 2, :open, :close, '…', 24) AS body_hl "
               "FROM library_fts JOIN library_entries e ON e.id = library_fts.rowid "
               "WHERE library_fts MATCH :match AND +library_fts.rowid IN :ids")
    else:
        params["match"] = match
        sql = (f"SELECT {_COLUMNS}, e.body_text, query::text AS lexemes "
               f"FROM library_entries e CROSS JOIN {_QUERY} AS query WHERE e.id IN :ids")
    statement = (sa.text(sql).bindparams(sa.bindparam("ids", expanding=True))
                 .columns(published_at=sa.DateTime, featured=sa.Boolean))
    rows = {r.id: r for r in (await conn.execute(statement, params)).all()}
    found = [rows[i] for i in ids if i in rows]
    if match is not None and not db.is_sqlite():
        found = [_pg_highlighted(r) for r in found]
    return found


@dataclass
class _Highlighted:
    """A PostgreSQL row with title_hl, summary_hl and body_hl as SQLite's come."""

    row: Any
    title_hl: str
    summary_hl: str
    body_hl: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


def _pg_highlighted(row: Any) -> _Highlighted:
    stems = highlight.lexemes(row.lexemes or "")
    return _Highlighted(row, highlight.mark_all(row.title, stems),
                        highlight.mark_all(row.summary, stems),
                        highlight.snippet(row.body_text, stems))
