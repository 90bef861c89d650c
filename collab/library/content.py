"""What an entry holds, by kind: reading it from a request, and the copies search and pages use.

One rule set for the API, the pages, the importer and the seed. A revision's content is a
dict: the common fields (`title`, `summary`, `body`, `topics`, `authors`) and the kind's own
(case study: `jurisdiction`, `level`, `problem`, `actions`, `outcomes`, `lessons`, `contacts`,
`year`; paper: `year`, `publisher`, `url`, `doi`, `abstract`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import html
import math
import re
from collections.abc import Mapping
from typing import Any

import orjson

from collab.errors import Invalid
from collab.fields import int_field, string_list, text_field
from collab.markdown import plain_html, render_many

KINDS = ("article", "case_study", "paper")
KIND_LABELS = {"article": "Article", "case_study": "Case study", "paper": "Research paper"}
KIND_PLURALS = {"article": "Articles", "case_study": "Case studies", "paper": "Research papers"}
LEVELS = ("municipal", "regional", "national", "international")
LEVEL_LABELS = {"municipal": "Municipal", "regional": "Regional", "national": "National",
                "international": "International"}

MAX_TITLE = 200
MAX_SUMMARY = 1_000
MAX_BODY = 50_000
MAX_SECTION = 10_000
MAX_TOPICS = 8
MAX_OUTCOMES = 12
MIN_YEAR, MAX_YEAR = 1900, 2100

# Fields every kind has, then each kind's own, in the order pages and diffs show them.
COMMON_FIELDS = ("title", "summary", "body", "topics", "authors")
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "article": (),
    "case_study": ("jurisdiction", "level", "year", "problem", "actions", "outcomes", "lessons",
                   "contacts"),
    "paper": ("year", "publisher", "url", "doi", "abstract"),
}
FIELD_LABELS = {
    "title": "Title", "summary": "Summary", "body": "Body", "topics": "Topics",
    "authors": "Authors", "jurisdiction": "Jurisdiction", "level": "Level of government",
    "year": "Year", "problem": "The problem", "actions": "What was done",
    "outcomes": "Measured outcomes", "lessons": "Lessons", "contacts": "Contacts",
    "publisher": "Publisher", "url": "Link", "doi": "DOI", "abstract": "Abstract",
}

_DOI = re.compile(r"^10\.\d{4,9}/[^\s\x00-\x1f]{1,180}$")
_URL = re.compile(r"^https?://[^\s\x00-\x1f<>\"]{1,490}$", re.IGNORECASE)
# Control characters other than tab and newlines: nothing a reader needs, and search uses two
# of them to mark matches before escaping (search.py), so stored search text never has them.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# (a character the markup needs, the pattern, its replacement): a pattern runs only when
# its character is in the text, as most prose has no tables, links or emphasis.
# Each pattern must stay linear on any text (issue 21: `[` and `<` were quadratic, leading
# spaces cubic): a repeated part excludes the character that starts another match (a tag stops
# at the next `<`, a label at the next `[`), and runs that could share characters are
# possessive (`*+`), so that a failed attempt never backtracks into them.
_MARKDOWN = [
    ("<", re.compile(r"<[A-Za-z/!?][^<>\n]*+>"), " "),                      # HTML tags
    ("[", re.compile(r"!?\[([^\[\]\n]*+)\]\((?:[^()\n]++|\([^()\n]*+\))*+\)"),
     r"\1"),                                                                 # links, images
    ("\n", re.compile(r"^[ \t]{0,3}(?:#{1,6}[ \t]+|>[ \t]?|[-*+][ \t]+|\d{1,9}[.)][ \t]+)",
                      re.MULTILINE), ""),                                    # block markers
    ("\n", re.compile(r"^[ \t]*+(?:```|~~~|[-*_]{3,}+[ \t]*+$|\|?[-:| ]{3,}+[ \t]*+$).*$",
                      re.MULTILINE), " "),                                   # fences, rules
    ("*", re.compile(r"\*+"), ""),                                           # emphasis
    ("_", re.compile(r"(?<![^\W_])_+|_+(?![^\W_])"), ""),                   # _emphasis_
    ("~", re.compile(r"~~"), ""),                                             # strikethrough
    ("`", re.compile(r"`+"), ""),                                             # code
    ("|", re.compile(r"\|"), " "),                                           # table cells
]


def fields_of(kind: str) -> tuple[str, ...]:
    return COMMON_FIELDS + KIND_FIELDS[kind]


def check_kind(value: Any) -> str:
    if value not in KINDS:
        raise Invalid("kind must be one of article, case_study, paper", extra={"field": "kind"})
    return str(value)


def _year(data: Mapping[str, Any], required: bool) -> int | None:
    value = data.get("year")
    if value in (None, "") and not required:
        return None
    if value in (None, ""):
        raise Invalid("year is required", extra={"field": "year"})
    return int_field(dict(data), "year", minimum=MIN_YEAR, maximum=MAX_YEAR)


def _outcomes(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    value = data.get("outcomes")
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_OUTCOMES:
        raise Invalid(f"outcomes must be a list of at most {MAX_OUTCOMES} figures",
                      extra={"field": "outcomes"})
    out = []
    for item in value:
        if not isinstance(item, dict):
            raise Invalid('each outcome is {"label", "value", "unit"}', extra={"field": "outcomes"})
        label = text_field(item, "label", 120)
        unit = text_field(item, "unit", 30, required=False)
        # The edit form writes an outcome as one line, `label | value | unit`: a label or unit
        # that could not be written back that way could never be edited.
        if any(ch in text for text in (label, unit or "") for ch in "|\r\n"):
            raise Invalid(f"an outcome's label and unit cannot contain | or a line break "
                          f"({label[:40]!r})", extra={"field": "outcomes"})
        raw = item.get("value")
        if isinstance(raw, str):
            try:
                raw = float(raw.strip().replace(",", ""))
            except ValueError:
                raise Invalid(f"the value of outcome {label!r} must be a number",
                              extra={"field": "outcomes"}) from None
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) \
                or abs(raw) >= 1e15:
            raise Invalid(f"the value of outcome {label!r} must be a number",
                          extra={"field": "outcomes"})
        number: int | float = int(raw) if float(raw).is_integer() else float(raw)
        out.append({"label": label, "value": number, "unit": unit})
    return out


def _url(data: Mapping[str, Any]) -> str:
    url = text_field(dict(data), "url", 500, required=False)
    if url and not _URL.match(url):
        raise Invalid("url must be an http or https address", extra={"field": "url"})
    return url


def _doi(data: Mapping[str, Any]) -> str:
    doi = text_field(dict(data), "doi", 200, required=False)
    if doi.lower().startswith("https://doi.org/"):
        doi = doi[len("https://doi.org/"):]
    if doi and not _DOI.match(doi):
        raise Invalid("doi must look like 10.1234/abc", extra={"field": "doi"})
    return doi


def read_content(kind: str, data: Mapping[str, Any], topics: Mapping[str, str]) -> dict[str, Any]:
    """The content of a revision from request data, checked; `topics` maps slug -> name."""
    content: dict[str, Any] = {
        "title": text_field(dict(data), "title", MAX_TITLE),
        "summary": text_field(dict(data), "summary", MAX_SUMMARY),
        # A paper's text is its abstract; a body (notes, a reading guide) is optional.
        "body": text_field(dict(data), "body", MAX_BODY, required=kind != "paper"),
        "topics": string_list(dict(data), "topics", max_items=MAX_TOPICS, max_length=40,
                              required=True),
        "authors": string_list(dict(data), "authors", max_items=20, max_length=120),
    }
    if not content["topics"]:
        raise Invalid("choose at least one topic", extra={"field": "topics"})
    unknown = [t for t in content["topics"] if t not in topics]
    if unknown:
        raise Invalid(f"unknown topic {unknown[0][:40]!r}; topics are {', '.join(topics)}",
                      extra={"field": "topics"})
    if kind == "case_study":
        level = data.get("level")
        if level not in LEVELS:
            raise Invalid(f"level must be one of {', '.join(LEVELS)}", extra={"field": "level"})
        content.update(
            jurisdiction=text_field(dict(data), "jurisdiction", 100),
            level=level,
            year=_year(data, required=False),
            problem=text_field(dict(data), "problem", MAX_SECTION),
            actions=text_field(dict(data), "actions", MAX_SECTION),
            outcomes=_outcomes(data),
            lessons=text_field(dict(data), "lessons", MAX_SECTION, required=False),
            contacts=string_list(dict(data), "contacts", max_items=10, max_length=200),
        )
    elif kind == "paper":
        if not content["authors"]:
            raise Invalid("a paper needs at least one author", extra={"field": "authors"})
        content.update(
            year=_year(data, required=True),
            publisher=text_field(dict(data), "publisher", 200, required=False),
            url=_url(data),
            doi=_doi(data),
            abstract=text_field(dict(data), "abstract", MAX_SECTION),
        )
    return content


def merged(current: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """An edit: the fields given replace the current ones, the others stay."""
    out = dict(current)
    out.update({k: v for k, v in data.items() if k != "kind"})
    return out


# -- storing ---------------------------------------------------------------------------------
def details_json(kind: str, content: Mapping[str, Any]) -> str:
    details = {name: content.get(name) for name in KIND_FIELDS[kind]}
    details["authors"] = content.get("authors", [])
    return orjson.dumps(details).decode()


def content_of(kind: str, title: str, summary: str, body: str, topics: str,
               details: str) -> dict[str, Any]:
    """A stored revision's content, as `read_content` returned it."""
    extra = orjson.loads(details or "{}")
    content: dict[str, Any] = {"title": title, "summary": summary, "body": body,
                               "topics": orjson.loads(topics or "[]"),
                               "authors": extra.pop("authors", [])}
    for name in KIND_FIELDS[kind]:
        content[name] = extra.get(name)
    return content


