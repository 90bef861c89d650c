"""Searching across domains: every source asked at once, and the small helpers sources share.

`everywhere` asks each domain's `SearchSource` (the plug's `Domain.search`) with a time limit,
so a slow source never holds the others' results; the site's `/search` and the library's
"Elsewhere on collab" both use it without knowing which domains exist.

Sources without a full-text index (forum threads, cards, webinars) match each word with a
case-insensitive LIKE; the library has its own index and highlighter. Everything here is
linear in its input (one pass per word, a bounded number of words), so a hostile query of a
thousand characters costs microseconds.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from collab.domain import Domain, SearchHit, SearchResults, SearchSource

SOURCE_TIMEOUT = 2.0
MAX_WORDS = 6
MAX_QUERY = 1_000
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class QueryWords:
    """The words to look for and the `-word`s to leave out, lower-cased, at most MAX_WORDS each."""

    words: list[str]
    excluded: list[str]


def query_words(query: str) -> QueryWords:
    tokens = query[:MAX_QUERY].split()
    excluded = [w.lower() for t in tokens if t.startswith("-") for w in _WORD.findall(t)]
    words = [w.lower() for t in tokens if not t.startswith("-") for w in _WORD.findall(t)]
    return QueryWords(list(dict.fromkeys(words))[:MAX_WORDS],
                      list(dict.fromkeys(excluded))[:MAX_WORDS])


def like_pattern(word: str) -> str:
    """`%word%` with LIKE's own characters escaped (the escape character is `\\`)."""
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def snippet(text: str, words: list[str], width: int = 90) -> str:
    """About `2 * width` characters of `text` around the first word found, escaped, words marked."""
    lowered = text.lower()
    starts = [lowered.find(w) for w in words if lowered.find(w) >= 0]
    start = max(0, min(starts) - width // 2) if starts else 0
    excerpt = text[start:start + 2 * width]
    out, last = [], 0
    if words:
        pattern = re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)),
                             re.IGNORECASE)
        for match in pattern.finditer(excerpt):
            out.append(html.escape(excerpt[last:match.start()], quote=False))
            out.append(f"<mark>{html.escape(match.group(0), quote=False)}</mark>")
            last = match.end()
    out.append(html.escape(excerpt[last:], quote=False))
    return ("… " if start else "") + "".join(out) + (" …" if start + 2 * width < len(text) else "")


def score(title: str, text: str, words: list[str]) -> int:
    """A title match counts three times a body match; repeats in the body count up to five."""
    title, text = title.lower(), text.lower()
    return sum(3 * title.count(w) + min(text.count(w), 5) for w in words)


@dataclass(frozen=True)
class Found:
    """One source's answer: its hits, and how many it found in all when it knows."""

    source: SearchSource
    hits: list[SearchHit]
    total: int | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"source": self.source.name, "label": self.source.label,
                               "hits": [hit_dict(h) for h in self.hits]}
        if self.total is not None:
            out["total"] = self.total
        return out


async def everywhere(domains: Sequence[Domain], query: str, viewer: Any, limit: int, *,
                     leave_out: str = "") -> list[Found]:
    """Every domain's search source (but `leave_out`), asked together. Sources that found
    nothing are left out unless they count (a total of 0 is an answer); one that passes
    SOURCE_TIMEOUT counts as having found nothing."""
    sources = sorted((d.search for d in domains
                      if d.search is not None and d.search.name != leave_out),
                     key=lambda source: source.order)

    async def ask(source: SearchSource) -> Found:
        try:
            answer = await asyncio.wait_for(source.search(query, viewer, limit), SOURCE_TIMEOUT)
        except TimeoutError:
            return Found(source, [])
        if isinstance(answer, SearchResults):
            return Found(source, answer.hits[:limit], answer.total)
        return Found(source, answer[:limit])

    found = await asyncio.gather(*(ask(s) for s in sources))
    return [f for f in found if f.hits or f.total is not None]


def hit_dict(hit: SearchHit) -> dict[str, Any]:
    return {"source": hit.source, "kind": hit.kind, "id": hit.id, "title": hit.title,
            "url": hit.url, "summary": hit.summary, "snippet_html": hit.snippet_html,
            "date": hit.date}
