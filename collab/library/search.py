"""Full-text search of the published library: one function over SQLite FTS5 and PostgreSQL.

What a person types is never handed to the database as query syntax. It is read here into
terms (words, "quoted phrases", -excluded words; everything else is a separator), and the
database's query is built from those terms only: FTS5 strings of quoted tokens on SQLite, a
`to_tsquery` of bare words joined by `&`, `<->` and `!` on PostgreSQL. So quotes, operators,
brackets and stray colons can change what is found, never cause an error.

Ranking: bm25 over title (x10), topics (x5), summary (x3) and body (x1) on SQLite; `ts_rank`
with weights A title 1.0, B topics 0.5, C summary 0.3, D body 0.1 on PostgreSQL. When every
word must match and nothing does, the search is run again with any word matching (and says so).
Snippets come from the database with two control characters around matches, which are
turned into `<mark>` only after the text is escaped (stored search text has no control
characters; see content.clean).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

from collab import db
from collab.domain import SearchHit, SearchResults
from collab.errors import Invalid
from collab.fields import check_storable
from collab.web import iso

from . import search_sql, spelling
from .content import KIND_LABELS, KINDS, LEVELS
from .highlight import CLOSE, OPEN
from .migrations.m0008_pg_plain import FOLD

MAX_QUERY = 1_000
MAX_TERMS = 12
MAX_WORD = 60
PER_PAGE = 20
MAX_PER_PAGE = 50
MAX_PAGE = 10_000
SORTS = ("relevance", "date")
FILTERS = ("kind", "topic", "jurisdiction", "level", "year")
FACETS = ("kind", "topic", "level", "year")

# Letters and digits of any script; everything else separates words (underscore too: the
# databases' parsers split on it, and a term must mean the same on both).
_WORD = re.compile(r"[^\W_]+")
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_SNIPPET_TRIM = 300


@dataclass(frozen=True)
class Term:
    words: tuple[str, ...]
    negated: bool = False
    prefix: bool = False


@dataclass(frozen=True)
class SearchRequest:
    q: str = ""
    kind: str | None = None
    topic: str | None = None
    jurisdiction: str | None = None
    level: str | None = None
    year: int | None = None
    sort: str = "relevance"
    page: int = 1
    per_page: int = PER_PAGE

    @property
    def filters(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name) is not None}


@dataclass
class SearchResult:
    request: SearchRequest
    total: int
    results: list[dict[str, Any]]
    facets: dict[str, dict[str, int]]
    # "all" (every word matched), "any" (nothing matched every word; any word did) or "none"
    # (no query: newest first).
    matched: str = "none"
    terms: list[Term] = field(default_factory=list)
    # A close spelling of the query from the library's own words that finds more (spelling.py).
    did_you_mean: str | None = None

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.request.per_page))

    def as_json(self) -> dict[str, Any]:
        return {"total": self.total, "page": self.request.page, "pages": self.pages,
                "per_page": self.request.per_page, "sort": self.request.sort,
                "matched": self.matched, "results": self.results, "facets": self.facets,
                **({"did_you_mean": self.did_you_mean} if self.did_you_mean else {})}


# -- reading the request ---------------------------------------------------------------------
def _one(params: Mapping[str, str], name: str, maximum: int) -> str | None:
    value = params.get(name)
    if value is None or value.strip() == "":
        return None
    if len(value) > maximum:
        raise Invalid(f"{name} must be at most {maximum} characters", extra={"field": name})
    return check_storable(value.strip(), name)


def number_param(params: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or raw.strip() == "":
        return default
    raw = raw.strip()
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6 or not low <= int(raw) <= high:
        raise Invalid(f"{name} must be a whole number from {low} to {high}",
                      extra={"field": name})
    return int(raw)


def parse_request(params: Mapping[str, str]) -> SearchRequest:
    """The search a query string asks for; `invalid` (422) names the first bad parameter.

    Parameters other than these are ignored, as links from elsewhere may carry them.
    """
    q = params.get("q") or ""
    if len(q) > MAX_QUERY:
        raise Invalid(f"the search text must be at most {MAX_QUERY} characters",
                      extra={"field": "q"})
    check_storable(q, "q")
    kind = _one(params, "kind", 20)
    if kind is not None and kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}", extra={"field": "kind"})
    level = _one(params, "level", 20)
    if level is not None and level not in LEVELS:
        raise Invalid(f"level must be one of {', '.join(LEVELS)}", extra={"field": "level"})
    sort = _one(params, "sort", 20) or "relevance"
    if sort not in SORTS:
        raise Invalid("sort must be relevance or date", extra={"field": "sort"})
    year = number_param(params, "year", 0, 1900, 2100) if params.get("year", "").strip() else None
    return SearchRequest(
        # Only leading space goes: a trailing one says the last word is whole (parse_query).
        q=q.lstrip(), kind=kind, topic=_one(params, "topic", 40),
        jurisdiction=_one(params, "jurisdiction", 100), level=level, year=year, sort=sort,
        page=number_param(params, "page", 1, 1, MAX_PAGE),
        per_page=number_param(params, "per_page", PER_PAGE, 1, MAX_PER_PAGE))


def parse_query(q: str) -> list[Term]:
    """Terms of a search text: words, "phrases" and -excluded ones; at most MAX_TERMS.

    The last plain word is a prefix unless the text ends in a space (search as you type).
    """
    terms: list[Term] = []
    for match in _TOKEN.finditer(q):
        minus, phrase, bare = match.groups()
        if phrase is not None:
            words = tuple(w.lower() for w in _WORD.findall(phrase) if len(w) <= MAX_WORD)
            if words:
                terms.append(Term(words, negated=bool(minus)))
            continue
        negated = bare.startswith("-") and len(bare) > 1
        for word in _WORD.findall(bare):
            if len(word) <= MAX_WORD:
                terms.append(Term((word.lower(),), negated=negated))
    terms = _dedupe(terms)[:MAX_TERMS]
    if terms and q and not q[-1].isspace() and not q.rstrip().endswith('"'):
        last = terms[-1]
        if not last.negated and len(last.words) == 1:
            terms[-1] = replace(last, prefix=True)
    return terms


def wants_a_long_word(q: str) -> bool:
    """Whether `q` asks for a word longer than MAX_WORD, which no entry is searched by (left out
    of the terms, it made the search find everything instead of nothing)."""
    for match in _TOKEN.finditer(q):
        minus, phrase, bare = match.groups()
        text, negated = (phrase, bool(minus)) if phrase is not None else (
            bare, bare.startswith("-"))
        if not negated and any(len(w) > MAX_WORD for w in _WORD.findall(text)):
            return True
    return False


def _dedupe(terms: list[Term]) -> list[Term]:
    seen, out = set(), []
    for term in terms:
        if (term.words, term.negated) not in seen:
            seen.add((term.words, term.negated))
            out.append(term)
    return out


def positives(terms: list[Term]) -> list[Term]:
    return [t for t in terms if not t.negated]


def fts5_query(terms: list[Term], any_word: bool = False) -> str | None:
    """An FTS5 MATCH expression of quoted tokens only, or None when nothing is left to find."""
    def one(term: Term) -> str:
        return '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "")

    plus = [one(t) for t in positives(terms)]
    if not plus:
        return None  # FTS5 has no "everything except": `search` takes exclusions alone apart
    expression = "(" + (" OR " if any_word else " AND ").join(plus) + ")"
    minus = [one(t) for t in terms if t.negated]
    if minus:
        expression += " NOT (" + " OR ".join(minus) + ")"
    return expression


def tsquery(terms: list[Term], any_word: bool = False) -> str | None:
    """A `to_tsquery` text of bare words only (letters and digits), or None.

    With a typed prefix (the last word, while typing) it is four parts joined by U+001F, which
    the database's `library_query` puts together (m0007_typed_prefix.py): the other positive
    terms, the prefix word, how they combine, the excluded terms."""
    def one(term: Term) -> str:
        # Folded as the vectors are (library_plain): "café" finds "cafe" and "Café".
        text = " <-> ".join(w.translate(FOLD) for w in term.words)
        text = f"({text})" if len(term.words) > 1 else text
        return ("!" if term.negated else "") + text

    typed = next((t for t in positives(terms) if t.prefix), None)
    plus = [one(t) for t in positives(terms) if t is not typed]
    if not plus and typed is None:
        return None
    joiner = " | " if any_word else " & "
    rest = "(" + joiner.join(plus) + ")" if plus else ""
    negs = [one(t) for t in terms if t.negated]
    if typed is None:
        return rest + "".join(" & " + n for n in negs)
    return "\x1f".join([rest, typed.words[0].translate(FOLD), joiner.strip(),
                        " & ".join(negs)])


def _ordered(facets: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Facet values by count (most first), years newest first; kinds in their usual order."""
    out = {name: dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0])))
           for name, values in facets.items()}
    out["year"] = dict(sorted(facets["year"].items(), key=lambda kv: kv[0], reverse=True))
    out["kind"] = {k: facets["kind"][k] for k in KINDS if k in facets["kind"]}
    return out


