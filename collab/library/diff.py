"""The differences between two revisions of an entry, field by field.

Long text (body, problem, actions, lessons, abstract) is compared line by line and, inside a
changed line, word by word; short fields word by word; lists item by item. Each changed field
is a list of operations `{"op": "equal"|"insert"|"delete", "text"}` that the API returns as they
are and the page renders as `<ins>`/`<del>` (escaped).

The cost is bounded (anyone may ask for a diff of published revisions). difflib without its
junk heuristic was quadratic or worse on repetitive text: one repeated line of 8,000
characters took 12 s. Lines and words are mapped to one character each and compared with
Myers' algorithm (diff-match-patch), which stops at a deadline: one diff may take
DIFF_BUDGET seconds in all; a field not compared by then is answered whole, old then new,
with `too_different: true`.
"""

from __future__ import annotations

import html
import re
import time
from typing import Any

from diff_match_patch import diff_match_patch

from .content import FIELD_LABELS, fields_of, outcome_text

LONG_FIELDS = ("body", "problem", "actions", "lessons", "abstract")
_WORDS = re.compile(r"\s+|[^\s]+")
# A changed run of more lines than this is shown as lines: a word-level pass would cost more
# than it tells.
MAX_WORD_DIFF_LINES = 400
# Wall-clock seconds one diff (every field of two revisions) may take.
DIFF_BUDGET = 0.05

Op = dict[str, str]


class TooDifferent(Exception):
    """The deadline passed before the comparison was done."""


class _Myers(diff_match_patch):  # type: ignore[misc]
    def diff_halfMatch(self, text1: str, text2: str) -> None:
        # Its search for a long common middle has no deadline and repeats a find for every
        # occurrence of its seed: quadratic on repetitive text. Myers alone is enough.
        return None


def _compare(left: list[str], right: list[str], deadline: float) -> list[tuple[str, list[str]]]:
    """Runs of `equal`/`delete`/`insert` tokens; TooDifferent if `deadline` (time.time())
    passes first. Each distinct token becomes one character, so that diff-match-patch
    compares tokens."""
    codes: dict[str, str] = {}
    a = "".join(codes.setdefault(t, chr(len(codes))) for t in left)
    b = "".join(codes.setdefault(t, chr(len(codes))) for t in right)
    if time.time() > deadline:
        raise TooDifferent
    diffs = _Myers().diff_main(a, b, False, deadline)
    if time.time() > deadline:
        raise TooDifferent
    names = {0: "equal", -1: "delete", 1: "insert"}
    out: list[tuple[str, list[str]]] = []
    i = j = 0
    for kind, chars in diffs:
        if kind == 1:
            out.append(("insert", right[j:j + len(chars)]))
            j += len(chars)
        else:
            out.append((names[kind], left[i:i + len(chars)]))
            i += len(chars)
            if kind == 0:
                j += len(chars)
    return out


def _deadline(deadline: float | None) -> float:
    return time.time() + DIFF_BUDGET if deadline is None else deadline


def _as_text(name: str, value: Any) -> str | list[str]:
    if value is None:
        return ""
    if name == "outcomes":
        return [f"{o['label']}: {outcome_text(o)}" for o in value]
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value)


def _merge(ops: list[Op]) -> list[Op]:
    out: list[Op] = []
    for op in ops:
        if op["text"] == "":
            continue
        if out and out[-1]["op"] == op["op"]:
            out[-1] = {"op": op["op"], "text": out[-1]["text"] + op["text"]}
        else:
            out.append(op)
    return out


def _readable(ops: list[Op]) -> list[Op]:
    """Fold the spaces between two changes into them, and give each run of changes one
    deletion and one insertion ("old words" / "new words", not word by word alternately)."""
    marked = []
    for n, op in enumerate(ops):
        between = 0 < n < len(ops) - 1 and op["op"] == "equal" and not op["text"].strip()
        if between:
            marked += [{"op": "delete", "text": op["text"]}, {"op": "insert", "text": op["text"]}]
        else:
            marked.append(op)
    out: list[Op] = []
    run: list[Op] = []
    for op in [*marked, {"op": "equal", "text": ""}]:
        if op["op"] != "equal":
            run.append(op)
            continue
        for kind in ("delete", "insert"):
            text = "".join(o["text"] for o in run if o["op"] == kind)
            if text:
                out.append({"op": kind, "text": text})
        run = []
        out.append(op)
    return _merge(out)


def diff_words(a: str, b: str, deadline: float | None = None) -> list[Op]:
    ops = [{"op": op, "text": "".join(tokens)}
           for op, tokens in _compare(_WORDS.findall(a), _WORDS.findall(b), _deadline(deadline))]
    return _readable(_merge(ops))


def diff_lines(a: str, b: str, deadline: float | None = None) -> list[Op]:
    deadline = _deadline(deadline)
    left, right = a.splitlines(keepends=True), b.splitlines(keepends=True)
    runs = _compare(left, right, deadline)
    ops: list[Op] = []
    n = 0
    while n < len(runs):
        op, tokens = runs[n]
        text = "".join(tokens)
        following = runs[n + 1] if n + 1 < len(runs) else None
        if op == "delete" and following is not None and following[0] == "insert" \
                and len(tokens) + len(following[1]) <= MAX_WORD_DIFF_LINES:
            ops.extend(diff_words(text, "".join(following[1]), deadline))
            n += 2
            continue
        ops.append({"op": op, "text": text})
        n += 1
    return _merge(ops)


def diff_lists(a: list[str], b: list[str], deadline: float | None = None) -> list[Op]:
    return [{"op": op, "text": item} for op, items in _compare(a, b, _deadline(deadline))
            for item in items]


def diff_contents(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Every field that differs: `{"field", "label", "list", "too_different", "ops"}`."""
    deadline = time.time() + DIFF_BUDGET
    changes = []
    for name in fields_of(kind):
        a, b = _as_text(name, old.get(name)), _as_text(name, new.get(name))
        if a == b:
            continue
        is_list = isinstance(a, list) or isinstance(b, list)
        try:
            if is_list:
                ops = diff_lists(a if isinstance(a, list) else [],
                                 b if isinstance(b, list) else [], deadline)
            elif name in LONG_FIELDS:
                ops = diff_lines(str(a), str(b), deadline)
            else:
                ops = diff_words(str(a), str(b), deadline)
            too_different = False
        except TooDifferent:
            ops, too_different = _whole(a, b), True
        changes.append({"field": name, "label": FIELD_LABELS.get(name, name), "list": is_list,
                        "too_different": too_different, "ops": ops})
    return changes


def _whole(a: str | list[str], b: str | list[str]) -> list[Op]:
    """Not compared: everything old deleted, everything new inserted."""
    if isinstance(a, list) or isinstance(b, list):
        return [*({"op": "delete", "text": item} for item in a or []),
                *({"op": "insert", "text": item} for item in b or [])]
    return _merge([{"op": "delete", "text": a}, {"op": "insert", "text": b}])


def ops_html(ops: list[Op]) -> str:
    """Operations as escaped HTML with <ins>/<del> (for the diff page)."""
    tags = {"insert": "ins", "delete": "del"}
    parts = []
    for op in ops:
        text = html.escape(op["text"], quote=False)
        tag = tags.get(op["op"])
        parts.append(f"<{tag}>{text}</{tag}>" if tag else text)
    return "".join(parts)
