"""Card and column order: lexicographic ranks, so a move writes one row, never a renumbering.

A rank is a short base-62 string (`0-9A-Za-z`, compared byte by byte: the database column is
`COLLATE "C"` on PostgreSQL and BINARY on SQLite). Between any two ranks there is always
another. The scheme is the one of Figma's and David Greenspan's "fractional indexing": an
integer part whose first character says how many digits follow (`a0`, `a1`, … `az`, `b00`, …;
`Z`, `Y`, … below zero), then an optional fraction without trailing zeros. Appending at the end
of a column increments the integer, so 1,000 appends give ranks of 3 characters, not 170 as
plain midpoints would; only repeated inserts at one spot lengthen ranks (about one character
per six inserts), and `needs_rebalance` says when a column should be given fresh ranks.
"""

from __future__ import annotations

DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
BASE = len(DIGITS)
_INDEX = {c: i for i, c in enumerate(DIGITS)}
ZERO = "a0"
# The smallest integer part ("A" and 26 zeros) cannot be a rank on its own: nothing sorts below.
_SMALLEST = "A" + "0" * 26
# Ranks longer than this make the column ask for fresh, evenly spread ranks. The column holds
# 255 characters; 48 is reached only after ~270 inserts at one spot.
REBALANCE_LENGTH = 48


class RankError(ValueError):
    """A rank that is not one (corrupt data or a caller's bug)."""


def _integer_length(head: str) -> int:
    if "a" <= head <= "z":
        return ord(head) - ord("a") + 2
    if "A" <= head <= "Z":
        return ord("Z") - ord(head) + 2
    raise RankError(f"invalid rank head {head!r}")


def _integer_part(key: str) -> str:
    length = _integer_length(key[0])
    if length > len(key):
        raise RankError(f"invalid rank {key!r}")
    return key[:length]


def validate(key: str) -> None:
    """Raise RankError unless `key` is a well-formed rank."""
    if not key or any(c not in _INDEX for c in key):
        raise RankError(f"invalid rank {key!r}")
    if key == _SMALLEST:
        raise RankError(f"invalid rank {key!r}")
    integer = _integer_part(key)
    if key[len(integer):].endswith("0"):
        raise RankError(f"invalid rank {key!r}: trailing zero")


def _midpoint(a: str, b: str | None) -> str:
    """A fraction strictly between fractions `a` and `b` (None: 1), neither with trailing 0."""
    if b is not None and a >= b:
        raise RankError(f"{a!r} is not below {b!r}")
    if b is not None:
        n = 0
        while (a[n] if n < len(a) else "0") == b[n]:
            n += 1
        if n > 0:
            return b[:n] + _midpoint(a[n:], b[n:])
    digit_a = _INDEX[a[0]] if a else 0
    digit_b = _INDEX[b[0]] if b is not None else BASE
    if digit_b - digit_a > 1:
        return DIGITS[round((digit_a + digit_b) / 2)]
    if b is not None and len(b) > 1:
        return b[:1]
    return DIGITS[digit_a] + _midpoint(a[1:], None)


def _increment(integer: str) -> str | None:
    head, digits = integer[0], list(integer[1:])
    for i in range(len(digits) - 1, -1, -1):
        d = _INDEX[digits[i]] + 1
        if d < BASE:
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = "0"
    if head == "Z":
        return ZERO
    if head == "z":
        return None
    head = chr(ord(head) + 1)
    if head > "a":
        digits.append("0")
    else:
        digits.pop()
    return head + "".join(digits)


def _decrement(integer: str) -> str | None:
    head, digits = integer[0], list(integer[1:])
    for i in range(len(digits) - 1, -1, -1):
        d = _INDEX[digits[i]] - 1
        if d >= 0:
            digits[i] = DIGITS[d]
            return head + "".join(digits)
        digits[i] = DIGITS[-1]
    if head == "a":
        return "Z" + DIGITS[-1]
    if head == "A":
        return None
    head = chr(ord(head) - 1)
    if head < "Z":
        digits.append(DIGITS[-1])
    else:
        digits.pop()
    return head + "".join(digits)


def between(a: str | None, b: str | None) -> str:
    """A rank strictly between `a` and `b` (None: the start or the end of the column)."""
    if a is not None:
        validate(a)
    if b is not None:
        validate(b)
    if a is not None and b is not None and a >= b:
        raise RankError(f"{a!r} is not below {b!r}")
    if a is None:
        if b is None:
            return ZERO
        ib = _integer_part(b)
        fb = b[len(ib):]
        if ib == _SMALLEST:
            return ib + _midpoint("", fb)
        if ib < b:
            return ib
        lower = _decrement(ib)
        if lower is None:
            raise RankError("cannot go below the smallest rank")
        return lower
    if b is None:
        ia = _integer_part(a)
        fa = a[len(ia):]
        higher = _increment(ia)
        return higher if higher is not None else ia + _midpoint(fa, None)
    ia = _integer_part(a)
    fa = a[len(ia):]
    ib = _integer_part(b)
    fb = b[len(ib):]
    if ia == ib:
        return ia + _midpoint(fa, fb)
    higher = _increment(ia)
    if higher is None:
        raise RankError("cannot go above the largest rank")
    if higher < b:
        return higher
    return ia + _midpoint(fa, None)


def spread(n: int) -> list[str]:
    """`n` short ranks in order, for a column given fresh ranks (or seed data)."""
    out: list[str] = []
    last: str | None = None
    for _ in range(n):
        last = between(last, None)
        out.append(last)
    return out


def needs_rebalance(rank: str) -> bool:
    return len(rank) > REBALANCE_LENGTH