def marked(text: str | None) -> str:
    """Escape `text`, then turn the database's match markers into <mark>."""
    if not text:
        return ""
    escaped = html.escape(text, quote=False)
    # Markers come in pairs; a snippet cut inside one leaves an orphan, which is dropped.
    out, depth = [], 0
    for part in re.split("([\x02\x03])", escaped):
        if part == OPEN:
            if depth == 0:
                out.append("<mark>")
                depth = 1
        elif part == CLOSE:
            if depth == 1:
                out.append("</mark>")
                depth = 0
        else:
            out.append(part)
    if depth:
        out.append("</mark>")
    return "".join(out)


def _excerpt(text: str, limit: int = _SNIPPET_TRIM) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def _result(row: Any, highlighted: bool) -> dict[str, Any]:
    title_html = marked(row.title_hl) if highlighted else html.escape(row.title, quote=False)
    snippet = ""
    if highlighted:
        for candidate in (row.body_hl, row.summary_hl):
            if candidate and OPEN in candidate:
                snippet = marked(candidate)
                break
    if not snippet:
        snippet = html.escape(_excerpt(row.summary), quote=False)
    return {"id": row.id, "kind": row.kind, "kind_label": KIND_LABELS.get(row.kind, row.kind),
            "title": row.title, "summary": row.summary, "snippet_html": snippet,
            "title_html": title_html, "url": f"/library/{row.id}",
            "published_at": iso(row.published_at),
            "topics": orjson.loads(row.topic_slugs or "[]"),
            "jurisdiction": row.jurisdiction or "", "level": row.level or "", "year": row.year,
            "featured": bool(row.featured)}


