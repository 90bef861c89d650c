"""The library search, per database: the matches, their facets and order, one page of rows.

1. The matches: the full-text index alone (FTS5 on SQLite, the GIN index of `search_vector` on
   PostgreSQL) gives every matching id with its quick rank.
2. Facets, filters, the total and the order by date come from the catalogue of published
   entries kept in memory (catalogue.py): joining 7,500 matches of a common word to their rows
   to group them cost more than finding them.
3. The full rank of the best RESCORE by the quick one, then the page's rows with their
   highlighted title and snippets, for those ids only (SQLite's snippet(); on PostgreSQL,
   highlight.py from the query's lexemes).

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

import datetime as dt
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, islice
from types import SimpleNamespace
from typing import Any

from collab import db

from . import highlight
from .catalogue import CATALOGUE, GENERATION_SQL, Library
from .highlight import CLOSE, OPEN

RESCORE = 200

_COLUMNS = ("e.id, e.kind, e.title, e.summary, e.published_at, e.jurisdiction, e.level, "
            "e.year, e.featured, e.topic_slugs")
_PG_QUICK = ("ts_rank('{0.1, 0.3, 0.5, 1.0}'::float4[], e.rank_vector, query) + "
             "CASE WHEN e.title_vector @@ query THEN 1.0 ELSE 0.0 END")


@dataclass
class Page:
    total: int
    facets: dict[str, dict[str, int]]
    rows: list[Any]


async def run(conn: Any, filters: dict[str, Any], match: str | None, by_relevance: bool,
              page: int, per_page: int, exclude: str | None = None,
              narrow: Typed | None = None) -> Page:
    """Facet counts, total and one page of rows for `match` (None: every entry) and filters.

    `exclude` (with no `match`): every entry but those it matches, for a search of excluded
    words alone ("-budget"), which neither FTS5 nor the GIN index can answer by itself.
    `narrow` (SQLite): the last word being typed, matched apart (`_typed`)."""
    ranked = match is not None and by_relevance
    if db.is_sqlite():
        url = str(conn.engine.url)
        return await db.sqlite_read(conn, lambda c: _sqlite_run(
            c, url, filters, match, ranked, page, per_page, exclude, narrow))
    raw = (await conn.get_raw_connection()).driver_connection  # asyncpg
    return await _pg_run(raw, str(conn.engine.url), filters, match, ranked, page, per_page,
                         exclude)


# The page of the best few by their full rank, with what highlighting needs, in one statement
# (ties: the newest first, as in the catalogue's order).
_PG_RANKED_PAGE = (
    f"SELECT {_COLUMNS}, e.body_text, query::text AS lexemes "
    "FROM library_entries e CROSS JOIN library_query($1) AS query "
    "WHERE e.id = ANY($2::int[]) "
    f"ORDER BY {_PG_QUICK} + ts_rank('{{0.1, 0.3, 0.5, 1.0}}'::float4[], e.search_vector, "
    "query) DESC, e.published_at DESC, e.id DESC LIMIT $3 OFFSET $4")


async def _pg_run(raw: Any, url: str, filters: dict[str, Any], match: str | None,
                  ranked: bool, page: int, per_page: int, exclude: str | None = None) -> Page:
    """The search on PostgreSQL, on the asyncpg connection: two round trips (the matches, the
    page), no transaction, and no row objects for thousands of matches."""
    first = None
    if match is None and exclude is not None:
        generation, _ahead, matches = await raw.fetchrow(
            "SELECT generation, ahead, found FROM library_matches($1)", exclude)
        library = await CATALOGUE.current_pg(url, generation, raw)
        found: set[int] | frozenset[int] = library.published - set(matches or ())
    elif match is None:
        generation = await raw.fetchval(GENERATION_SQL)
        library = await CATALOGUE.current_pg(url, generation, raw)
        found = library.published
    else:
        generation, ahead, matches = await raw.fetchrow(
            "SELECT generation, ahead, found FROM library_matches($1)", match)
        library = await CATALOGUE.current_pg(url, generation, raw)
        found = set(matches or ())
        first = set(ahead or ()) if ranked else None  # _choose keeps those in `found`
    chosen = _choose(library, found, library.by_date, first, filters, ranked, page, per_page)
    if chosen.rescore:
        rows = await raw.fetch(_PG_RANKED_PAGE, match, chosen.ids, chosen.per_page,
                               chosen.offset)
        return Page(chosen.total, chosen.facets, _pg_found(rows, None, match))
    ids = chosen.ids
    return Page(chosen.total, chosen.facets, await _pg_rows(raw, ids, match) if ids else [])


def _sqlite_run(c: sqlite3.Connection, url: str, filters: dict[str, Any], match: str | None,
                ranked: bool, page: int, per_page: int, exclude: str | None = None,
                narrow: Typed | None = None) -> Page:
    """The whole search on SQLite's connection, in its driver's thread (one hop)."""
    library = CATALOGUE.current_in_thread(url, c)
    first = None
    if match is None:
        found: set[int] | frozenset[int] = library.published
        if exclude is not None:
            found = found - {r[0] for r in c.execute(_FTS_IDS, (exclude,))}
    else:
        if narrow is not None:
            found = _typed(c, narrow)
        else:
            found = {r[0] for r in c.execute(_FTS_IDS, (match,))}
        if ranked:
            # The quick rank: does the query match in the title, topics or summary alone?
            first = {r[0] for r in c.execute(_FTS_IDS, ("{title summary topics_text} : ("
                                                        + match + ")",))}
    chosen = _choose(library, found, library.by_date, first, filters, ranked, page, per_page)
    ids = chosen.ids
    if chosen.rescore:
        # bm25 (lower is better); `+rowid` keeps FTS5 from running the whole MATCH again for
        # each id (a seek per row cost 3 ms with a prefix term).
        scores = c.execute(
            "SELECT library_fts.rowid, -bm25(library_fts, 10.0, 3.0, 1.0, 5.0) FROM library_fts "
            f"WHERE library_fts MATCH ? AND +library_fts.rowid IN ({_marks(ids)})",
            (match, *ids)).fetchall()
        ids = chosen.page_of(dict(scores), library)
    marks = tuple(w.translate(highlight.FOLD) for w in (narrow.word, *narrow.words)) \
        if narrow is not None else ()
    return Page(chosen.total, chosen.facets,
                _sqlite_rows(c, ids, match, marks) if ids else [])


@dataclass(frozen=True)
class Typed:
    """SQLite, with a last word being typed: that word, the words of the other terms (for
    marks), the other terms' FTS5 query (None: no other word) and, without one, the excluded
    terms' (which leave entries out)."""

    word: str
    words: tuple[str, ...]
    others: str | None
    excluded: str | None


