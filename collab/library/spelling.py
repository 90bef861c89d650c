""""Did you mean": a close spelling from the library's own words, when a search finds little.

The vocabulary is every word of the published entries as written (accents folded, lower
case) with the number of entries that have it: SQLite's `library_vocab` (m0011), PostgreSQL's
`ts_stat` over `words_vector` (m0009). It is read once per library generation (a publication
moves it) and kept per process: about 20,000 words at 10,000 entries.

A word of the query that no entry has (nor, for the word being typed, starts) is replaced by
the nearest word within an edit distance of 1 (words under five letters) or 2, the one most
entries have among equals. rapidfuzz compares in C, and only words of a length within the
distance are compared, so a query of twelve misspelt words costs milliseconds.
"""

from __future__ import annotations

import asyncio
import bisect
from dataclasses import dataclass, field

import sqlalchemy as sa
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from collab import db

from .catalogue import GENERATION_SQL
from .migrations.m0008_pg_plain import FOLD

MAX_WORDS_CHECKED = 8
SHORTEST = 3
# The fewest results a search may find and still be offered another spelling.
FEW = 2

_SQLITE_SQL = "SELECT term, doc FROM library_vocab"
_PG_SQL = ("SELECT word, ndoc FROM ts_stat('SELECT words_vector FROM library_entries "
           "WHERE published_revision IS NOT NULL')")


@dataclass
class Vocabulary:
    generation: int | None = None
    entries_with: dict[str, int] = field(default_factory=dict)
    ordered: list[str] = field(default_factory=list)  # for "does a word start with this"
    by_length: dict[int, list[str]] = field(default_factory=dict)

    def knows(self, word: str, prefix: bool = False) -> bool:
        if word in self.entries_with:
            return True
        if not prefix:
            return False
        at = bisect.bisect_left(self.ordered, word)
        return at < len(self.ordered) and self.ordered[at].startswith(word)

    def nearest(self, word: str) -> str | None:
        """The closest known word within the allowed distance; ties go to the commoner one."""
        allowed = 1 if len(word) < 5 else 2
        best: tuple[int, int, str] | None = None
        for length in range(len(word) - allowed, len(word) + allowed + 1):
            near = process.extract(word, self.by_length.get(length, ()),
                                   scorer=Levenshtein.distance, score_cutoff=allowed,
                                   limit=None)
            for candidate, distance, _ in near:
                key = (int(distance), -self.entries_with[candidate], candidate)
                if best is None or key < best:
                    best = key
        return best[2] if best else None


_vocabulary = Vocabulary()
_lock = asyncio.Lock()


async def vocabulary() -> Vocabulary:
    """The published library's words as of the current generation (read again when it moved)."""
    global _vocabulary
    async with db.database.connection() as conn:
        generation = (await conn.execute(sa.text(GENERATION_SQL))).scalar()
    if generation == _vocabulary.generation:
        return _vocabulary
    async with _lock:
        if generation == _vocabulary.generation:
            return _vocabulary
        async with db.database.connection() as conn:
            rows = (await conn.execute(sa.text(_SQLITE_SQL if db.is_sqlite() else _PG_SQL))
                    ).all()
        words = {str(w): int(n) for w, n in rows if len(str(w)) >= SHORTEST and str(w).isalpha()}
        by_length: dict[int, list[str]] = {}
        for word in words:
            by_length.setdefault(len(word), []).append(word)
        _vocabulary = Vocabulary(generation, words, sorted(words), by_length)
    return _vocabulary


def respell(q: str, words: list[tuple[str, bool]], known: Vocabulary) -> str | None:
    """`q` with each unknown word (`(word, is_typed_prefix)`, as parsed) replaced by its nearest
    known spelling, or None when no word needed or found one."""
    changes: dict[str, str] = {}
    for word, prefix in words[:MAX_WORDS_CHECKED]:
        folded = word.translate(FOLD)
        if len(folded) < SHORTEST or not folded.isalpha() or known.knows(folded, prefix):
            continue
        better = known.nearest(folded)
        if better is not None and better != folded:
            changes[word] = better
    if not changes:
        return None
    out: list[str] = []
    at = 0
    # Replace whole words only, left to right, keeping everything else as typed.
    while at < len(q):
        if q[at].isalnum():
            end = at
            while end < len(q) and q[end].isalnum():
                end += 1
            out.append(changes.get(q[at:end].lower(), q[at:end]))
            at = end
        else:
            out.append(q[at])
            at += 1
    return "".join(out).strip()
