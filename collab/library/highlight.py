"""Matched words marked in PostgreSQL's results, in Python, from the query's own lexemes.

`ts_headline` re-parses each document and cost about 0.25 ms per call: three per result made
the page's details the slowest part of a search (15 ms for 20 results). PostgreSQL already
says what it searched for (`query::text`: `'procur' & 'framework':*`); a word of the text is
a match when it starts with one of those stems, which holds for English stems (procurement →
procur, centres → centr, policies → polici). The text comes back with the same two control
characters SQLite's snippet() uses, so one function escapes and marks both (search.marked).
"""

from __future__ import annotations

import re
from functools import lru_cache

from .migrations.m0008_pg_plain import ACCENTED, FOLD, PLAIN

# Both cases, for the regex path (which reads the text as it is, not lowered).
_UPPER = [(a.upper(), p) for a, p in zip(ACCENTED, PLAIN, strict=True) if len(a.upper()) == 1]
FOLD_ANY = str.maketrans(ACCENTED + "".join(u for u, _ in _UPPER),
                         PLAIN + "".join(p for _, p in _UPPER))

OPEN, CLOSE = "\x02", "\x03"

_LEXEME = re.compile(r"'((?:[^']|'')+)'")
SNIPPET_CHARS = 220
SEARCHED_CHARS = 6_000  # a snippet comes from the start of a long text: bounded work per row
_LEAD = 50  # characters of context before the first match shown


_NEGATED = re.compile(r"!\s*'((?:[^']|'')+)'")


@lru_cache(maxsize=256)
def lexemes(tsquery_text: str) -> tuple[str, ...]:
    """The stems a tsquery looks for (longest first): not its excluded ones, which marked
    "users" in the results of "data -use"."""
    found = {m.group(1).replace("''", "'").lower() for m in _LEXEME.finditer(tsquery_text)}
    found -= {m.group(1).replace("''", "'").lower() for m in _NEGATED.finditer(tsquery_text)}
    # The English stemmer turns a final y into i (study → studi, city → citi): "studi" starts
    # "studies" but not "study", which went unmarked. The y spelling is searched for too.
    found |= {stem[:-1] + "y" for stem in found if stem.endswith("i") and len(stem) > 2}
    return tuple(sorted(found, key=len, reverse=True))


@lru_cache(maxsize=256)
def _pattern(stems: tuple[str, ...]) -> re.Pattern[str]:
    """A word that starts with one of the stems (one pass of the regex engine per text)."""
    alternatives = "|".join(re.escape(stem) for stem in stems)
    return re.compile(rf"\b(?:{alternatives})\w*", re.IGNORECASE)


_WORD_TAIL = re.compile(r"\w*")


def hits(text: str, stems: tuple[str, ...], limit: int | None = None) -> list[tuple[int, int]]:
    """The spans of the words of `text[:limit]` that start with a stem, in order: what
    `_pattern(stems)` finds. Searching for each stem with `str.find` in the lowered text, and
    checking where the word starts and ends, took a quarter of the regex's time (which tries
    its alternatives at every character); the regex remains for texts whose lowering changes
    their length and for stems that do not start with a letter or digit."""
    part = text if limit is None else text[:limit]
    # Folded as PostgreSQL's vectors are (library_plain, one character for one): the stem
    # "cafe" marks "Café".
    low = part.lower().translate(FOLD)
    if len(low) != len(part) or not all(stem[:1].isalnum() for stem in stems):
        return [m.span() for m in _pattern(stems).finditer(part.translate(FOLD_ANY))]
    found: dict[int, int] = {}
    for stem in stems:
        at = low.find(stem)
        while at >= 0:
            before = low[at - 1] if at else " "
            if not (before.isalnum() or before == "_") and at not in found:
                found[at] = _WORD_TAIL.match(low, at + len(stem)).end()  # type: ignore[union-attr]
            at = low.find(stem, at + 1)
    return sorted(found.items())


def _mark(text: str, hits: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in hits:
        out += [text[last:start], OPEN, text[start:end], CLOSE]
        last = end
    out.append(text[last:])
    return "".join(out)


def mark_all(text: str, stems: tuple[str, ...]) -> str:
    """`text` with every matching word between the markers (titles, summaries)."""
    if not stems or not text:
        return text
    return _mark(text, hits(text, stems))


def snippet(text: str, stems: tuple[str, ...], size: int = SNIPPET_CHARS) -> str:
    """About `size` characters of `text` around its densest run of matches, marked; "" if
    nothing matches."""
    if not stems or not text:
        return ""
    found = hits(text, stems, SEARCHED_CHARS)
    if not found:
        return ""
    # The hit that starts the window holding the most hits (two pointers over the hits).
    best, best_first, last = 0, 0, 0
    for first, (start, _end) in enumerate(found):
        while last < len(found) and found[last][1] <= start + size - _LEAD:
            last += 1
        if last - first > best:
            best, best_first = last - first, first
    anchor = found[best_first][0]
    begin = max(0, anchor - _LEAD)
    sentence = text.rfind(". ", 0, anchor)
    if sentence >= 0 and anchor - sentence <= _LEAD + 2:
        begin = sentence + 2
    elif begin:
        space = text.find(" ", begin, anchor)
        begin = space + 1 if space >= 0 else begin
    end = min(len(text), begin + size)
    if end < len(text):
        space = text.rfind(" ", max(anchor, begin + size // 2), end)
        end = space if space > 0 else end
    inside = [(s - begin, e - begin) for s, e in found if s >= begin and e <= end]
    return ("…" if begin > 0 else "") + _mark(text[begin:end], inside) + \
        ("…" if end < len(text) else "")
