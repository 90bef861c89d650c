"""Presence as the sockets see it: arrivals and departures, coalesced per channel.

A webinar of 1,000 people joining within a few seconds would otherwise send every socket a
frame per arrival: a million frames. Changes are gathered per channel for `WINDOW` seconds
and go out as one `presence` frame carrying all joins and leaves (a member who came and went
within the window cancels out), so each socket gets a few frames per second at most. Pages
get the whole list, rendered once per channel and window.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from .presence import Presence
from .protocol import dumps

if TYPE_CHECKING:
    from .bus import Bus
    from .channels import Actor
    from .ordering import ChannelState, Delivery

WINDOW = 0.25


class _Batch:
    __slots__ = ("joins", "leaves")

    def __init__(self) -> None:
        self.joins: dict[int, dict[str, Any]] = {}
        self.leaves: dict[int, dict[str, Any]] = {}


class Crowd:
    def __init__(self, presence: Presence, bus: Bus, delivery: Delivery,
                 spawn: Callable[[Coroutine[Any, Any, None]], None]) -> None:
        self.presence = presence
        self._bus = bus
        self._delivery = delivery
        self._spawn = spawn
        self._batches: dict[str, _Batch] = {}

    async def arrive(self, state: ChannelState, actor: Actor | None) -> list[dict[str, Any]]:
        """Count `actor` in; the member list for the joiner's `joined` frame."""
        if not state.kind.presence:
            return []
        if actor is not None and await self.presence.add(state.name, actor):
            self._note(state.name, actor.public(), joined=True)
        return await self.presence.members(state.name)

    async def depart(self, state: ChannelState, actor: Actor | None) -> None:
        if not state.kind.presence or actor is None:
            return
        if await self.presence.remove(state.name, actor):
            self._note(state.name, actor.public(), joined=False)

    def aged_out(self, channel: str, users: list[dict[str, Any]]) -> None:
        for user in users:
            self._note(channel, user, joined=False)

    def _note(self, channel: str, user: dict[str, Any], joined: bool) -> None:
        batch = self._batches.get(channel)
        if batch is None:
            batch = self._batches[channel] = _Batch()
            self._spawn(self._flush_later(channel))
        uid = user["id"]
        if joined:
            if batch.leaves.pop(uid, None) is None:
                batch.joins[uid] = user
        elif batch.joins.pop(uid, None) is None:
            batch.leaves[uid] = user

    async def _flush_later(self, channel: str) -> None:
        await asyncio.sleep(WINDOW)
        batch = self._batches.pop(channel, None)
        if batch is None or not (batch.joins or batch.leaves):
            return
        frame = {"op": "presence", "channel": channel, "joins": list(batch.joins.values()),
                 "leaves": list(batch.leaves.values())}
        text = dumps(frame)
        state = self._delivery.channels.get(channel)
        if state is not None:
            await self.fanout(state, text)
        await self._bus.publish(channel, text)

    def on_bus(self, state: ChannelState, text: str) -> None:
        """A peer process's presence frame for a channel this process follows."""
        self._spawn(self.fanout(state, text))

    async def fanout(self, state: ChannelState, text: str) -> None:
        members: list[dict[str, Any]] | None = None
        outs: dict[Any, str | None] = {}
        for conn, sub in list(state.subs.items()):
            if sub.buffer is not None:
                continue  # still joining: its `joined` frame carries the list
            encoder = conn.encoder
            if encoder not in outs:
                if encoder.html and members is None:
                    # Pages show the whole list ("3 here now"): rendered once from the store.
                    members = await self.presence.members(state.name)
                outs[encoder] = encoder.presence(state.kind, state.name, text,
                                                 members if encoder.html else None)
            out = outs[encoder]
            if out is not None:
                conn.enqueue(out)

    async def heartbeat(self) -> None:
        gone = await self.presence.heartbeat()
        for channel, users in gone.items():
            self.aged_out(channel, users)

