"""Post bodies: Markdown rendered on the server, then sanitised by an allow-list."""

from __future__ import annotations

import pytest

from collab.markdown import render_markdown


@pytest.mark.parametrize("body", [
    "<script>alert(1)</script>",
    "hello <img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    "<iframe src=//evil></iframe><style>*{}</style>",
    '<p onclick="alert(1)">x</p>',
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
])
def test_markdown_never_yields_script_handlers_or_script_urls(body: str) -> None:
    html = render_markdown(body).lower()
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<style", "data:"):
        assert bad not in html


def test_markdown_keeps_formatting_and_safe_links() -> None:
    html = render_markdown("**bold** and [gov](https://www.gov.uk)\n\n- one\n- two")
    assert "<strong>bold</strong>" in html
    assert '<a href="https://www.gov.uk" rel="nofollow noopener noreferrer">gov</a>' in html
    assert "<li>one</li>" in html


def test_text_is_escaped_not_interpreted() -> None:
    assert render_markdown("a < b & c") == "<p>a &lt; b &amp; c</p>"
