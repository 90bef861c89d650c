"""`board:ID` on the hub: who may follow a board, its sends, and how its events render.

The grant a join returns is the viewer's `Access` (their role in the project, or None for a
non-member reading a public board); handlers check it, and `hub.access_changed` makes the hub
ask again when a role changes or a member is removed.
"""

from __future__ import annotations

from typing import Any

from collab.realtime import Ack, Actor, Call, ChannelKind, handles

from . import cards, columns, progress
from .access import Access, board_access

CARD_EVENTS = ("card.created", "card.updated", "card.moved", "card.deleted", "card.commented")
COLUMN_EVENTS = ("column.created", "column.renamed", "column.moved", "column.deleted",
                 "column.ranked")
BOARD_EVENTS = ("project.updated", "board.deleted")


class BoardChannel(ChannelKind):
    kind = "board"
    presence_fragment = "_presence_oob.html"
    presence_view = {"presence_id": "board-presence", "compact": True}
    # One template renders every board event; the page script places cards by rank.
    fragments = {t: "boards/_event_oob.html" for t in CARD_EVENTS + COLUMN_EVENTS + BOARD_EVENTS}

    async def join(self, actor: Actor | None, id: int) -> Access:
        return await board_access(id, actor)

    def fragment_context(self, event: Any) -> dict[str, Any]:
        return {"board_id": int(event.channel.partition(":")[2]),
                "today": progress.today().isoformat()}

    async def _run(self, call: Call, action: Any) -> Ack:
        seq, data = await action(self.hub, call.member, call.grant, call.data)
        return Ack(seq=seq, data=data)

    @handles("card.create")
    async def card_create(self, call: Call) -> Ack:
        return await self._run(call, cards.create_card)

    @handles("card.move")
    async def card_move(self, call: Call) -> Ack:
        return await self._run(call, cards.move_card)

    @handles("card.update")
    async def card_update(self, call: Call) -> Ack:
        return await self._run(call, cards.update_card)

    @handles("card.delete")
    async def card_delete(self, call: Call) -> Ack:
        return await self._run(call, cards.delete_card)

    @handles("card.comment")
    async def card_comment(self, call: Call) -> Ack:
        return await self._run(call, cards.comment_card)

    @handles("column.create")
    async def column_create(self, call: Call) -> Ack:
        return await self._run(call, columns.create_column)

    @handles("column.rename")
    async def column_rename(self, call: Call) -> Ack:
        return await self._run(call, columns.rename_column)

    @handles("column.move")
    async def column_move(self, call: Call) -> Ack:
        return await self._run(call, columns.move_column)

    @handles("column.delete")
    async def column_delete(self, call: Call) -> Ack:
        return await self._run(call, columns.delete_column)
