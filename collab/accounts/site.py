"""What accounts tell the site: role changes in the audit log, in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from collab.domain import ActionText, AuditRow


async def describe_actions(rows: Sequence[AuditRow]) -> Mapping[int, ActionText]:
    out: dict[int, ActionText] = {}
    for row in rows:
        if row.action == "user.roles" and row.target.startswith("user:"):
            username = row.target.removeprefix("user:")
            before, _, after = row.details.partition(" -> ")
            out[row.id] = ActionText(
                f"changed {username}'s roles from {_roles(before)} to {_roles(after)}",
                f"/members/{username}")
        elif row.action in _SUSPENSION and row.target.startswith("user:"):
            username = row.target.removeprefix("user:")
            out[row.id] = ActionText(f"{_SUSPENSION[row.action]} {username}",
                                     f"/members/{username}")
    return out


_SUSPENSION = {"user.suspend": "suspended", "user.unsuspend": "lifted the suspension of"}


def _roles(text: str) -> str:
    """`['member', 'expert']` (as stored) as `member, expert`."""
    return ", ".join(part.strip(" '\"") for part in text.strip("[]").split(",") if part.strip())
