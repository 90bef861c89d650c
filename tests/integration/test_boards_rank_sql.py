"""PostgreSQL computes a move's rank itself (collab_rank_between, m0002_rank_sql.py): it must
give the rank ranks.py gives for the same neighbours, or the two databases would order cards
differently and a board's replica would disagree with the server."""

from __future__ import annotations

import random

import asyncpg
import pytest

from collab.boards import ranks
from collab.migrations import migrate
from collab.settings import normalise_database_url

pytestmark = pytest.mark.anyio


def _neighbour_pairs() -> list[tuple[str | None, str | None]]:
    """Neighbours as a board meets them: random inserts, appends and prepends past the
    integer parts' borders, and repeated inserts at one spot (long fractions)."""
    rng = random.Random(11)
    keys: list[str] = []
    pairs: list[tuple[str | None, str | None]] = [(None, None)]
    for _ in range(1500):
        i = rng.randint(0, len(keys))
        pair = (keys[i - 1] if i else None, keys[i] if i < len(keys) else None)
        pairs.append(pair)
        keys.insert(i, ranks.between(*pair))
    end = ranks.spread(4000)  # a0 … past az and b00: the integer part grows
    pairs += [(a, None) for a in end[::7]] + list(zip(end[:-1:13], end[1::13], strict=True))
    top = ["a0"]
    for _ in range(300):  # prepending: Zz, Zy, … then Y and shorter heads
        pairs.append((None, top[0]))
        top.insert(0, ranks.between(None, top[0]))
    low, high = "a0", "a1"
    for _ in range(250):
        pairs += [(low, high), (low, None), (None, high)]
        low = ranks.between(low, high)
    pairs += [("Zz", "a0"), ("a0", "a0V"), ("a0V", "a1"), ("az", None), ("a0zzz", "a1"),
              ("A" + "0" * 26 + "V", None), (None, "A" + "0" * 26 + "V")]
    return pairs


async def test_postgresql_ranks_equal_the_python_ranks_for_every_kind_of_neighbours(
    postgres_db: str,
) -> None:
    await migrate(normalise_database_url(postgres_db))
    pairs = _neighbour_pairs()
    conn = await asyncpg.connect(postgres_db)
    try:
        got = await conn.fetch(
            "SELECT collab_rank_between(a, b) FROM unnest($1::text[], $2::text[]) "
            "WITH ORDINALITY AS p(a, b, n) ORDER BY n",
            [a for a, _ in pairs], [b for _, b in pairs])
        mismatched = [(a, b, row[0], ranks.between(a, b))
                      for (a, b), row in zip(pairs, got, strict=True)
                      if row[0] != ranks.between(a, b)]
        assert not mismatched, mismatched[:5]
        assert len(pairs) > 2500
        # Neighbours out of order are refused, as ranks.py refuses them.
        with pytest.raises(asyncpg.RaiseError, match="is not below"):
            await conn.fetchval("SELECT collab_rank_between('a1', 'a0')")
        with pytest.raises(asyncpg.RaiseError, match="invalid rank"):
            await conn.fetchval("SELECT collab_rank_between('a10', NULL)")
    finally:
        await conn.close()
