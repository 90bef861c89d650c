"""The entry form's fields, to and from the API's JSON: lists one per line, outcomes as
`label | value | unit` lines (so the form works without JavaScript)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData

from collab.errors import Invalid
from collab.web import form_text

from . import content as c


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _outcomes(text: str) -> list[dict[str, str]]:
    out = []
    for number, line in enumerate(_lines(text), start=1):
        parts = [p.strip() for p in line.split("|")]
        if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
            raise Invalid(f"outcome line {number}: write it as label | value | unit",
                          extra={"field": "outcomes"})
        out.append({"label": parts[0], "value": parts[1],
                    "unit": parts[2] if len(parts) == 3 else ""})
    return out


def form_data(kind: str, form: FormData) -> dict[str, Any]:
    """A form's fields as the API's JSON (lists one per line; outcomes `label | value | unit`)."""
    data: dict[str, Any] = {name: form_text(form, name) for name in (
        "title", "summary", "body", "jurisdiction", "level", "problem", "actions", "lessons",
        "publisher", "url", "doi", "abstract", "year")}
    data["topics"] = [t for t in form.getlist("topics") if isinstance(t, str)]
    data["authors"] = _lines(form_text(form, "authors"))
    data["contacts"] = _lines(form_text(form, "contacts"))
    data["outcomes"] = _outcomes(form_text(form, "outcomes"))
    data["year"] = data["year"].strip() or None
    return {k: v for k, v in data.items() if k in c.fields_of(kind)}


def form_values(content: dict[str, Any]) -> dict[str, Any]:
    """A revision's content as form fields."""
    values = {k: ("" if v is None else v) for k, v in content.items()}
    values["authors"] = "\n".join(content.get("authors") or [])
    values["contacts"] = "\n".join(content.get("contacts") or [])
    values["outcomes"] = "\n".join(
        f"{o['label']} | {c.exact_number(o['value'])} | {o.get('unit', '')}"
        .rstrip(" |") for o in content.get("outcomes") or [])
    return values


def raw_values(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = {k: form_text(form, k) for k in form}
    values["topics"] = [t for t in form.getlist("topics") if isinstance(t, str)]
    return values
