"""@mentions on a board: `@username` of a project member in a comment or a description tells
them, through `notify` (collab.notifications), in the same change as the comment or the edit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from collab.accounts.models import User
from collab.notifications import notify
from collab.realtime import Actor, Change
from collab.web import shown_name

from . import invitations, reads
from .access import Access
from .models import Member

_members = Member.ormar_config.table
_users = User.ormar_config.table


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


async def tell_mentioned(change: Change, user_ids: list[int], actor: Actor, access: Access,
                         card_id: int | Callable[[dict[str, Any]], int], where: str) -> None:
    """A `mention` notification to each of `user_ids`, carried by `change` (`card_id`: a
    function of its results for a card it creates).

    It names the card by number, not by title: replay never brings back text that was deleted
    or edited since, and a card's title and comments may be (its link shows what is)."""
    who = shown_name(actor)

    def card(r: dict[str, Any]) -> int:
        return card_id(r) if callable(card_id) else card_id

    for user_id in user_ids:
        await notify(change, user_id, "mention",
                     lambda r: f"{who} mentioned you {where} card #{card(r)} in {access.name}",
                     lambda r: f"/cards/{card(r)}", actor)
