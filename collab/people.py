"""How a member appears to others: one public dict and one name, for the API, events and pages.

Below everything (with the clock): the hub's actors and presence, the accounts' users and the
pages all show a member through these, so that a member looks the same wherever they appear.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def shown_name(member: Any) -> str:
    """The name pages show: the display name, or the username where there is none."""
    if isinstance(member, Mapping):
        return str(member.get("display_name") or member.get("username") or "")
    return str(getattr(member, "display_name", "") or getattr(member, "username", "") or "")


def person(member: Any, member_id: int | None = None) -> dict[str, Any]:
    """A member's public face, `{"id", "username", "display_name"}`, from a user, a socket's
    actor, such a dict or a joined row (whose id column, `author` say, is `member_id`)."""
    if isinstance(member, Mapping):
        return {"id": member["id"] if member_id is None else member_id,
                "username": member["username"], "display_name": shown_name(member)}
    return {"id": member.id if member_id is None else member_id, "username": member.username,
            "display_name": shown_name(member)}


_BADGES = ("admin", "moderator", "expert")


def role_badge(member: Any) -> str | None:
    """The role shown beside a member's name in the forum (the highest they hold), if any."""
    roles = member.get("roles", ()) if isinstance(member, Mapping) else \
        getattr(member, "role_set", None) or getattr(member, "roles", ())
    if isinstance(roles, str):
        roles = roles.split(",")
    return next((badge for badge in _BADGES if badge in roles), None)