def _typed(c: sqlite3.Connection, typed: Typed) -> set[int]:
    """Entries with a word that starts as typed (the unstemmed `library_words`) or that has
    the typed word's own stem ("cities": city), and the other terms. The stemmed index alone
    widened "bus" to "bu*" (budgeting) and missed "procurem" (procurement's stem is procur)."""
    found = {r[0] for r in c.execute(_WORDS_IDS, (f'"{typed.word}"*',))} | \
        {r[0] for r in c.execute(_FTS_IDS, (f'"{typed.word}"',))}
    if typed.others is not None:
        found &= {r[0] for r in c.execute(_FTS_IDS, (typed.others,))}
    elif typed.excluded is not None:
        found -= {r[0] for r in c.execute(_FTS_IDS, (typed.excluded,))}
    return found


_FTS_IDS = "SELECT rowid FROM library_fts WHERE library_fts MATCH ?"
_WORDS_IDS = "SELECT rowid FROM library_words WHERE library_words MATCH ?"


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


@dataclass
class _Chosen:
    total: int
    facets: dict[str, dict[str, int]]
    ids: list[int]  # the page's, or the best RESCORE by the quick rank when `rescore`
    rescore: bool
    offset: int
    per_page: int

    def page_of(self, scores: dict[int, float], library: Library) -> list[int]:
        """The page, once the best few have their full rank (ties: the newest first)."""
        position = library.position
        best = sorted(self.ids, key=lambda i: (-scores.get(i, 0.0), position[i]))
        return best[self.offset:self.offset + self.per_page]


def _facets(library: Library, found: set[int] | frozenset[int]) -> dict[str, dict[str, int]]:
    """Counts per kind, topic, level and year of `found` (at C speed: Counter over a map of
    dict lookups; a set intersection per value cost five times as much). A common word
    matches most of the library: then the entries it does not match are counted, and taken
    from the library's own counts (9,000 matches cost 5 ms counted, 1 ms this way)."""
    if len(found) * 2 <= len(library.published):
        counts = _counts(library, found)
    else:
        whole = library.counts
        missing = _counts(library, library.published - found)
        counts = {name: whole[name] - missing[name] for name in whole}
    return {name: {str(v): n for v, n in values.items() if n > 0 and v not in ("", None)}
            for name, values in counts.items()}


def _counts(library: Library, ids: Iterable[int]) -> dict[str, Counter[Any]]:
    ids = list(ids)
    counts: dict[str, Counter[Any]] = {name: Counter() for name in ("kind", "level", "year",
                                                                    "topic")}
    kinds, levels, years, topics = (counts[name] for name in ("kind", "level", "year", "topic"))
    for number, n in Counter(map(library.combo_of.__getitem__, ids)).items():
        kind, level, year = library.combos[number]
        kinds[kind] += n
        levels[level] += n
        years[year] += n
    for number, n in Counter(map(library.topic_set_of.__getitem__, ids)).items():
        for topic in library.topic_sets[number]:
            topics[topic] += n
    return counts