async def search(request: SearchRequest, *, suggest: bool = True) -> SearchResult:
    """Published entries matching `request`: one page of results, the total, facet counts,
    and another spelling of the query when it finds few and that one would find more."""
    terms = parse_query(request.q)
    if wants_a_long_word(request.q):
        return SearchResult(request, 0, [], _ordered({f: {} for f in FACETS}), "all", terms)
    build = fts5_query if db.is_sqlite() else tsquery
    match = build(terms)
    # Excluded words alone ("-budget"): every entry but those with any of them.
    excluded = [replace(t, negated=False) for t in terms if t.negated]
    exclude = build(excluded, any_word=True) if match is None and excluded else None
    matched = "all" if match or exclude else "none"
    # SQLite: the typed prefix must start a word, not just its stem (m0007_typed_prefix.py).
    typed = next((t for t in positives(terms) if t.prefix), None)
    narrow = None
    if typed is not None and db.is_sqlite():
        others = [t for t in terms if t is not typed]
        narrow = search_sql.Typed(
            typed.words[0], tuple(w for t in positives(others) for w in t.words),
            fts5_query(others), fts5_query(excluded, any_word=True) if excluded else None)
    by_relevance = request.sort == "relevance"
    async with db.database.connection() as conn:
        page = await search_sql.run(conn, request.filters, match, by_relevance, request.page,
                                    request.per_page, exclude, narrow)
        if page.total == 0 and match and len(positives(terms)) > 1:
            match = build(terms, any_word=True)
            matched = "any"
            page = await search_sql.run(conn, request.filters, match, by_relevance,
                                        request.page, request.per_page)
    found = SearchResult(request, page.total, [_result(r, match is not None) for r in page.rows],
                         _ordered(page.facets), matched, terms)
    if suggest and match and (found.total <= spelling.FEW or matched == "any"):
        found.did_you_mean = await _did_you_mean(request, found)
    return found


async def _did_you_mean(request: SearchRequest, found: SearchResult) -> str | None:
    words = [(w, t.prefix) for t in positives(found.terms) for w in t.words]
    better = spelling.respell(request.q, words, await spelling.vocabulary())
    if better is None:
        return None
    other = await search(replace(request, q=better, page=1, per_page=1), suggest=False)
    now = found.total if found.matched == "all" else 0
    return better if other.matched == "all" and other.total > now else None


async def search_source(query: str, viewer: Any, limit: int) -> SearchResults:
    """The library's part of the site-wide search box (`Domain.search`)."""
    if len(query) > MAX_QUERY or not parse_query(query):
        return SearchResults([], 0)
    result = await search(SearchRequest(q=query, per_page=max(1, min(limit, MAX_PER_PAGE))))
    return SearchResults([SearchHit(source="library", kind=r["kind"], id=r["id"], title=r["title"],
                      url=r["url"], summary=r["summary"], snippet_html=r["snippet_html"],
                      date=r["published_at"]) for r in result.results], result.total)
