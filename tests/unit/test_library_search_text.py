"""What people type becomes database query syntax only through terms of letters and digits."""

from __future__ import annotations

import random
import re

import pytest

from collab.errors import Invalid
from collab.library.highlight import FOLD_ANY, hits, lexemes, mark_all, snippet
from collab.library.search import (
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
        if ts is not None and "\x1f" in ts:  # a typed prefix travels apart (library_query)
            rest, word, op, negs = ts.split("\x1f")
            assert re.fullmatch(r"[^\W_]+", word) and op in ("&", "|"), ts
            assert all(part == "" or _TSQUERY.match(part) for part in (rest, negs)), ts
        else:
            assert ts is None or _TSQUERY.match(ts), ts


def test_queries_are_built_as_expected() -> None:
    terms = parse_query('data "open contracting" -draft alloc')
    assert fts5_query(terms) == '("data" AND "open contracting" AND "alloc"*) NOT ("draft")'
    assert fts5_query(terms, any_word=True) == \
        '("data" OR "open contracting" OR "alloc"*) NOT ("draft")'
    assert tsquery(terms) == "(data & (open <-> contracting))\x1falloc\x1f&\x1f!draft"
    assert tsquery(parse_query("data alloc ")) == "(data & alloc)"
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
    # Leading space goes; a trailing one stays: it says "flood" is a whole word, not a prefix.
    assert (request.q, request.kind, request.year, request.sort, request.page) == \
        ("flood ", "case_study", 2023, "date", 2)
    assert request.filters == {"kind": "case_study", "year": 2023}


def test_postgresql_results_are_marked_from_the_query_lexemes() -> None:
    stems = lexemes("'procur' & 'framework':* & !'o''brien'")
    assert stems == ("framework", "procur"), "an excluded stem marks nothing"
    assert marked(mark_all("Procurement <frameworks> (procured)", stems)) == \
        "<mark>Procurement</mark> &lt;<mark>frameworks</mark>&gt; (<mark>procured</mark>)"
    text = "Nothing here. " * 40 + "The procurement framework was new. " + "Filler words. " * 40
    cut = snippet(text, stems)
    assert cut.startswith("…The \x02procurement\x03 \x02framework\x03") and cut.endswith("…")
    assert len(cut) < 260 and snippet("no match at all", stems) == ""
    assert snippet("", stems) == "" and mark_all("text", ()) == "text"


def test_stems_ending_in_i_mark_the_y_spelling_too() -> None:
    stems = lexemes("'studi' & 'citi':*")
    assert marked(mark_all("A city study; cities studied.", stems)) == \
        "A <mark>city</mark> <mark>study</mark>; <mark>cities</mark> <mark>studied</mark>."


@pytest.mark.parametrize("stems", [
    ("framework", "procur"), ("respons", "emerg", "time"), ("o'brien", "data"), ("covid-19",),
    ("東京",), ("e",), ("ß",), ("_under",), ("1",)])
def test_matched_words_are_found_where_the_regex_finds_them(stems: tuple[str, ...]) -> None:
    """highlight.hits finds matches with str.find; it must find the words the regex finds,
    whatever the text: case, accents (folded, as PostgreSQL's vectors are: "e" marks
    "École"), digits, underscores, words inside words, Unicode whose lowering changes its
    length (İ), and stems that do not start with a letter."""
    rng = random.Random(3)
    words = ["Procurement", "procured", "FRAMEWORK", "frameworks", "subprocurement", "x_procur",
             "Emergency", "response", "times", "timely", "overtime", "O'Brien", "data_set",
             "Data", "COVID-19", "東京都", "École", "éclair", "Straße", "STRASSE", "İstanbul",
             "_underscore", "1st", "a1", "—", "(procur)", "\x02", "", "2024"]
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(s) for s in
                                            sorted(stems, key=len, reverse=True))
                         + r")\w*", re.IGNORECASE)
    for _ in range(300):
        text = rng.choice([" ", ", ", ". ", "-", "", "\n"]).join(
            rng.choice(words) for _ in range(rng.randint(0, 30)))
        limit = rng.choice([None, 5, 40, 10_000])
        part = (text if limit is None else text[:limit]).translate(FOLD_ANY)
        expected = [m.span() for m in pattern.finditer(part)]
        assert hits(text, stems, limit) == expected, (text, limit)
