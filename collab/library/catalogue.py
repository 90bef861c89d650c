"""What a search counts and filters on, for every published entry, kept in memory as sets.

At 10,000 entries a common word matches most of the library; joining each match to its row to
count facets and order by date cost more than finding the matches (about 15 ms of a 30 ms
search on SQLite). Here each facet value (a kind, a topic, a level, a year) and each
jurisdiction is the set of the published entries that have it, and the library's order by date
is one list: a search intersects its matches with those sets, at C speed. They are read in one
pass (about 30 ms at 10,000 entries) whenever `library_state.generation` has moved, which
triggers move in the same commit as any change to what is read here (m0003_generation.py): a
search reads the generation first, so it never counts with facts older than the entries it
finds.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

FIELDS = ("kind", "topic", "level", "year", "jurisdiction")  # what a search filters on

GENERATION_SQL = "SELECT generation FROM library_state WHERE id = 1"
_FACTS_SQL = ("SELECT id, kind, level, year, jurisdiction, published_at, topic_slugs "
              "FROM library_entries WHERE published_revision IS NOT NULL")


@dataclass
class Library:
    """The published entries as a search sees them."""

    published: frozenset[int] = frozenset()
    by_date: list[int] = field(default_factory=list)  # newest first, then the highest id
    position: dict[int, int] = field(default_factory=dict)  # in by_date
    # field → value → the entries that have it (a topic: every entry with that topic)
    having: dict[str, dict[Any, frozenset[int]]] = field(default_factory=dict)
    # Each entry's (kind, level, year) and its topics, as the number of that combination in
    # `combos` and `topic_sets`: a search counts its matches per number (two passes over
    # small ints, where one pass per field over the values themselves cost twice as much),
    # then the numbers' values (under a hundred combinations, a few hundred topic sets).
    combo_of: dict[int, int] = field(default_factory=dict)
    combos: list[tuple[Any, Any, Any]] = field(default_factory=list)
    topic_set_of: dict[int, int] = field(default_factory=dict)
    topic_sets: list[tuple[str, ...]] = field(default_factory=list)
    # the facet counts of the whole library: a search matching most of it counts the rest
    counts: dict[str, Counter[Any]] = field(default_factory=dict)

    def with_(self, name: str, value: Any) -> frozenset[int]:
        return self.having[name].get(value, frozenset())


class Catalogue:
    """The published library as of one generation of one database (one per process)."""

    def __init__(self) -> None:
        self.generation: tuple[str, int] | None = None
        self.library = Library()
        self._loading = asyncio.Lock()

    async def current_pg(self, url: str, generation: int, raw: Any) -> Library:
        """The same, given the generation a search just read, on an asyncpg connection."""
        if (url, generation) != self.generation:
            async with self._loading:
                if (url, generation) != self.generation:
                    self.library = _build(await raw.fetch(_FACTS_SQL))
                    self.generation = (url, generation)
        return self.library

    def current_in_thread(self, url: str, c: sqlite3.Connection) -> Library:
        """The same, on SQLite's own connection in its driver's thread (`db.sqlite_read`)."""
        generation = (url, c.execute(GENERATION_SQL).fetchone()[0])
        if generation != self.generation:
            # Two threads may both read it: the same facts, and the last one kept.
            self.library = _build(c.execute(_FACTS_SQL).fetchall())
            self.generation = generation
        return self.library


def _build(rows: list[Any]) -> Library:
    having: dict[str, dict[Any, set[int]]] = {name: {} for name in FIELDS}
    combo_numbers: dict[tuple[Any, Any, Any], int] = {}
    combo_of: dict[int, int] = {}
    topic_numbers: dict[str, int] = {}
    topic_sets: list[tuple[str, ...]] = []
    topic_set_of: dict[int, int] = {}
    for id_, kind, level, year, jurisdiction, _published_at, slugs in rows:
        combo = (kind, level or "", year)
        for name, value in zip(("kind", "level", "year"), combo, strict=True):
            having[name].setdefault(value, set()).add(id_)
        combo_of[id_] = combo_numbers.setdefault(combo, len(combo_numbers))
        having["jurisdiction"].setdefault(jurisdiction or "", set()).add(id_)
        number = topic_numbers.get(slugs)
        if number is None:
            number = topic_numbers[slugs] = len(topic_sets)
            topic_sets.append(tuple(orjson.loads(slugs or "[]")))
        topic_set_of[id_] = number
        for topic in topic_sets[number]:
            having["topic"].setdefault(topic, set()).add(id_)
    # Dates are datetimes on PostgreSQL, ISO text on SQLite: either sorts in time order.
    by_date = [r[0] for r in sorted(rows, key=lambda r: (r[5] is not None, r[5] or "", r[0]),
                                    reverse=True)]
    counts: dict[str, Counter[Any]] = {
        name: Counter({value: len(ids) for value, ids in having[name].items()})
        for name in ("kind", "level", "year", "topic")}
    return Library(frozenset(by_date), by_date, {id_: n for n, id_ in enumerate(by_date)},
                   {name: {value: frozenset(ids) for value, ids in values.items()}
                    for name, values in having.items()}, combo_of, list(combo_numbers),
                   topic_set_of, topic_sets, counts)


CATALOGUE = Catalogue()
