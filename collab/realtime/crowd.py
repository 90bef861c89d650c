"""Presence as the sockets see it: the first members by username and the count, kept current
with coalesced frames that carry only what changed.

A webinar of thousands joining within a minute would otherwise cost the square of the
audience twice over: every `joined` frame listing everyone, and every arrival sent to everyone.
So `joined` names the first `HEAD` members and the count (`present_count`), and each process,
at most once per channel every `WINDOW` seconds after something changed, reads the first
`HEAD` again and sends its sockets one `presence` frame: who entered and who left that first
part (`joins`, `leaves`) and the count. An arrival further down the list changes only the
count. A change in another process reaches this one as a nudge on the bus; each process
computes its own frame from the shared list, against what it last told its own sockets.
Pages get the same first part and count, rendered once per channel and window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from .presence import NOBODY, Presence, Present
from .protocol import dumps

if TYPE_CHECKING:
    from .bus import Bus
    from .channels import Actor
    from .ordering import ChannelState, Delivery

WINDOW = 0.25


class _Shown:
    """What this process's sockets were last told about a channel."""

    __slots__ = ("count", "given", "members")

    def __init__(self, present: Present) -> None:
        self.members = {m["id"]: m for m in present.members}
        self.count = present.count
        # Members named in `joined` frames since the last flush, beyond `members`: if one of
        # them leaves before the next flush, that frame must say so.
        self.given: dict[int, dict[str, Any]] = {}


class Crowd:
    def __init__(self, presence: Presence, bus: Bus, delivery: Delivery,
                 spawn: Callable[[Coroutine[Any, Any, None]], None]) -> None:
        self.presence = presence
        self._bus = bus
        self._delivery = delivery
        self._spawn = spawn
        # channel -> whether the change was this process's (peers are told) for the flush due
        self._due: dict[str, bool] = {}
        self._shown: dict[str, _Shown] = {}

    async def arrive(self, state: ChannelState, actor: Actor | None,
                     count_in: bool = True) -> Present:
        """Count `actor` in (unless `count_in` is False: a socket joining again); the first
        members and the count for the joiner's `joined` frame."""
        if not state.kind.presence:
            return NOBODY
        channel = state.name
        if count_in and actor is not None and await self.presence.add(channel, actor):
            self._note(channel, mine=True)
        present = await self.presence.head(channel)
        shown = self._shown.get(channel)
        if shown is None:
            self._shown[channel] = _Shown(present)
        else:
            given = shown.given
            for member in present.members:
                if member["id"] not in shown.members:
                    given[member["id"]] = member
        return present

    async def depart(self, state: ChannelState, actor: Actor | None) -> None:
        if not state.kind.presence or actor is None:
            return
        if await self.presence.remove(state.name, actor):
            self._note(state.name, mine=True)

    def forget(self, channel: str) -> None:
        """This process follows `channel` no more."""
        self._shown.pop(channel, None)

    def aged_out(self, channel: str) -> None:
        self._note(channel, mine=True)

    def _note(self, channel: str, mine: bool) -> None:
        due = self._due.get(channel)
        if due is None:
            self._due[channel] = mine
            self._spawn(self._flush_later(channel))
        elif mine and not due:
            self._due[channel] = True

    async def _flush_later(self, channel: str) -> None:
        await asyncio.sleep(WINDOW)
        mine = self._due.pop(channel, False)
        if mine:
            # Peers compute their own frames from the shared list: a nudge is all they need.
            await self._bus.publish(channel, dumps({"op": "presence", "channel": channel}))
        state = self._delivery.channels.get(channel)
        if state is None or not state.subs:
            self._shown.pop(channel, None)
            return
        present = await self.presence.head(channel)
        shown = self._shown.get(channel)
        if shown is None:
            shown = self._shown[channel] = _Shown(NOBODY)
        now = {m["id"]: m for m in present.members}
        joins = [m for uid, m in now.items() if uid not in shown.members]
        leaves = [m for uid, m in (shown.members | shown.given).items() if uid not in now]
        changed = joins or leaves or present.count != shown.count
        shown.members, shown.count, shown.given = now, present.count, {}
        if changed:
            text = dumps({"op": "presence", "channel": channel, "joins": joins,
                          "leaves": leaves, "present_count": present.count})
            self.fanout(state, text, present)

    def on_bus(self, state: ChannelState, text: str) -> None:
        """A peer process's members changed in a channel this process follows."""
        self._note(state.name, mine=False)

    def fanout(self, state: ChannelState, text: str, present: Present) -> None:
        outs: dict[Any, str | None] = {}
        for conn, sub in list(state.subs.items()):
            if sub.buffer is not None:
                continue  # still joining: its `joined` frame carries the list
            encoder = conn.encoder
            if encoder not in outs:
                outs[encoder] = encoder.presence(state.kind, state.name, text, present)
            out = outs[encoder]
            if out is not None:
                conn.enqueue(out)

    async def heartbeat(self) -> None:
        gone = await self.presence.heartbeat()
        for channel in gone:
            self.aged_out(channel)
