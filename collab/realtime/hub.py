"""The hub: channels, ordered and gap-free fan-out, replay, and the bus between processes."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import orjson

from collab import db
from collab.errors import Invalid, NotFound
from collab.settings import Settings

from . import store
from .bus import Bus
from .channels import Actor, ChannelKind, split_channel
from .events import Event
from .presence import Presence
from .protocol import dumps

if TYPE_CHECKING:
    from .connection import Connection

log = logging.getLogger("collab.hub")

# How often each process compares its channels' last delivered seq with the store, so a
# publish lost on the bus is delivered even when no later event reveals the gap.
TAIL_CHECK_SECONDS = 2.0
# A page follows one or two channels and a busy bot a few dozen; the cap keeps one socket
# from subscribing this process to thousands.
MAX_CHANNELS_PER_SOCKET = 200
MAX_PENDING_EVENTS = 10_000


class Subscription:
    __slots__ = ("buffer", "conn", "html")

    def __init__(self, conn: Connection, html: bool) -> None:
        self.conn = conn
        self.html = html
        # While a join replays from the store, live events wait here to keep seq order.
        self.buffer: list[Event] | None = None


class ChannelState:
    """One channel followed by this process: its sockets and the last seq delivered to them."""

    __slots__ = ("kind", "last_seq", "name", "pending", "repairing", "subs")

    def __init__(self, name: str, kind: ChannelKind) -> None:
        self.name = name
        self.kind = kind
        self.last_seq: int | None = None  # None until read from the store
        self.subs: dict[Connection, Subscription] = {}
        self.pending: dict[int, Event] = {}
        self.repairing = False


class Transaction:
    """Domain writes plus their events, committed together; events publish after commit."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._conn: Any = None

    async def reserve(self, channel: str) -> int:
        """Take `channel`'s next seq now, to store it on a domain row before emitting."""
        return await store.next_seq(self._conn, channel)

    async def emit(self, channel: str, type: str, data: dict[str, Any],
                   actor: Actor | None = None, seq: int | None = None) -> Event:
        """Store an event of `channel` (with the seq `reserve` gave, if any)."""
        event = Event(channel, type, data, seq=seq, actor=actor.public() if actor else None)
        await store.append(self._conn, event)
        self.events.append(event)
        return event


