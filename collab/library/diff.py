"""The differences between two revisions of an entry, field by field.

Long text (body, problem, actions, lessons, abstract) is compared line by line and, inside a
changed line, word by word; short fields word by word; lists item by item. Each changed field
is a list of operations `{"op": "equal"|"insert"|"delete", "text"}` that the API returns as they
are and the page renders as `<ins>`/`<del>` (escaped).
"""

from __future__ import annotations

import difflib
import html
import re
from typing import Any

from .content import FIELD_LABELS, fields_of, outcome_text

LONG_FIELDS = ("body", "problem", "actions", "lessons", "abstract")
_WORDS = re.compile(r"\s+|[^\s]+")
# Beyond this many lines a word-level pass costs more than it tells; lines are enough.
MAX_WORD_DIFF_LINES = 400

Op = dict[str, str]


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


def diff_words(a: str, b: str) -> list[Op]:
    left, right = _WORDS.findall(a), _WORDS.findall(b)
    ops: list[Op] = []
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append({"op": "equal", "text": "".join(left[i1:i2])})
            continue
        if tag in ("delete", "replace"):
            ops.append({"op": "delete", "text": "".join(left[i1:i2])})
        if tag in ("insert", "replace"):
            ops.append({"op": "insert", "text": "".join(right[j1:j2])})
    return _readable(_merge(ops))


def diff_lines(a: str, b: str) -> list[Op]:
    left, right = a.splitlines(keepends=True), b.splitlines(keepends=True)
    ops: list[Op] = []
    small = len(left) + len(right) <= MAX_WORD_DIFF_LINES
    matcher = difflib.SequenceMatcher(None, left, right, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = "".join(left[i1:i2]), "".join(right[j1:j2])
        if tag == "equal":
            ops.append({"op": "equal", "text": old})
        elif tag == "replace" and small:
            ops.extend(diff_words(old, new))
        else:
            ops.append({"op": "delete", "text": old})
            ops.append({"op": "insert", "text": new})
    return _merge(ops)


def diff_lists(a: list[str], b: list[str]) -> list[Op]:
    ops: list[Op] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.extend({"op": "equal", "text": item} for item in a[i1:i2])
            continue
        if tag in ("delete", "replace"):
            ops.extend({"op": "delete", "text": item} for item in a[i1:i2])
        if tag in ("insert", "replace"):
            ops.extend({"op": "insert", "text": item} for item in b[j1:j2])
    return ops


def diff_contents(kind: str, old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Every field that differs: `{"field", "label", "list", "ops"}`."""
    changes = []
    for name in fields_of(kind):
        a, b = _as_text(name, old.get(name)), _as_text(name, new.get(name))
        if a == b:
            continue
        if isinstance(a, list) or isinstance(b, list):
            ops = diff_lists(a if isinstance(a, list) else [], b if isinstance(b, list) else [])
            is_list = True
        else:
            ops = diff_lines(a, b) if name in LONG_FIELDS else diff_words(a, b)
            is_list = False
        changes.append({"field": name, "label": FIELD_LABELS.get(name, name), "list": is_list,
                        "ops": ops})
    return changes


def ops_html(ops: list[Op]) -> str:
    """Operations as escaped HTML with <ins>/<del> (for the diff page)."""
    tags = {"insert": "ins", "delete": "del"}
    parts = []
    for op in ops:
        text = html.escape(op["text"], quote=False)
        tag = tags.get(op["op"])
        parts.append(f"<{tag}>{text}</{tag}>" if tag else text)
    return "".join(parts)
