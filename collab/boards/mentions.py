"""@mentions: `@username` of a project member in a comment or a description tells them, with a
`notification` on their `user:ID`, committed in the same transaction as the change."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

from collab.accounts.models import User
from collab.realtime import Actor

from . import invitations, reads
from .access import Access
from .models import Member

_members = Member.ormar_config.table
_users = User.ormar_config.table


_MENTION = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.-]{3,40})")


def mentioned(text: str) -> set[str]:
    """Lower-cased usernames `@named` in `text` (a trailing full stop may end the sentence)."""
    out: set[str] = set()
    for match in _MENTION.finditer(text or ""):
        name = match.group(1).lower()
        out.add(name)
        stripped = name.rstrip(".-")
        if len(stripped) >= 3:
            out.add(stripped)
    return out


async def mention_targets(project_id: int, names: set[str], actor_id: int) -> list[int]:
    """Ids of the project's members among `names` (anyone who can read the board), not the
    actor, nor who muted the project."""
    if not names:
        return []
    async with reads.connection() as conn:
        rows = (await conn.execute(
            sa.select(_users.c.id)
            .select_from(_users.join(_members, sa.and_(_members.c.user_id == _users.c.id,
                                                       _members.c.project_id == project_id)))
            .where(sa.func.lower(_users.c.username).in_(sorted(names)),
                   _users.c.id != actor_id, invitations.not_muted(project_id, _users.c.id))
        )).all()
    return sorted(int(r.id) for r in rows)


async def notify(tx: Any, user_ids: list[int], actor: Actor, access: Access, card_id: int,
                 where: str) -> None:
    """A `notification` on each mentioned member's `user:ID`, in the change's transaction.

    It names the card by number, not by title: replay never brings back text that was deleted
    or edited since, and a card's title and comments may be (its link shows what is)."""
    who = actor.display_name or actor.username
    for user_id in user_ids:
        await tx.emit(f"user:{user_id}", "notification", {
            "kind": "mention", "text": f"{who} mentioned you {where} card #{card_id} in "
                                       f"{access.name}",
            "url": f"/cards/{card_id}", "project_id": access.project_id,
            "board_id": access.board_id, "card_id": card_id, "by": actor.public()}, actor)
