"""The hub: channel kinds, the doors for events, delivery, joins, presence, the bus.

Domains use only its public face: `register`, `head`, `members`, `transaction`, `write`,
`broadcast`, `access_changed` and `channel_access_changed`. The machinery lives
beside it: `ordering` (delivery in seq order and gap repair), `joining` (join, replay, leave),
`crowd` (coalesced presence), `door` (group commit), `encoders` (JSON and HTML frames).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from collab import db
from collab.errors import NotFound
from collab.settings import Settings

from . import store
from .bus import Bus
from .channels import Actor, ChannelKind, split_channel
from .crowd import Crowd
from .door import Change, Door, Written
from .encoders import HtmlEncoder, Renderer
from .events import Event
from .joining import Joins
from .ordering import Delivery
from .presence import Presence
from .transaction import Transaction

if TYPE_CHECKING:
    from .connection import Connection

log = logging.getLogger("collab.hub")

# How often each process compares its channels' last delivered seq with the store, so a
# publish lost on the bus is delivered even when no later event reveals the gap.
TAIL_CHECK_SECONDS = 2.0
# Pruning is cheap but not free; once every ten minutes keeps a busy channel's table near
# REPLAY_MAX_EVENTS rows without adding work to any write.
PRUNE_SECONDS = 600.0
# Access changes (a revoked token, a removed role or membership) cross processes here.
ACCESS_CHANNEL = "collab:access"
# ... as user ids, or as this prefix and a channel whose access changed for everyone.
CHANNEL_PREFIX = "channel "

Reauthenticate = Callable[[Actor], Awaitable[Actor | None]]


@dataclass(frozen=True, slots=True)
class Position:
    """Where a channel's history stands: its latest seq and the epoch that names it."""

    seq: int
    epoch: str


