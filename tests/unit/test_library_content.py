"""Entry content by kind, the copy search indexes, and diffs between revisions."""

from __future__ import annotations

import datetime as dt

import pytest

from collab.errors import Invalid
from collab.library.content import (
    content_of,
    details_json,
    outcome_text,
    plain_text,
    read_content,
    search_copy,
)
from collab.library.diff import diff_contents, diff_lines, diff_words, ops_html

TOPICS = {"procurement": "Procurement", "workforce": "Workforce"}
CASE = {"kind": "case_study", "title": "A case", "summary": "It worked.", "body": "**Bold** story",
        "topics": ["procurement"], "jurisdiction": "Testshire", "level": "regional",
        "problem": "Slow", "actions": "Faster", "lessons": "Measure",
        "outcomes": [{"label": "Time", "value": "-38", "unit": "%"},
                     {"label": "People", "value": 1200, "unit": "people"}],
        "contacts": ["The team"]}


def test_an_unchanged_edit_form_keeps_every_figure_exactly() -> None:
    from collab.library.forms import _outcomes, form_values

    figures = [0.125, 0.00004, 1234567.891, -38, 1e12, 2.5e-9]
    case = {**CASE, "outcomes": [{"label": f"F{n}", "value": v, "unit": "x"}
                                 for n, v in enumerate(figures)]}
    content = read_content("case_study", case, TOPICS)
    sent_back = read_content("case_study", {
        **case, "outcomes": _outcomes(form_values(content)["outcomes"])}, TOPICS)
    assert [o["value"] for o in sent_back["outcomes"]] == figures
    # Read on the page, small figures keep their digits (0.00004 was shown as 0).
    assert [outcome_text(o) for o in sent_back["outcomes"][:3]] == [
        "0.125x", "0.00004x", "1,234,567.89x"]


def test_a_case_study_round_trips_through_storage() -> None:
    content = read_content("case_study", CASE, TOPICS)
    assert content["outcomes"][0] == {"label": "Time", "value": -38, "unit": "%"}
    stored = content_of("case_study", content["title"], content["summary"], content["body"],
                        '["procurement"]', details_json("case_study", content))
    assert stored == content
    assert [outcome_text(o) for o in content["outcomes"]] == ["-38%", "1,200 people"]


@pytest.mark.parametrize(("change", "field"), [
    ({"kind": "case_study", "level": "planet"}, "level"),
    ({"topics": ["unknown"]}, "topics"), ({"topics": []}, "topics"),
    ({"outcomes": [{"label": "x", "value": "many"}]}, "outcomes"),
    ({"outcomes": [{"label": "a|b", "value": 1}]}, "outcomes"),
    ({"outcomes": [{"label": "a\nb", "value": 1}]}, "outcomes"),
    ({"outcomes": [{"label": "a", "value": 1, "unit": "%|x"}]}, "outcomes"),
    ({"outcomes": [{"label": "x", "value": True}]}, "outcomes"),
    ({"outcomes": [{"label": "x", "value": float("nan")}]}, "outcomes"),
    ({"title": "bad\x00"}, "title"), ({"title": "   "}, "title"), ({"year": 3000}, "year"),
    ({"problem": None}, "problem"),
])
def test_bad_case_studies_name_their_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(Invalid) as refused:
        read_content("case_study", {**CASE, **change}, TOPICS)
    assert refused.value.extra["field"] == field


def test_papers_need_authors_a_year_and_a_sound_link() -> None:
    paper = {"title": "P", "summary": "S", "topics": ["workforce"], "authors": ["A. B."],
             "year": 2020, "abstract": "Abstract", "doi": "https://doi.org/10.5555/x.1",
             "url": "https://example.org/p.pdf"}
    assert read_content("paper", paper, TOPICS)["doi"] == "10.5555/x.1"
    for change in ({"authors": []}, {"year": None}, {"doi": "11.1/x"},
                   {"url": "javascript:alert(1)"}, {"url": "https://a b"}):
        with pytest.raises(Invalid):
            read_content("paper", {**paper, **change}, TOPICS)


def test_the_search_copy_is_plain_text_without_control_characters() -> None:
    content = read_content("case_study", {**CASE, "body": "# Head\n\n*story* <b>x</b> \x02"},
                           TOPICS)
    copy = search_copy("case_study", content, TOPICS, dt.datetime(2025, 3, 1))
    assert copy["topics_text"] == "Procurement" and copy["year"] == 2025
    assert "Head" in copy["body_text"] and "*" not in copy["body_text"]
    assert "\x02" not in copy["body_text"] and "<b>" not in copy["body_text"]
    assert "Time: -38%" in copy["body_text"]
    assert plain_text("[link](javascript:alert(1)) **a** &amp;") == "link a &"


def test_diffs_show_what_changed_field_by_field() -> None:
    old = read_content("case_study", CASE, TOPICS)
    new = read_content("case_study", {**CASE, "title": "A better case",
                                      "topics": ["procurement", "workforce"],
                                      "body": "**Bold** story\n\nA new paragraph."}, TOPICS)
    changes = {c["field"]: c for c in diff_contents("case_study", old, new)}
    assert set(changes) == {"title", "topics", "body"}
    assert changes["topics"]["ops"] == [{"op": "equal", "text": "procurement"},
                                        {"op": "insert", "text": "workforce"}]
    assert {"op": "insert", "text": "better "} in changes["title"]["ops"]
    assert diff_contents("case_study", old, old) == []


def test_diff_ops_rebuild_both_texts_and_render_escaped() -> None:
    a = "line one\n<script>x</script> two\nthree\n"
    b = "line one\n<script>y</script> two\nfour\n"
    for ops in (diff_lines(a, b), diff_words(a, b)):
        assert "".join(o["text"] for o in ops if o["op"] != "insert") == a
        assert "".join(o["text"] for o in ops if o["op"] != "delete") == b
    html = ops_html(diff_lines(a, b))
    assert "<script>" not in html and "&lt;script&gt;" in html and "<ins>" in html