def _choose(library: Library, found: set[int] | frozenset[int], order: list[int],
            first: set[int] | None, filters: dict[str, Any], ranked: bool, page: int,
            per_page: int) -> _Chosen:
    """Filters, facets, the total and the page's ids (or the best few to rank in full), from
    the matches and the catalogue: set intersections, and `order` read only as far as the
    page."""
    found = found & library.published
    for name, value in filters.items():
        found = found & library.with_(name, value)
    facets = _facets(library, found)
    # In the order: the quick rank (on SQLite the matches of `first`, then the others), then
    # the newest. `order` is read only as far as the page; a few matches of a long order are
    # sorted instead (reading 10,000 ids to find 300 cost more).
    def in_order(ids: set[int] | frozenset[int]) -> Iterable[int]:
        if order is library.by_date and len(ids) * 8 < len(order):
            return sorted(ids, key=library.position.__getitem__)
        return (i for i in order if i in ids)

    if first is None:
        ordered = in_order(found)
    else:
        ahead = first & found
        ordered = chain(in_order(ahead), in_order(found - ahead))
    offset = (page - 1) * per_page
    if ranked and offset + per_page <= RESCORE and len(found) > 1:
        return _Chosen(len(found), facets, list(islice(ordered, RESCORE)), True, offset,
                       per_page)
    return _Chosen(len(found), facets, list(islice(ordered, offset, offset + per_page)), False,
                   offset, per_page)


async def _pg_rows(raw: Any, ids: list[int], match: str | None) -> list[Any]:
    """PostgreSQL: the page's rows in `ids` order, with highlights when there is a query."""
    if match is None:
        rows = await raw.fetch(f"SELECT {_COLUMNS} FROM library_entries e "
                               "WHERE e.id = ANY($1::int[])", ids)
    else:
        rows = await raw.fetch(f"SELECT {_COLUMNS}, e.body_text, query::text AS lexemes "
                               "FROM library_entries e CROSS JOIN library_query($2) "
                               "AS query WHERE e.id = ANY($1::int[])", ids, match)
    return _pg_found(rows, ids, match)


def _pg_found(rows: list[Any], ids: list[int] | None, match: str | None) -> list[Any]:
    """asyncpg rows as the page reads them (in `ids` order, or in the order they came)."""
    found = [SimpleNamespace(**dict(r)) for r in rows]
    if ids is not None:
        by_id = {row.id: row for row in found}
        found = [by_id[i] for i in ids if i in by_id]
    if match is None:
        for row in found:
            row.title_hl = row.summary_hl = row.body_hl = None
        return found
    return [_pg_highlighted(r) for r in found]


def _sqlite_rows(c: sqlite3.Connection, ids: list[int], match: str | None,
                 marks: tuple[str, ...] = ()) -> list[Any]:
    """`_rows` on SQLite's own connection (see _sqlite_run). A row that `match` misses (found
    through the word being typed: "procurem") is read plainly and marked in Python."""
    if match is None:
        sql = (f"SELECT {_COLUMNS}, NULL AS title_hl, NULL AS summary_hl, NULL AS body_hl "
               f"FROM library_entries e WHERE e.id IN ({_marks(ids)})")
        args: tuple[Any, ...] = tuple(ids)
    else:
        sql = (f"SELECT {_COLUMNS}, highlight(library_fts, 0, ?, ?) AS title_hl, "
               "snippet(library_fts, 1, ?, ?, '…', 32) AS summary_hl, "
               "snippet(library_fts, 2, ?, ?, '…', 24) AS body_hl "
               "FROM library_fts JOIN library_entries e ON e.id = library_fts.rowid "
               f"WHERE library_fts MATCH ? AND +library_fts.rowid IN ({_marks(ids)})")
        args = (OPEN, CLOSE, OPEN, CLOSE, OPEN, CLOSE, match, *ids)
    cursor = c.execute(sql, args)
    names = [d[0] for d in cursor.description]
    rows = {}
    for values in cursor.fetchall():
        row = SimpleNamespace(**dict(zip(names, values, strict=True)))
        row.published_at = _datetime(row.published_at)
        rows[row.id] = row
    missing = [i for i in ids if i not in rows]
    if match is not None and missing:
        bodies = dict(c.execute(f"SELECT id, body_text FROM library_entries "
                                f"WHERE id IN ({_marks(missing)})", missing).fetchall())
        for row in _sqlite_rows(c, missing, None):
            body = bodies.get(row.id)
            row.title_hl = highlight.mark_all(row.title, marks)
            row.summary_hl = highlight.snippet(row.summary or "", marks) or None
            row.body_hl = highlight.snippet(body or "", marks) or None
            rows[row.id] = row
    return [rows[i] for i in ids if i in rows]


def _datetime(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


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
