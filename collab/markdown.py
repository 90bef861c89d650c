"""Markdown to safe HTML, on the server: markdown-it, then nh3's allow-list.

Raw HTML and every link pass markdown-it untouched so that nh3 alone decides what stays:
it drops disallowed tags (with the content of script and style), every attribute not on
the list (event handlers) and every URL whose scheme is not http, https or mailto.
"""

from __future__ import annotations

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": True, "linkify": False, "typographer": False}).enable(
    ["table", "strikethrough"]
)
_md.validateLink = lambda url: True  # nh3 filters URL schemes below

_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li",
    "a", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "img",
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"},
               "td": {"align"}, "ol": {"start"}}


def render_markdown(text: str) -> str:
    """Sanitised HTML: no script, no event handlers, no javascript: or data: links."""
    return nh3.clean(
        _md.render(text),
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    ).strip()
