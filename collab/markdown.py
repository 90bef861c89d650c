"""Markdown to safe HTML, on the server: markdown-it, then nh3's allow-list.

Raw HTML and every link pass markdown-it untouched so that nh3 alone decides what stays:
it drops disallowed tags (with the content of script and style), every attribute not on
the list (event handlers) and every URL whose scheme is not http, https or mailto.

What one text may cost is bounded (PROTOCOL.md, Operations: nothing holds the loop over
100 ms). markdown-it is linear but costs 10-40 µs per token, and a hostile text is nearly all
tokens: 25,000 `![` took 0.7 s, a 50,000-character table 0.8 s. Every block and inline rule
step is charged against a budget of this thread's CPU time (ordinary prose of 50,000
characters needs about a tenth of it); a text over budget is shown as escaped paragraphs
instead, which costs a millisecond. CPU time rather than wall time, so that how a text renders
does not depend on how busy the machine is. Callers store the HTML at write time: a text is
rendered once, never per read.
"""

from __future__ import annotations

import gc
import html
import re
import time
from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt, rules_inline

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

# CPU seconds one text may take to render (one request's texts share it: render_many).
RENDER_BUDGET = 0.03
# The clock is read every this many rule steps (one step costs about 1-40 µs).
_CHECK_EVERY = 16
# Longer runs of one emphasis delimiter are text (_literal_runs).
_MAX_RUN = 16
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


class _OverBudget(Exception):
    pass


# The garbage collector's time is left out: a collection runs in whichever call allocates
# next (after a large text, often the following one), and its cost is the process's, not the
# text's. Without this an ordinary text rendered after a hostile one was sometimes refused.
_gc_time = {"spent": 0.0, "started": 0.0}


def _gc_clock(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _gc_time["started"] = time.thread_time()
    else:
        _gc_time["spent"] += time.thread_time() - _gc_time["started"]


gc.callbacks.append(_gc_clock)


def _clock() -> float:
    """CPU seconds of this thread, less the garbage collector's."""
    return time.thread_time() - _gc_time["spent"]


def _charge(env: dict[str, Any]) -> None:
    env["_steps"] += 1
    if env["_steps"] % _CHECK_EVERY == 0 and _clock() > env["_deadline"]:
        raise _OverBudget


def _inline_step(state: Any, silent: bool) -> bool:
    _charge(state.env)
    return False


def _block_step(state: Any, start: int, end: int, silent: bool) -> bool:
    _charge(state.env)
    return False


def _literal_runs(rule: Any, markers: str) -> Any:
    """`rule` (emphasis, strikethrough), except that a run of more than _MAX_RUN delimiters is
    plain text: markdown-it makes one token per delimiter in a single step (50,000 `_` took
    0.3 s, beyond the budget's reach), and no emphasis nests that deep."""

    def run(state: Any, silent: bool) -> bool:
        start = state.pos
        marker = state.src[start]
        if marker not in markers or state.src[start:start + _MAX_RUN + 1] != marker * (_MAX_RUN + 1):
            return bool(rule(state, silent))
        rest = state.src[start:state.posMax]
        end = start + len(rest) - len(rest.lstrip(marker))
        if not silent:
            state.pending += state.src[start:end]
        state.pos = end
        return True

    return run


_md.inline.ruler.at("emphasis", _literal_runs(rules_inline.emphasis.tokenize, "*_"))
_md.inline.ruler.at("strikethrough", _literal_runs(rules_inline.strikethrough.tokenize, "~"))
# First in each chain, so every step of the parser passes through it: lookahead too, and the
# block rules a paragraph, list or quote asks at each of its lines whether it ends there.
_md.inline.ruler.before(_md.inline.ruler.get_all_rules()[0], "budget", _inline_step)
_md.block.ruler.before(_md.block.ruler.get_all_rules()[0], "budget", _block_step,
                       {"alt": ["paragraph", "reference", "blockquote", "list"]})


def plain_html(text: str) -> str:
    """Text as escaped paragraphs, line breaks kept: what an over-budget text shows."""
    text = text.replace("\x00", "\ufffd")
    return "\n".join("<p>" + html.escape(part.strip(), quote=False).replace("\n", "<br>\n")
                     + "</p>" for part in _PARAGRAPHS.split(text) if part.strip())


def _render(text: str, budget: float) -> str:
    if budget <= 0:
        return plain_html(text)
    env: dict[str, Any] = {"_steps": 0, "_deadline": _clock() + budget}
    # No collection while the tokens pile up: markdown-it's tokens hold no cycles (reference
    # counting frees them when the render returns), and the young generations' collections
    # re-scanned them again and again (as much again as the render, on a 20,000-cell table).
    collecting = gc.isenabled()
    gc.disable()
    try:
        rendered = _md.render(text, env)
    except (_OverBudget, RecursionError):
        return plain_html(text)
    finally:
        if collecting:
            gc.enable()
    return nh3.clean(
        rendered,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    ).strip()


def render_markdown(text: str, budget: float = RENDER_BUDGET) -> str:
    """Sanitised HTML: no script, no event handlers, no javascript: or data: links; escaped
    paragraphs instead when the text would cost more than `budget` CPU seconds."""
    return _render(text, budget)


def render_many(texts: Sequence[str], budget: float = RENDER_BUDGET) -> list[str]:
    """Several texts of one request sharing one budget: once it is spent, the rest are shown
    as escaped paragraphs."""
    out = []
    deadline = _clock() + budget
    for text in texts:
        out.append(_render(text, deadline - _clock()) if text else "")
    return out
