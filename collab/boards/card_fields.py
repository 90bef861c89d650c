"""What a card may contain, read from a `send`'s data or a form: one rule set for every entry.

Limits: title 1–200 characters; description up to 20,000 (Markdown); 20 labels of up to 40;
100 checklist items of up to 300; 20 assignees, each an owner or member of the project.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from collab.accounts.models import User
from collab.errors import Invalid
from collab.fields import date_field, int_field, string_list, text_field

from . import reads
from .models import Member

MAX_TITLE = 200
MAX_DESCRIPTION = 20_000
MAX_LABELS, MAX_LABEL = 20, 40
MAX_CHECKLIST, MAX_ITEM = 100, 300
MAX_ASSIGNEES = 20
MAX_COMMENT = 10_000
MAX_INDEX = 1_000_000
MAX_VERSION = 2**31 - 1
EDITABLE = ("title", "description", "assignees", "due", "labels", "checklist")

_members = Member.ormar_config.table
_users = User.ormar_config.table


# -- fields --------------------------------------------------------------------------------------
def index_field(data: dict[str, Any], *, required: bool = False) -> int | None:
    if data.get("index") in (None, "") and not required:
        return None
    return int_field(data, "index", minimum=0, maximum=MAX_INDEX)


def version_field(data: dict[str, Any]) -> int:
    return int_field(data, "version", minimum=1, maximum=MAX_VERSION)  # type: ignore[return-value]


def checklist_field(data: dict[str, Any]) -> list[dict[str, Any]]:
    value = data.get("checklist")
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_CHECKLIST:
        raise Invalid(f"checklist must be a list of at most {MAX_CHECKLIST} items",
                      extra={"field": "checklist"})
    out = []
    for item in value:
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, dict):
            raise Invalid('each checklist item is {"text", "done"}', extra={"field": "checklist"})
        try:
            text = text_field(item, "text", MAX_ITEM)
        except Invalid as exc:
            raise Invalid(f"checklist item: {exc.message}", extra={"field": "checklist"}) from None
        done = item.get("done", False)
        if not isinstance(done, bool):
            raise Invalid("checklist item: done must be true or false",
                          extra={"field": "checklist"})
        out.append({"text": text, "done": done})
    return out


def merge_fields(data: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The editable fields of `data` over `base` (a card as it is, or defaults)."""
    out = dict(base)
    if "title" in data:
        out["title"] = text_field(data, "title", MAX_TITLE)
    if "description" in data:
        out["description"] = text_field(data, "description", MAX_DESCRIPTION, required=False)
    if "due" in data:
        due = date_field(data, "due")
        out["due"] = due.isoformat() if due else None
    if "labels" in data:
        out["labels"] = string_list(data, "labels", max_items=MAX_LABELS, max_length=MAX_LABEL)
    if "checklist" in data:
        out["checklist"] = checklist_field(data)
    if "assignees" in data:
        out["assignees"] = string_list(data, "assignees", max_items=MAX_ASSIGNEES,
                                       max_length=40, fold_case=True)
    return out


def due_date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


async def resolve_assignees(project_id: int, names: list[str]) -> list[tuple[int, str]]:
    """(user id, username) of each name; each must be an owner or member of the project."""
    if not names:
        return []
    lowered = [n.lower() for n in names]
    async with reads.connection() as conn:
        rows = (await conn.execute(
            sa.select(_users.c.id, _users.c.username)
            .select_from(_users.join(_members, sa.and_(_members.c.user_id == _users.c.id,
                                                       _members.c.project_id == project_id)))
            .where(sa.func.lower(_users.c.username).in_(lowered),
                   _members.c.role.in_(("owner", "member"))))).all()
    found = {r.username.lower(): (int(r.id), r.username) for r in rows}
    for name in names:
        if name.lower() not in found:
            raise Invalid(f"{name[:40]!r} is not an owner or member of this project, so cannot "
                          "be assigned", extra={"field": "assignees"})
    # Once each, whatever reached here (the card's assignee key is unique).
    return list(dict.fromkeys(found[n.lower()] for n in names))
