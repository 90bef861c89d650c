"""What one hostile text may cost (issue 21, items 2-4): no input holds the loop over 100 ms.

Each function that reads member text on a request path (Markdown rendering, the search copy's
markup stripping, the library's diff) is given the worst inputs found so far, at the largest
size a field allows, and must finish within its bound of CPU time (process time, so a loaded
machine does not fail it) while still giving a correct answer.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from collab.library.content import MAX_BODY, plain_text
from collab.library.diff import diff_contents, diff_lines, diff_words
from collab.markdown import render_markdown

DOCS = Path(__file__).parents[2] / "docs"

# The worst constructs for markdown-it and regular expressions, as text of `size` characters.
PATHOLOGICAL: dict[str, Callable[[int], str]] = {
    "image openers": lambda n: "![" * (n // 2),
    "link openers": lambda n: "[" * n,
    "angles": lambda n: "<" * n,
    "open links": lambda n: "[a](" * (n // 4),
    "image links": lambda n: "![](" * (n // 4),
    "link image": lambda n: "[![" * (n // 3),
    "bracket lines": lambda n: "[\n" * (n // 2),
    "emphasis": lambda n: "a*" * (n // 2),
    "mixed emphasis": lambda n: "_*" * (n // 2),
    "backticks": lambda n: "`a" * (n // 2),
    "entities": lambda n: "&" * n,
    "table": lambda n: ("|a|b|\n|-|-|\n" + "|x|y|\n" * n)[:n],
    "nested lists": lambda n: "- a\n  - b\n" * (n // 10),
    "headings": lambda n: "# a\n" * (n // 4),
    "short lines": lambda n: "a\n" * (n // 2),
    "references": lambda n: "[x]: /u\n" * (n // 8),
    "one long line": lambda n: "word " * (n // 5),
    "nul": lambda n: "\x00" * n,
    # Leading spaces before a word: the rule-and-table pattern of plain_text was cubic here.
    "leading spaces": lambda n: "\n" + " " * (n - 2) + "x",
    "indented lines": lambda n: (" " * 98 + "x\n") * (n // 100),
    "underscores": lambda n: "a" + "_" * (n - 2) + "a",
    "link in link": lambda n: "[a](" + "[b](c)" * (n // 6),
}


def cpu(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    """CPU time of this thread: the cost itself, whatever else the machine runs meanwhile.

    Without the garbage collector's time: a collection's cost is that of every object the
    process holds (here pytest's), paid by whichever call allocates at the wrong moment.
    """
    collecting = {"spent": 0.0, "started": 0.0}

    def clock(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting["started"] = time.thread_time()
        else:
            collecting["spent"] += time.thread_time() - collecting["started"]

    gc.collect()
    gc.callbacks.append(clock)
    try:
        started = time.thread_time()
        result = fn(*args)
        return time.thread_time() - started - collecting["spent"], result
    finally:
        gc.callbacks.remove(clock)


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_rendering_any_text_costs_at_most_the_bound(name: str) -> None:
    text = PATHOLOGICAL[name](MAX_BODY)
    spent, html = cpu(render_markdown, text)
    assert spent < 0.1, f"{name}: {len(text):,} characters took {spent * 1000:.0f} ms"
    # Whatever path it took, the words are there and nothing raw leaks through.
    assert "<script" not in html
    if name == "one long line":
        assert html.startswith("<p>word word")


def test_ordinary_markdown_still_renders_as_markdown() -> None:
    # Markup on every line, a card description's worth; and the project's own docs, as long
    # as a library body may be.
    prose = "# Title\n\nSome **bold** text with [a link](https://example.org).\n\n- one\n- two\n"
    html = render_markdown(prose * (5_000 // len(prose)))
    assert html.count("<strong>bold</strong>") == 5_000 // len(prose)
    assert '<a href="https://example.org"' in html and "<li>two</li>" in html
    docs = "\n\n".join(p.read_text() for p in sorted(DOCS.glob("*.md")))
    html = render_markdown((docs * 3)[:MAX_BODY])
    assert html.count("<h2>") > 10 and "<code>" in html


def test_a_text_over_its_cost_falls_back_to_escaped_paragraphs() -> None:
    html = render_markdown("<b>x</b> ![" * 6000 + "\n\nlast <i>")
    assert html.startswith("<p>&lt;b&gt;x&lt;/b&gt; ![") and html.endswith("<p>last &lt;i&gt;</p>")


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_stripping_markup_for_search_is_linear(name: str) -> None:
    text = PATHOLOGICAL[name](MAX_BODY)
    spent, plain = cpu(plain_text, text)
    assert spent < 0.1, f"{name}: {len(text):,} characters took {spent * 1000:.0f} ms"
    assert "\x00" not in plain


@pytest.mark.parametrize(("markdown", "plain"), [
    ("[link](javascript:alert(1)) **a** &amp;", "link a &"),
    ("see ![a chart](x.png) and [the report](https://x.org/a_(b)) now", "see a chart and the report now"),
    ("[not a link] and [empty]() and [x](unclosed", "[not a link] and empty and [x](unclosed"),
    ("a <b>bold</b> < b > c <br/>", "a bold < b > c"),
    ("[a\nb](u)", "[a b](u)"),
])
def test_stripping_markup_keeps_the_words(markdown: str, plain: str) -> None:
    assert plain_text(markdown) == plain


# -- diffs ---------------------------------------------------------------------------------------
def _rebuilds(ops: list[dict[str, str]], a: str, b: str) -> None:
    assert "".join(o["text"] for o in ops if o["op"] != "insert") == a
    assert "".join(o["text"] for o in ops if o["op"] != "delete") == b


@pytest.mark.parametrize(("old", "new"), [
    # One repeated line, one word changed in the middle (12 s at 8,000 characters before).
    ("a b\n" * (MAX_BODY // 4), "a b\n" * (MAX_BODY // 8) + "a c\n" + "a b\n" * (MAX_BODY // 8)),
    # One long line of a repeated word against another (minutes before).
    ("a " * (MAX_BODY // 2), "b a " * (MAX_BODY // 4)),
    ("a\n" * (MAX_BODY // 2), "a\nb\n" * (MAX_BODY // 4)),
    ("x" * MAX_BODY, "y" * MAX_BODY),
])
def test_a_diff_of_any_two_bodies_costs_at_most_the_bound(old: str, new: str) -> None:
    base = {"title": "T", "summary": "S", "topics": ["t"], "authors": []}
    spent, changes = cpu(diff_contents, "article", {**base, "body": old}, {**base, "body": new})
    assert spent < 0.1, f"{spent * 1000:.0f} ms"
    [body] = changes
    _rebuilds(body["ops"], old, new)


def test_a_small_change_in_a_long_repetitive_body_is_still_found() -> None:
    old = "a b\n" * 5000
    new = "a b\n" * 2500 + "a c\n" + "a b\n" * 2499
    ops = diff_lines(old, new)
    _rebuilds(ops, old, new)
    assert [o["text"] for o in ops if o["op"] != "equal"] in (["b", "c"], ["b\n", "c\n"])


def test_texts_too_different_to_compare_say_so() -> None:
    import random

    rng = random.Random(4)
    words = [f"w{n}" for n in range(5000)]
    old = " ".join(rng.choice(words) for _ in range(8000))
    new = " ".join(rng.choice(words) for _ in range(8000))
    base = {"title": "T", "summary": "S", "topics": ["t"], "authors": []}
    spent, [body] = cpu(diff_contents, "article", {**base, "body": old}, {**base, "body": new})
    assert spent < 0.1
    assert body["too_different"] is True
    assert body["ops"] == [{"op": "delete", "text": old}, {"op": "insert", "text": new}]
    # A comparable change says it was compared.
    [small] = diff_contents("article", {**base, "body": "one two"}, {**base, "body": "one three"})
    assert small["too_different"] is False
    assert diff_words("one two", "one three")[-2:] == [{"op": "delete", "text": "two"},
                                                      {"op": "insert", "text": "three"}]
