"""A long entry's table of contents: its headings, given ids the contents link to.

Read from the stored, sanitised HTML (markdown-it writes headings as `<h2>…</h2>` with no
attributes), in one pass; an entry with fewer than MIN_HEADINGS headings gets none.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

MIN_HEADINGS = 3
# Heading tags, opening and closing, paired in one pass (a lazy `<h2>(.*?)</h2>` rescans the
# rest of the text from every opening tag that is never closed: quadratic).
_HEADING_TAG = re.compile(r"<(/?)h([1-4])>")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True)
class Heading:
    level: int
    id: str
    text: str


def with_contents(body_html: str, prefix: str = "section") -> tuple[str, list[Heading]]:
    """`body_html` with an id on each heading, and the headings (none when too few)."""
    found: list[Heading] = []
    out: list[str] = []
    at, opened = 0, None  # opened: (level, the opening tag's start, its end)
    for tag in _HEADING_TAG.finditer(body_html):
        closing, level = tag.group(1) == "/", int(tag.group(2))
        if not closing:
            opened = (level, tag.start(), tag.end())
        elif opened is not None and opened[0] == level:
            inner = body_html[opened[2]:tag.start()]
            heading = Heading(level, f"{prefix}-{len(found) + 1}",
                              " ".join(html.unescape(_TAG.sub("", inner)).split()))
            found.append(heading)
            out.append(body_html[at:opened[1]])
            out.append(f'<h{level} id="{heading.id}">')
            at, opened = opened[2], None
    if len(found) < MIN_HEADINGS:
        return body_html, []
    out.append(body_html[at:])
    return "".join(out), found
