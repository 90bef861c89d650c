"""Card order by ranks (collab/boards/ranks.py): always a rank between two others, short ranks
for the common moves, byte order."""

from __future__ import annotations

import random

import pytest

from collab.boards import ranks


def test_a_rank_lies_strictly_between_its_neighbours_whatever_the_inserts() -> None:
    rng = random.Random(7)
    keys: list[str] = []
    for _ in range(3000):
        i = rng.randint(0, len(keys))
        new = ranks.between(keys[i - 1] if i else None, keys[i] if i < len(keys) else None)
        ranks.validate(new)
        keys.insert(i, new)
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    # Byte order is the order: what SQLite's BINARY and PostgreSQL's "C" collation compare.
    assert keys == sorted(keys, key=lambda k: k.encode())
    assert max(map(len, keys)) < 12


def test_appending_and_prepending_keep_ranks_short() -> None:
    end = ranks.spread(1000)
    assert end == sorted(end) and max(map(len, end)) <= 3
    top = [ranks.between(None, None)]
    for _ in range(1000):
        top.insert(0, ranks.between(None, top[0]))
    assert top == sorted(top) and max(map(len, top)) <= 3


def test_inserting_at_one_spot_grows_ranks_slowly_until_a_rebalance_is_due() -> None:
    low, high = "a0", "a1"
    for n in range(1, 400):
        low = ranks.between(low, high)
        if ranks.needs_rebalance(low):
            break
    assert n > 250, n  # about six inserts a character, from 2 characters to 48


@pytest.mark.parametrize("bad", ["", "a", "a00", "b0", "A" + "0" * 26, "a0!", "a0é"])
def test_malformed_ranks_are_refused(bad: str) -> None:
    with pytest.raises(ranks.RankError):
        ranks.validate(bad)
    with pytest.raises(ranks.RankError):
        ranks.between(bad, None)


def test_neighbours_out_of_order_are_refused() -> None:
    with pytest.raises(ranks.RankError):
        ranks.between("a2", "a1")
    with pytest.raises(ranks.RankError):
        ranks.between("a1", "a1")
