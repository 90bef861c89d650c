"""Joining and leaving: authorise, subscribe, replay from `since`, and answer `joined`.

`join` registers the socket and reads the channel's last delivered seq `L` with no `await` in
between, so every later live event has `seq > L`. While it replays `since < seq <= L` from the
store, live events for that socket wait in its subscription's buffer; then `joined` (seq `L`)
is queued, then the buffered events. Nothing is missed and nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from collab import metrics
from collab.errors import Invalid

from . import store
from .ordering import ChannelState, Subscription

if TYPE_CHECKING:
    from .channels import ChannelKind
    from .connection import Connection
    from .hub import Hub

log = logging.getLogger("collab.hub")

# A page follows one or two channels and a busy bot a few dozen; the cap keeps one socket
# from subscribing this process to thousands.
MAX_CHANNELS_PER_SOCKET = 200
# Times a join asks for its grant again when access changed while it waited (see `_granted`).
ACCESS_RETRIES = 5


class Joins:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self._locks: dict[str, asyncio.Lock] = {}

    async def state(self, channel: str, kind: ChannelKind) -> ChannelState:
        hub = self.hub
        channels = hub.delivery.channels
        state = channels.get(channel)
        if state is not None and state.last_seq is not None:
            return state
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            state = channels.get(channel)
            if state is None:
                state = ChannelState(channel, kind)
                channels[channel] = state
                # Subscribe before reading the head: what is published in between is either
                # already counted in the head (dropped as a duplicate) or arrives after it.
                await hub.bus.subscribe(channel)
                try:
                    state.last_seq, state.epoch = await store.position(channel, hub.epoch)
                except BaseException:
                    del channels[channel]
                    await hub.bus.unsubscribe(channel)
                    raise
                hub.delivery.drain_pending(state)
                if state.pending:
                    hub.delivery.start_repair(state)
        return state

    async def join(self, conn: Connection, channel: str, since: int | None,
                   epoch: str | None, ref: str | None) -> None:
        """Authorise, subscribe, replay from `since` (or reset), and queue `joined`."""
        hub = self.hub
        if channel not in conn.channels and len(conn.channels) >= MAX_CHANNELS_PER_SOCKET:
            raise Invalid(f"a socket may follow at most {MAX_CHANNELS_PER_SOCKET} channels; "
                          "leave one first")
        kind, id = hub.kind_for(channel)
        grant, state = await self._granted(conn, channel, kind, id, since, epoch)
        again = conn in state.subs
        sub = Subscription(grant)
        head = state.last_seq or 0
        window = kind.replay_max_events or hub.settings.replay_max_events
        reset = since is not None and (
            since > head or head - since > window
            or (epoch is not None and epoch != state.epoch))
        replay = not reset and since is not None and since < head
        if replay:
            sub.buffer = []
            sub.replaying = True
        state.subs[conn] = sub
        conn.channels[channel] = grant
        encoder = conn.encoder
        try:
            if replay:
                events = await store.read(channel, since, head)
                if not events or events[0].seq != since + 1:
                    reset = True  # pruned meanwhile: the page must reload
                else:
                    for event in events:
                        out = encoder.event(kind, event)
                        if out is not None:
                            # A replay may be longer than the outbox: pace it by the writer
                            # rather than closing a client that is catching up with 4008.
                            await conn.room()
                            conn.push(out[0], out[1])
            if reset:
                conn.enqueue(encoder.reset(channel, head, state.epoch))
            if again:
                members = await hub.crowd.presence.members(channel) if kind.presence else []
            else:
                members = await hub.crowd.arrive(state, conn.actor)
        except BaseException:
            if state.subs.get(conn) is sub:
                del state.subs[conn]
            conn.channels.pop(channel, None)
            raise
        metrics.counts.joins += 1
        joined = encoder.joined(kind, channel, ref, head, state.epoch, members)
        if joined:
            conn.enqueue(joined)
        sub.replaying = False
        if conn.closed or sub.held:
            return  # a held socket gets what waits once its access re-check keeps it
        buffered, sub.buffer = sub.buffer, None
        for event in buffered or ():
            if event.seq is None or event.seq > head:
                out = encoder.event(kind, event)
                if out is not None:
                    conn.push(out[0], out[1])

    async def _granted(self, conn: Connection, channel: str, kind: ChannelKind, id: int,
                       since: int | None, epoch: str | None) -> tuple[Any, ChannelState]:
        """The grant `kind.join` gives and the channel's state, both as of one moment.

        Between the access check and storing the grant come awaits (the check's own query,
        SUBSCRIBE, the store's head); `access_changed` re-checks only the grants a socket has
        stored, so a change landing in between was missed: a removed member kept a private
        board. A change heard meanwhile (`hub.access_generation` moved) means ask again, after
        this socket's own re-check (which may refresh its actor, or close it). The caller
        stores the grant with no await after this returns.

        A `since` beyond what this process has delivered is not yet a reset: the event may be
        committed and its bus message late (or its publisher died before publishing). The
        store is the truth: what it holds up to `since` is delivered here first (`catch_up`),
        and only a `since` beyond the stored head is reset.
        """
        hub = self.hub
        state: ChannelState | None = None
        try:
            for _ in range(ACCESS_RETRIES):
                generation = hub.access_generation
                grant = await kind.join(conn.actor, id)
                state = await self.state(channel, kind)
                if since is not None and since > (state.last_seq or 0) and (
                        epoch is None or epoch == state.epoch):
                    await hub.delivery.catch_up(state, since)
                if hub.access_generation == generation and \
                        hub.delivery.channels.get(channel) is state:
                    return grant, state
                if hub.access_generation != generation:
                    await conn.checked()
        except BaseException:
            if state is not None and not state.subs:
                await self._drop_state(channel)
            raise
        # Access keeps changing (a storm of sign-outs): take this grant and have the socket
        # check every stored grant again, this one included.
        conn.mark_stale()
        assert state is not None
        return grant, state

    def hold(self, conn: Connection) -> None:
        """Access may have changed: what is delivered to `conn` waits until its re-check
        decides, channel by channel (`release`, or `leave`): an event committed after a member
        was removed never reaches them while the check's query runs."""
        channels = self.hub.delivery.channels
        for channel in conn.channels:
            state = channels.get(channel)
            sub = state.subs.get(conn) if state is not None else None
            if sub is not None and not sub.held:
                sub.held = True
                if sub.buffer is None:
                    sub.buffer = []

    def release(self, conn: Connection, channel: str) -> None:
        """The re-check kept `channel`: deliver what waited, in order (unless a join of it is
        still replaying: it delivers them when its replay ends)."""
        state = self.hub.delivery.channels.get(channel)
        if state is None:
            return
        sub = state.subs.get(conn)
        if sub is None or not sub.held:
            return
        sub.held = False
        if sub.replaying:
            return
        buffered, sub.buffer = sub.buffer, None
        encoder = conn.encoder
        for event in buffered or ():
            out = encoder.event(state.kind, event)
            if out is not None:
                conn.push(out[0], out[1])

    async def leave(self, conn: Connection, channel: str) -> bool:
        state = self.hub.delivery.channels.get(channel)
        conn.channels.pop(channel, None)
        if state is None or state.subs.pop(conn, None) is None:
            return False
        await self.hub.crowd.depart(state, conn.actor)
        if not state.subs:
            await self._drop_state(channel)
        return True

    async def leave_all(self, conn: Connection) -> None:
        for channel in list(conn.channels):
            try:
                await self.leave(conn, channel)
            except Exception:
                log.exception("leaving %s failed", channel)

    async def _drop_state(self, channel: str) -> None:
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            channels = self.hub.delivery.channels
            state = channels.get(channel)
            if state is not None and not state.subs:
                del channels[channel]
                self._locks.pop(channel, None)
                await self.hub.bus.unsubscribe(channel)