# -- derived text ----------------------------------------------------------------------------
# The Markdown fields of each kind, as pages and the API show them rendered (`NAME_html`).
MARKDOWN_FIELDS = {"article": ("body",), "case_study": ("body", "problem", "actions", "lessons"),
                   "paper": ("body", "abstract")}
# CPU seconds all the Markdown fields of one revision may take to render (collab/markdown.py).
RENDER_BUDGET = 0.05


def rendered_fields(kind: str, content: Mapping[str, Any]) -> dict[str, str]:
    """The revision's Markdown fields rendered (sanitised), as stored with it: `{"body_html"...}`.
    One budget for them all; a field over it is stored as escaped text."""
    names = MARKDOWN_FIELDS[kind]
    html_texts = render_many([content.get(name) or "" for name in names], RENDER_BUDGET)
    return {f"{name}_html": text for name, text in zip(names, html_texts, strict=True)}


def stored_fields(kind: str, content: Mapping[str, Any], rendered: str | None
                  ) -> dict[str, str]:
    """The rendered fields stored with a revision; one missing (a row written in SQL) is shown
    as escaped text: reading never renders Markdown."""
    stored = orjson.loads(rendered or "{}")
    return {f"{name}_html": stored.get(f"{name}_html") or plain_html(content.get(name) or "")
            for name in MARKDOWN_FIELDS[kind]}