class Hub:
    def __init__(self, settings: Settings, renderer: Renderer | None = None) -> None:
        self.settings = settings
        self.kinds: dict[str, ChannelKind] = {}
        self._background: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.bus = Bus(settings.broadcast_url, self._on_bus_message, self._after_reconnect)
        redis_url = None if self.bus.local_only else settings.broadcast_url
        self.delivery = Delivery(self._spawn)
        self.crowd = Crowd(Presence(redis_url, self.bus.origin, settings.presence_ttl_seconds),
                           self.bus, self.delivery, self._spawn)
        self.joins = Joins(self)
        self.door = Door(lambda: self.epoch)
        self.html = HtmlEncoder(renderer) if renderer is not None else None
        self.epoch = ""
        self.connections: set[Connection] = set()
        self.by_user: dict[int, set[Connection]] = {}
        self.reauthenticate: Reauthenticate | None = None
        # Counts access changes heard by this process (any member's, any channel's). A join or
        # a send reads it before its access check and compares after its awaits: a change
        # that landed in between means the grant may be stale and is asked for again.
        self.access_generation = 0

    # -- set-up ---------------------------------------------------------------------------
    def register(self, kind_class: type[ChannelKind]) -> ChannelKind:
        kind = kind_class(self)
        if not kind.kind or kind.kind in self.kinds:
            raise ValueError(f"channel kind {kind.kind!r} is empty or registered twice")
        self.kinds[kind.kind] = kind
        return kind

    async def prepare(self) -> None:
        """Read what writes need from the store (the database's epoch for new channels)."""
        self.epoch = await store.database_epoch()

    async def start(self) -> None:
        await self.prepare()
        await self.bus.start()
        await self.bus.subscribe(ACCESS_CHANNEL)
        await self.crowd.presence.start()
        self._tasks.append(asyncio.create_task(self._every(TAIL_CHECK_SECONDS,
                                                           self.delivery.repair_all),
                                               name="collab-tail-check"))
        self._tasks.append(asyncio.create_task(self._every(PRUNE_SECONDS, self.prune),
                                               name="collab-prune"))
        if not self.bus.local_only:
            self._tasks.append(asyncio.create_task(
                self._every(max(1.0, self.settings.presence_ttl_seconds / 3),
                            self.crowd.heartbeat), name="collab-presence"))

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """A short background job (repair, presence), kept so stop() can end it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def stop(self) -> None:
        tasks = [*self._tasks, *self._background]
        for task in tasks:
            task.cancel()
        for task in tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        for conn in list(self.connections):
            conn.close(1001)
        await self.bus.stop()
        await self.crowd.presence.stop()

    async def _every(self, seconds: float, job: Callable[[], Awaitable[Any]]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()
            except Exception as exc:
                log.warning("%s failed: %s", getattr(job, "__name__", job), exc)

    def kind_for(self, channel: str) -> tuple[ChannelKind, int]:
        name, id = split_channel(channel)
        kind = self.kinds.get(name)
        if kind is None or not id:
            raise NotFound(f"no channel kind {name[:40]!r}")
        return kind, kind.parse_id(id)

    # -- what domains ask -----------------------------------------------------------------
    async def head(self, channel: str) -> Position:
        """The channel's latest seq and epoch: a page renders them, then joins with `since`."""
        state = self.delivery.channels.get(channel)
        if state is not None and state.last_seq is not None:
            return Position(state.last_seq, state.epoch)
        seq, epoch = await store.position(channel, self.epoch)
        return Position(seq, epoch)

    async def members(self, channel: str) -> list[dict[str, Any]]:
        """Who is in `channel` now (members, not sockets); empty if presence is unavailable."""
        try:
            return await self.crowd.presence.members(channel)
        # Presence lives in Redis when scaled out; a page must still render while it is away.
        except Exception:
            return []

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """`async with hub.transaction() as tx:` domain writes, then `await tx.emit(...)`."""
        try:
            async with db.write_transaction():
                conn = db.database.get_transaction_connection()
                await store.take_write_lock(conn)
                tx = Transaction(conn, self.epoch)
                yield tx
                await tx._remember_key()
        except Exception as exc:
            failure = db.failure(exc)
            if failure is None or failure is exc:
                raise
            raise failure from exc
        for event in tx.events:
            await self.publish(event)

    async def write(self, change: Change) -> Written:
        """Commit a change through the door (group commit), publish its event, return it."""
        written = await self.door.write(change)
        await self.publish(Event(change.channel, change.type, written.data, seq=written.seq,
                                 actor=change.actor, ts=change.ts))
        for event in written.also:
            await self.publish(event)
        return written

    async def publish(self, event: Event) -> None:
        """Deliver a committed event here at once and to other processes through the bus."""
        self.delivery.deliver(event)
        self.bus.publish_soon(event.channel, event.frame)

    async def broadcast(self, channel: str, type: str, data: dict[str, Any],
                        actor: Actor | None = None, skip: Any = None) -> None:
        """An ephemeral event (typing): no seq, not stored, best effort; not back to `skip`."""
        event = Event(channel, type, data, actor=actor.public() if actor else None)
        state = self.delivery.channels.get(channel)
        if state is not None:
            self.delivery.fanout(state, event, skip=skip)
        self.bus.publish_soon(channel, event.frame)

    async def prune(self) -> int:
        return await store.prune(self.settings.replay_max_events,
                                 self.settings.event_retention_days)

    # -- access ---------------------------------------------------------------------------
    async def access_changed(self, user_id: int) -> None:
        """A member's access changed (token revoked, signed out, role or membership removed):
        every socket of theirs, in every process, is checked again before its next action."""
        self._mark_stale(user_id)
        await self.bus.publish(ACCESS_CHANNEL, str(user_id))

    async def channel_access_changed(self, channel: str) -> None:
        """Who may follow `channel` changed for everyone at once (a webinar made members-only):
        in every process its kind forgets what it cached about it (`ChannelKind.forget`) and
        every socket following it, or that sent to it, is checked again at once, leaving it if
        it may no longer follow it."""
        self._channel_stale(channel)
        await self.bus.publish(ACCESS_CHANNEL, CHANNEL_PREFIX + channel)

    def _mark_stale(self, user_id: int) -> None:
        self.access_generation += 1
        for conn in list(self.by_user.get(user_id, ())):
            conn.mark_stale()

    def _channel_stale(self, channel: str) -> None:
        self.access_generation += 1
        name, id = split_channel(channel)
        kind = self.kinds.get(name)
        if kind is None:
            return
        try:
            kind.forget(kind.parse_id(id))
        except NotFound:
            return
        for conn in list(self.connections):
            if channel in conn.channels or (conn.authorized is not None
                                            and channel in conn.authorized):
                conn.mark_stale()

    def track(self, conn: Connection) -> None:
        self.connections.add(conn)
        if conn.actor is not None:
            self.by_user.setdefault(conn.actor.id, set()).add(conn)

    def untrack(self, conn: Connection) -> None:
        self.connections.discard(conn)
        if conn.actor is not None:
            conns = self.by_user.get(conn.actor.id)
            if conns is not None:
                conns.discard(conn)
                if not conns:
                    del self.by_user[conn.actor.id]

    # -- the bus --------------------------------------------------------------------------
    def _on_bus_message(self, channel: str, frame: str) -> None:
        if channel == ACCESS_CHANNEL:
            if frame.isdigit():
                self._mark_stale(int(frame))
            elif frame.startswith(CHANNEL_PREFIX):
                self._channel_stale(frame.removeprefix(CHANNEL_PREFIX))
            return
        state = self.delivery.channels.get(channel)
        if state is None:
            return
        if frame.startswith('{"op":"presence"'):
            self.crowd.on_bus(state, frame)
            return
        self.delivery.deliver(Event.from_frame(frame))

    async def _after_reconnect(self) -> None:
        await self.delivery.repair_all()
