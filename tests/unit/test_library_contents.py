"""A long entry's contents: each heading gets an id the contents link to; short ones none."""

from __future__ import annotations

import time

from collab.library.contents import with_contents
from collab.markdown import render_markdown


def test_headings_get_ids_and_make_the_contents() -> None:
    body = render_markdown("# Why\n\ntext\n\n## Costs & *time*\n\nmore\n\n### Detail\n\nend")
    marked, contents = with_contents(body)
    assert [(h.level, h.id, h.text) for h in contents] == [
        (1, "section-1", "Why"), (2, "section-2", "Costs & time"), (3, "section-3", "Detail")]
    assert '<h2 id="section-2">' in marked and "<em>time</em>" in marked


def test_a_short_entry_has_no_contents_and_is_left_as_it_was() -> None:
    body = render_markdown("## One\n\n## Two\n\ntext")
    assert with_contents(body) == (body, [])


def test_many_headings_or_hostile_html_stay_cheap() -> None:
    # Written out, not rendered: a render this large passes Markdown's own CPU budget.
    body = ("<h2>" * 50_000 + "<h3>x" * 20_000
            + "\n".join(f"<h2>H{n}</h2><p>text</p>" for n in range(3000)))
    started = time.process_time()
    _marked, contents = with_contents(body)
    assert time.process_time() - started < 0.1
    assert len(contents) >= 3000