def clean(text: str) -> str:
    return _CONTROL.sub(" ", text)


def plain_text(markdown: str) -> str:
    """What a reader sees of some Markdown, as one line of text (for search and snippets).

    Markup is stripped with a few expressions rather than by rendering: search only needs the
    words, and rendering every entry cost the importer most of its time (about 3 ms each).
    """
    if not markdown:
        return ""
    text = markdown
    for needed, pattern, replacement in _MARKDOWN:
        if needed in text:
            text = pattern.sub(replacement, text)
            if needed == "[" and "](" in text:
                text = pattern.sub(replacement, text)  # an image inside a link: [![a](b)](c)
    if "&" in text:
        text = html.unescape(text)
    return clean(" ".join(text.split()))


def format_number(value: Any) -> str:
    """A figure for reading: two decimals, or three significant digits below 1 (0.00004 was
    shown as 0)."""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        places = 2 if value == 0 or abs(value) >= 1 else 2 - math.floor(math.log10(abs(value)))
        return f"{value:,.{places}f}".rstrip("0").rstrip(".")
    return str(value)


def exact_number(value: Any) -> str:
    """A figure exactly as stored, without exponent, for a form to send back unchanged."""
    if isinstance(value, float):
        return format(decimal.Decimal(repr(value)), "f")
    return str(value)


def outcome_text(outcome: Mapping[str, Any]) -> str:
    unit = outcome.get("unit") or ""
    joiner = "" if unit in ("%", "x", "×") or not unit else " "
    return f"{format_number(outcome['value'])}{joiner}{unit}"


def search_copy(kind: str, content: Mapping[str, Any], topics: Mapping[str, str],
                published: dt.datetime) -> dict[str, Any]:
    """The entry row's published copy: what search indexes and lists filter on."""
    parts = [plain_text(content.get("body") or "")]
    if kind == "case_study":
        outcomes = content.get("outcomes") or []
        parts += [plain_text(content.get("problem") or ""),
                  plain_text(content.get("actions") or ""),
                  "; ".join(f"{o['label']}: {outcome_text(o)}" for o in outcomes),
                  plain_text(content.get("lessons") or ""), content.get("jurisdiction") or ""]
    elif kind == "paper":
        parts = [plain_text(content.get("abstract") or ""), *parts,
                 content.get("publisher") or ""]
    parts.append(", ".join(content.get("authors") or []))
    year = content.get("year") if kind != "article" else None
    return {
        "title": clean(content["title"]),
        "summary": clean(content["summary"]),
        # Parts are sentences of their own: a snippet that spans two reads as two.
        "body_text": clean(" ".join(p if p.endswith((".", "!", "?")) else p + "."
                                    for p in parts if p)),
        "topics_text": "; ".join(topics.get(t, t) for t in content["topics"]),
        "topic_slugs": orjson.dumps(content["topics"]).decode(),
        "jurisdiction": content.get("jurisdiction") or "",
        "level": content.get("level") or "",
        "year": year or published.year,
    }

