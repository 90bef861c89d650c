"""The in-memory catalogue's facet counts (search_sql._facets) equal counting the matches one
by one, whether a search matches a few entries or most of the library (then the entries it
does not match are counted and taken from the library's own counts)."""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter

from collab.library import catalogue, search_sql


def _rows(n: int) -> list[tuple[object, ...]]:
    rng = random.Random(5)
    topics = ["climate", "finance", "workforce", "procurement"]
    return [(i, rng.choice(["article", "case_study", "paper"]),
             rng.choice(["", "municipal", "national"]), rng.choice([None, 2019, 2024]),
             rng.choice(["", "Kent County Council"]),
             dt.datetime(2024, 1, 1) + dt.timedelta(hours=rng.randint(0, 9000)),
             json.dumps(rng.sample(topics, rng.randint(0, 3))))
            for i in range(1, n + 1)]


def _by_hand(rows: list[tuple[object, ...]], ids: set[int]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = {name: Counter() for name in ("kind", "level", "year", "topic")}
    for id_, kind, level, year, _j, _at, slugs in rows:
        if id_ not in ids:
            continue
        out["kind"][str(kind)] += 1
        if level:
            out["level"][str(level)] += 1
        if year is not None:
            out["year"][str(year)] += 1
        for topic in json.loads(str(slugs)):
            out["topic"][topic] += 1
    return {name: dict(values) for name, values in out.items()}


def test_facet_counts_equal_counting_by_hand_for_few_and_most_matches() -> None:
    rows = _rows(1000)
    library = catalogue._build(rows)
    rng = random.Random(9)
    for share in (0.0, 0.01, 0.3, 0.5, 0.51, 0.9, 1.0):
        ids = {r[0] for r in rows if rng.random() < share}  # type: ignore[misc]
        assert search_sql._facets(library, frozenset(ids) & library.published) == \
            _by_hand(rows, ids), share


def test_the_order_by_date_is_newest_first_then_highest_id() -> None:
    rows = _rows(300)
    library = catalogue._build(rows)
    expected = [r[0] for r in sorted(rows, key=lambda r: (r[5], r[0]), reverse=True)]
    assert library.by_date == expected
