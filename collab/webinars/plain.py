"""A webinar's description as plain text, for places that read no HTML or Markdown: the
calendar file's DESCRIPTION. Read from the sanitised HTML with the standard library's parser
(linear in the text, whatever it holds): paragraphs and list items on lines of their own,
a link as its text followed by its address."""

from __future__ import annotations

from html.parser import HTMLParser

_BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
           "tr", "ul", "ol", "table", "hr"}


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self.out.append("\n")
        if tag == "li":
            self.out.append("- ")
        if tag == "a":
            self.links.append((dict(attrs).get("href") or "", len(self.out)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self.links:
            href, start = self.links.pop()
            text = "".join(self.out[start:]).strip()
            if href and href != text and href.startswith(("http://", "https://", "mailto:")):
                self.out.append(f" ({href})")
        elif tag in _BLOCKS:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        self.out.append(data)


def plain_text(html_text: str) -> str:
    """Sanitised HTML as text: blank lines between blocks, no tags, entities decoded."""
    reader = _Text()
    reader.feed(html_text)
    reader.close()
    lines = [" ".join(line.split()) for line in "".join(reader.out).split("\n")]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()