class Hub:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.kinds: dict[str, ChannelKind] = {}
        self.channels: dict[str, ChannelState] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.bus = Bus(settings.broadcast_url, self._on_bus_message, self.repair_all)
        redis_url = None if self.bus.local_only else settings.broadcast_url
        self.presence = Presence(redis_url, self.bus.origin, settings.presence_ttl_seconds)
        self.listeners: list[Any] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._background: set[asyncio.Task[None]] = set()
        self.connections: set[Connection] = set()

    # -- set-up ---------------------------------------------------------------------------
    def register(self, kind_class: type[ChannelKind]) -> ChannelKind:
        kind = kind_class(self)
        if kind.kind in self.kinds:
            raise ValueError(f"channel kind {kind.kind!r} registered twice")
        self.kinds[kind.kind] = kind
        return kind

    def listen(self, callback: Any) -> None:
        """Call `callback(event)` after every persisted event commits in this process."""
        self.listeners.append(callback)

    async def start(self) -> None:
        await self.bus.start()
        await self.presence.start()
        self._tasks.append(asyncio.create_task(self._tail_check(), name="collab-tail-check"))
        if not self.bus.local_only:
            self._tasks.append(asyncio.create_task(self._presence_heartbeat(),
                                                   name="collab-presence"))

    def _spawn(self, coro: Any) -> None:
        """A short background job (repair, presence render), kept so stop() can end it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def stop(self) -> None:
        self._tasks.extend(self._background)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        for conn in list(self.connections):
            await conn.shutdown()
        await self.bus.stop()
        await self.presence.stop()

    def kind_for(self, channel: str) -> tuple[ChannelKind, str]:
        name, id = split_channel(channel)
        kind = self.kinds.get(name)
        if kind is None or not id:
            raise NotFound(f"no channel kind {name[:40]!r}")
        return kind, id

    # -- writes ---------------------------------------------------------------------------
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """`async with hub.transaction() as tx:` domain writes, then `await tx.emit(...)`."""
        tx = Transaction()
        async with db.write_transaction():
            tx._conn = db.database.get_transaction_connection()
            await store.take_write_lock(tx._conn)
            yield tx
        for event in tx.events:
            await self.publish(event)

    async def publish(self, event: Event) -> None:
        """Deliver an event here at once and to other processes through the bus."""
        self.deliver(event)
        await self.bus.publish(event.channel, event.frame)
        if event.seq is not None:
            for listener in self.listeners:
                try:
                    await listener(event)
                except Exception:
                    log.exception("event listener failed on %r", event)

    async def broadcast(self, event: Event) -> None:
        """An ephemeral event (typing): no seq, not stored, best effort."""
        event.seq = None
        self.deliver(event)
        await self.bus.publish(event.channel, event.frame)

    # -- delivery -------------------------------------------------------------------------
    def _on_bus_message(self, channel: str, frame: str) -> None:
        state = self.channels.get(channel)
        if state is None:
            return
        if frame.startswith('{"op":"presence"'):
            self._fanout_presence(state, frame, orjson.loads(frame))
            return
        self.deliver(Event.from_frame(frame))

    def deliver(self, event: Event) -> None:
        """Deliver in seq order: drop what was delivered, hold what came early, repair gaps."""
        state = self.channels.get(event.channel)
        if state is None:
            return
        seq = event.seq
        if seq is None:
            self._fanout(state, event)
            return
        last = state.last_seq
        if last is None or seq > last + 1:
            # Held until the gap is filled. Past the cap (the store unreachable for long) later
            # events are not held: the store has them, and the repair reads up to its head.
            if len(state.pending) < MAX_PENDING_EVENTS:
                state.pending[seq] = event
            if last is not None:
                self._start_repair(state)
            return
        if seq <= last:
            return
        self._fanout(state, event)
        state.last_seq = seq
        if state.pending:
            self._drain_pending(state)

    def _drain_pending(self, state: ChannelState) -> None:
        pending = state.pending
        for seq in sorted(pending):
            if seq <= state.last_seq:
                del pending[seq]
            elif seq == state.last_seq + 1:
                self._fanout(state, pending.pop(seq))
                state.last_seq = seq
            else:
                break

    def _fanout(self, state: ChannelState, event: Event) -> None:
        frame = event.frame
        wire = event.wire
        html: str | None = None
        html_wire: bytes | None = None
        rendered = False
        dead: list[Connection] = []
        for conn, sub in state.subs.items():
            if sub.buffer is not None:
                # Live events wait while this socket replays; bounded like its outbox.
                if len(sub.buffer) >= conn.limit:
                    conn.close(4008)
                    dead.append(conn)
                else:
                    sub.buffer.append(event)
                continue
            if sub.html:
                if not rendered:
                    html, rendered = event.html(state.kind.render), True
                    if html is not None:
                        html_wire = event.html_wire(html)
                if html is None:
                    continue
                if not conn.push(html, html_wire):
                    dead.append(conn)
            elif not conn.push(frame, wire):
                dead.append(conn)
        for conn in dead:
            state.subs.pop(conn, None)

    def _start_repair(self, state: ChannelState) -> None:
        if not state.repairing:
            state.repairing = True
            self._spawn(self._repair(state))

    async def _repair(self, state: ChannelState) -> None:
        """Fill a gap from the store; the store is the truth, the bus only the fast path."""
        try:
            for attempt in range(50):
                target = max(max(state.pending, default=0), await store.head(state.name))
                if state.last_seq is None or state.last_seq >= target:
                    break
                events = await store.read(state.name, state.last_seq, target)
                for event in events:
                    self.deliver_repaired(state, event)
                if state.pending:
                    self._drain_pending(state)
                if not state.pending:
                    break
                # The store lacks an event a peer already published: its commit is still
                # becoming visible here; try again shortly rather than skip it.
                await asyncio.sleep(min(0.01 * (attempt + 1), 0.2))
        except Exception:
            log.exception("gap repair of %s failed; the tail check will retry", state.name)
        finally:
            state.repairing = False

    def deliver_repaired(self, state: ChannelState, event: Event) -> None:
        if state.last_seq is not None and event.seq == state.last_seq + 1:
            self._fanout(state, event)
            state.last_seq = event.seq
            state.pending.pop(event.seq, None)

    async def repair_all(self) -> None:
        """After a broker outage: deliver every event committed meanwhile, in order."""
        heads = await store.heads(list(self.channels))
        for name, head in heads.items():
            state = self.channels.get(name)
            if state is not None and state.last_seq is not None and head > state.last_seq:
                self._start_repair(state)

    async def _tail_check(self) -> None:
        while True:
            await asyncio.sleep(TAIL_CHECK_SECONDS)
            try:
                await self.repair_all()
            except Exception as exc:
                log.warning("tail check failed: %s", exc)

    # -- joining and leaving --------------------------------------------------------------
    async def _state(self, channel: str, kind: ChannelKind) -> ChannelState:
        state = self.channels.get(channel)
        if state is not None and state.last_seq is not None:
            return state
        lock = self._locks.setdefault(channel, asyncio.Lock())
        async with lock:
            state = self.channels.get(channel)
            if state is None:
                state = ChannelState(channel, kind)
                self.channels[channel] = state
                # Subscribe before reading the head: what is published in between is either
                # already counted in the head (dropped as a duplicate) or arrives after it.
                await self.bus.subscribe(channel)
                try:
                    state.last_seq = await store.head(channel)
                except BaseException:
                    del self.channels[channel]
                    await self.bus.unsubscribe(channel)
                    raise
                self._drain_pending(state)
                if state.pending:
                    self._start_repair(state)
        return state

    async def join(self, conn: Connection, channel: str, actor: Actor | None,
                   since: int | None, ref: str | None, html: bool = False) -> None:
        """Authorise, subscribe, replay from `since`, and queue the `joined` frame."""
        if channel not in conn.channels and len(conn.channels) >= MAX_CHANNELS_PER_SOCKET:
            raise Invalid(f"a socket may follow at most {MAX_CHANNELS_PER_SOCKET} channels; "
                          "leave one first")
        kind, id = self.kind_for(channel)
        await kind.join(actor, id)
        state = await self._state(channel, kind)
        state.subs.pop(conn, None)
        sub = Subscription(conn, html)
        head = state.last_seq or 0
        replay = since is not None and since < head
        reset = replay and head - since > self.settings.replay_max_events
        if replay and not reset:
            sub.buffer = []
        state.subs[conn] = sub
        conn.channels[channel] = actor
        try:
            if reset:
                conn.enqueue(self._reset_text(state, head, html))
            elif replay:
                for event in await store.read(channel, since, head):
                    text = event.html(kind.render) if html else event.frame
                    if text is not None:
                        # A replay may be longer than the outbox: pace it by the writer
                        # rather than closing a client that is catching up with 4008.
                        await conn.room()
                        conn.enqueue(text)
            members = await self._presence_join(state, actor, conn)
        except BaseException:
            state.subs.pop(conn, None)
            conn.channels.pop(channel, None)
            raise
        if not html:
            conn.enqueue(dumps({"op": "joined", "ref": ref, "channel": channel, "seq": head,
                                "presence": members}))
        else:
            fragment = kind.render_presence(channel, members)
            if fragment:
                conn.enqueue(fragment)
        if conn.closed:
            return
        buffered, sub.buffer = sub.buffer, None
        for event in buffered or ():
            if event.seq is None or event.seq > head:
                text = event.html(kind.render) if html else event.frame
                if text is not None:
                    conn.enqueue(text)

    def _reset_text(self, state: ChannelState, head: int, html: bool) -> str:
        if html:
            return ('<div id="collab-reset" hx-swap-oob="true" data-reset="'
                    f'{head}"></div>')
        return dumps({"op": "event", "channel": state.name, "type": "reset", "seq": head})

    async def leave(self, conn: Connection, channel: str) -> bool:
        state = self.channels.get(channel)
        actor = conn.channels.pop(channel, None)
        if state is None or state.subs.pop(conn, None) is None:
            return False
        if actor is not None and await self.presence.remove(channel, actor):
            await self._publish_presence(state, [], [actor_public(actor)])
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
            state = self.channels.get(channel)
            if state is not None and not state.subs:
                del self.channels[channel]
                self._locks.pop(channel, None)
                await self.bus.unsubscribe(channel)

    # -- presence -------------------------------------------------------------------------
    async def _presence_join(self, state: ChannelState, actor: Actor | None,
                             joiner: Connection) -> list[dict]:
        if actor is not None and await self.presence.add(state.name, actor):
            # The joiner learns the whole list from its `joined` frame instead.
            await self._publish_presence(state, [actor_public(actor)], [], exclude=joiner)
        return await self.presence.members(state.name)

    async def _publish_presence(self, state: ChannelState, joins: list[dict],
                                leaves: list[dict], exclude: Connection | None = None) -> None:
        frame = {"op": "presence", "channel": state.name, "joins": joins, "leaves": leaves}
        text = dumps(frame)
        self._fanout_presence(state, text, frame, exclude)
        await self.bus.publish(state.name, text)

    def _fanout_presence(self, state: ChannelState, text: str, frame: dict,
                         exclude: Connection | None = None) -> None:
        has_html = False
        for conn, sub in list(state.subs.items()):
            if conn is exclude:
                continue
            if sub.html:
                has_html = True
            else:
                conn.enqueue(text)
        if has_html:
            self._spawn(self._fanout_presence_html(state))

    async def _fanout_presence_html(self, state: ChannelState) -> None:
        """Pages show the whole list ("3 here now"), so they get it rendered from the store."""
        members = await self.presence.members(state.name)
        fragment = state.kind.render_presence(state.name, members)
        if fragment:
            for conn, sub in list(state.subs.items()):
                if sub.html and sub.buffer is None:
                    conn.enqueue(fragment)

    async def _presence_heartbeat(self) -> None:
        while True:
            await asyncio.sleep(max(1.0, self.settings.presence_ttl_seconds / 3))
            try:
                gone = await self.presence.heartbeat()
            except Exception as exc:
                log.warning("presence heartbeat failed: %s", exc)
                continue
            for channel, users in gone.items():
                state = self.channels.get(channel)
                if state is not None:
                    await self._publish_presence(state, [], users)


def actor_public(actor: Actor) -> dict[str, Any]:
    return {"id": actor.id, "username": actor.username,
            "display_name": actor.display_name or actor.username}

