"""What people type becomes database query syntax only through terms of letters and digits."""

from __future__ import annotations

import re

import pytest

from collab.errors import Invalid
from collab.knowledge.highlight import lexemes, mark_all, snippet
from collab.knowledge.search import (
    MAX_TERMS,
    Term,
    fts5_query,
    marked,
    parse_query,
    parse_request,
    tsquery,
)

# Everything the two builders may emit besides words: FTS5's quoted tokens, AND/OR/NOT,
# parentheses and a trailing * for a prefix; tsquery's & | ! <-> :* and parentheses.
_FTS5 = re.compile(r'^(\(|\)|"[^\W_]+( [^\W_]+)*"\*?| AND | OR | NOT )+$')
_TSQUERY = re.compile(r"^(\(|\)|!|[^\W_]+(:\*)?| & | \| | <-> )+$")

NASTY = ['"', '"unbalanced phrase', "(((", "a AND OR NOT b", "NEAR(a b)", "col:val",
         "x*", "^a", "a & b | !c <-> d:*", "'; DROP TABLE x;--", "é ü ß 東京 🙂", "_under_score",
         "\\", "{[()]}", "-", "- word", "a-b-c", '"a" -"b c" d']


def test_words_phrases_and_exclusions() -> None:
    terms = parse_query('flood "early warning" -storm texts ')
    assert terms == [Term(("flood",)), Term(("early", "warning")), Term(("storm",), True),
                     Term(("texts",))]
    # Without a trailing space the last word is a prefix (search as you type).
    assert parse_query("emergency resp")[-1] == Term(("resp",), prefix=True)


@pytest.mark.parametrize("text", NASTY)
def test_nothing_but_terms_reaches_either_database(text: str) -> None:
    terms = parse_query(text)
    for any_word in (False, True):
        fts = fts5_query(terms, any_word)
        assert fts is None or _FTS5.match(fts), fts
        ts = tsquery(terms, any_word)
        assert ts is None or _TSQUERY.match(ts), ts


def test_queries_are_built_as_expected() -> None:
    terms = parse_query('data "open contracting" -draft alloc')
    assert fts5_query(terms) == '("data" AND "open contracting" AND "alloc"*) NOT ("draft")'
    assert fts5_query(terms, any_word=True) == \
        '("data" OR "open contracting" OR "alloc"*) NOT ("draft")'
    assert tsquery(terms) == "(data & (open <-> contracting) & alloc:*) & !draft"
    assert fts5_query(parse_query("-only -exclusions")) is None


def test_terms_are_capped_and_deduplicated() -> None:
    assert len(parse_query(" ".join(f"w{i}" for i in range(100)))) == MAX_TERMS
    assert parse_query("a a A a ") == [Term(("a",))]


def test_marked_escapes_then_marks() -> None:
    assert marked("<b>x</b> \x02hit\x03 & more") == \
        "&lt;b&gt;x&lt;/b&gt; <mark>hit</mark> &amp; more"
    # A snippet cut inside a match leaves an orphan marker: it never opens an unclosed tag.
    assert marked("a \x02cut") == "a <mark>cut</mark>"
    assert marked("cut\x03 b") == "cut b"
    assert marked(None) == ""


@pytest.mark.parametrize(("params", "field"), [
    ({"q": "x" * 1001}, "q"), ({"q": "a\x00b"}, "q"), ({"kind": "poem"}, "kind"),
    ({"level": "planet"}, "level"), ({"sort": "best"}, "sort"), ({"year": "1800"}, "year"),
    ({"year": "two"}, "year"), ({"page": "0"}, "page"), ({"page": "10001"}, "page"),
    ({"per_page": "51"}, "per_page"), ({"jurisdiction": "j" * 101}, "jurisdiction"),
])
def test_bad_parameters_name_their_field(params: dict[str, str], field: str) -> None:
    with pytest.raises(Invalid) as refused:
        parse_request(params)
    assert refused.value.extra["field"] == field


def test_a_good_request() -> None:
    request = parse_request({"q": "  flood ", "kind": "case_study", "year": "2023",
                             "sort": "date", "page": "2", "unknown": "ignored"})
    assert (request.q, request.kind, request.year, request.sort, request.page) == \
        ("flood", "case_study", 2023, "date", 2)
    assert request.filters == {"kind": "case_study", "year": 2023}


def test_postgresql_results_are_marked_from_the_query_lexemes() -> None:
    stems = lexemes("'procur' & 'framework':* & !'o''brien'")
    assert stems == ("framework", "o'brien", "procur")
    assert marked(mark_all("Procurement <frameworks> (procured)", stems)) == \
        "<mark>Procurement</mark> &lt;<mark>frameworks</mark>&gt; (<mark>procured</mark>)"
    text = "Nothing here. " * 40 + "The procurement framework was new. " + "Filler words. " * 40
    cut = snippet(text, stems)
    assert cut.startswith("…The \x02procurement\x03 \x02framework\x03") and cut.endswith("…")
    assert len(cut) < 260 and snippet("no match at all", stems) == ""
    assert snippet("", stems) == "" and mark_all("text", ()) == "text"
