"""The bus between processes: broadcaster's backends, supervised (reconnect, resubscribe, repair).

broadcaster 0.3.1 never reconnects, races on concurrent subscribe and has unbounded
queues (../shared/STACK.md). We therefore use only its backend layer, one subscription
per channel per process, and read the Redis connection ourselves so that a dropped
connection surfaces as an exception the supervisor can act on.

Publishing never holds up an acknowledgement: events are stored before they are published,
so `publish_soon` queues the frame for a publisher task and returns. A stalled or lost broker
marks the bus down; other processes deliver what they missed from the store (gap repair and
the tail check), so nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable

from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend

log = logging.getLogger("collab.bus")

Handler = Callable[[str, str], None]
ReconnectHook = Callable[[], Awaitable[None]]
PROBE_SECONDS = 1.0
# A publish that takes longer than this means the broker is stalled: mark it down rather than
# let the queue of frames grow behind it.
PUBLISH_TIMEOUT = 2.0
# Frames waiting to be published; past this (the broker far behind) the oldest are dropped:
# the store has them and the other processes' tail check delivers them.
MAX_QUEUED_PUBLISHES = 10_000


class RedisBusBackend(BroadcastBackend):
    """broadcaster's Redis backend, made safe for supervision.

    Everything loop-bound is created in connect() (so a second event loop in tests works);
    which channels are followed is tracked here, not read from redis-py's `subscribed` flag
    (that flag stays set until the unsubscribe confirmation is read, and a reader that
    trusts it spins on `get_message` returning at once); next_message() reads the pub/sub
    connection directly so errors propagate.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn = None
        self._pubsub = None
        self._following: set[str] = set()
        self._has_subscription = asyncio.Event()

    async def connect(self) -> None:
        from redis import asyncio as aioredis

        self._conn = aioredis.Redis.from_url(
            self._url, socket_connect_timeout=2, socket_timeout=PUBLISH_TIMEOUT + 1,
            health_check_interval=10,
        )
        self._pubsub = self._conn.pubsub(ignore_subscribe_messages=True)
        self._has_subscription = asyncio.Event()
        self._following = set()
        await self._conn.ping()

    async def disconnect(self) -> None:
        pubsub, conn = self._pubsub, self._conn
        self._pubsub = self._conn = None
        for closeable in (pubsub, conn):
            if closeable is not None:
                try:
                    await closeable.aclose()
                except Exception:  # a dead connection may fail to close; it is gone anyway
                    pass

    async def subscribe(self, channel: str) -> None:
        await self._pubsub.subscribe(channel)
        self._following.add(channel)
        self._has_subscription.set()

    async def unsubscribe(self, channel: str) -> None:
        self._following.discard(channel)
        if not self._following:
            self._has_subscription.clear()
        await self._pubsub.unsubscribe(channel)

    async def publish(self, channel: str, message: str) -> None:
        await self._conn.publish(channel, message)

    async def next_message(self) -> tuple[str, str] | None:
        """The next published message, or None after a quiet second; raises if the link broke."""
        if not self._following:
            # Nothing to read: wait for a subscription, probing the link once a second so a
            # dead broker is noticed even while this process follows no channel.
            try:
                async with asyncio.timeout(PROBE_SECONDS):
                    await self._has_subscription.wait()
            except TimeoutError:
                await self._conn.ping()
            return None
        message = await self._pubsub.get_message(timeout=1.0)
        if message is None or message["type"] != "message":
            return None
        return message["channel"].decode(), message["data"].decode()


class MemoryBusBackend(MemoryBackend):
    """One process: the hub delivers locally, so nothing needs to cross the bus."""

    async def next_message(self) -> tuple[str, str] | None:
        event = await self.next_published()
        return event.channel, event.message


class Bus:
    """Publishes frames to other processes and feeds what they publish to `handler`."""

    def __init__(self, url: str, handler: Handler, on_reconnect: ReconnectHook) -> None:
        if url.startswith(("redis://", "rediss://")):
            self.backend: RedisBusBackend | MemoryBusBackend = RedisBusBackend(url)
            self.local_only = False
        elif url.startswith("memory://"):
            self.backend = MemoryBusBackend(url)
            self.local_only = True
        else:
            raise ValueError(f"BROADCAST_URL {url!r} is not supported: use memory:// or redis://")
        self.origin = uuid.uuid4().hex[:12]
        self._handler = handler
        self._on_reconnect = on_reconnect
        self._channels: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        self._publisher: asyncio.Task[None] | None = None
        self._outgoing: deque[tuple[str, str]] = deque()
        self._wake = asyncio.Event()
        self._broken = asyncio.Event()
        self.connected = asyncio.Event()
        self.reconnects = 0
        # Frames not published: the broker away, or the queue past MAX_QUEUED_PUBLISHES.
        self.dropped = 0

    async def start(self) -> None:
        self._wake = asyncio.Event()
        self._broken = asyncio.Event()
        await self.backend.connect()
        self.connected.set()
        self._task = asyncio.create_task(self._supervise(), name="collab-bus")
        if not self.local_only:
            self._publisher = asyncio.create_task(self._publish_loop(), name="collab-publish")

    async def stop(self) -> None:
        for task in (self._publisher, self._task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
        await self.backend.disconnect()

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)
        if self.local_only or not self.connected.is_set():
            return  # resubscribed on reconnect
        try:
            await self.backend.subscribe(channel)
        except Exception as exc:
            log.warning("bus subscribe %s failed (%r); will resubscribe on reconnect", channel, exc)
            self._mark_down()

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self.local_only or not self.connected.is_set():
            return
        try:
            await self.backend.unsubscribe(channel)
        except Exception as exc:
            log.warning("bus unsubscribe %s failed: %r", channel, exc)

    def publish_soon(self, channel: str, frame: str) -> None:
        """Queue a frame for the other processes; never waits on the broker."""
        if self.local_only:
            return
        if not self.connected.is_set():
            # While the broker is away, other processes catch up from the store when it is
            # back (Hub repair_all after the reconnect).
            self.dropped += 1
            return
        if len(self._outgoing) >= MAX_QUEUED_PUBLISHES:
            self._outgoing.popleft()
            self.dropped += 1
        self._outgoing.append((channel, self.origin + "\n" + frame))
        self._wake.set()

    async def publish(self, channel: str, frame: str) -> None:
        """Queue a frame and let the publisher run (the order of frames is kept)."""
        self.publish_soon(channel, frame)

    async def _publish_loop(self) -> None:
        outgoing = self._outgoing
        while True:
            await self._wake.wait()
            self._wake.clear()
            while outgoing:
                if not self.connected.is_set():
                    self.dropped += len(outgoing)
                    outgoing.clear()
                    break
                channel, message = outgoing[0]
                try:
                    async with asyncio.timeout(PUBLISH_TIMEOUT):
                        await self.backend.publish(channel, message)
                except Exception as exc:  # TimeoutError included: a stalled broker
                    # repr: a publish timing out is a TimeoutError whose str() is empty.
                    log.warning("bus publish on %s failed (%r); marking the bus down",
                                channel, exc)
                    self.dropped += len(outgoing)
                    outgoing.clear()
                    self._mark_down()
                    break
                outgoing.popleft()

    def _mark_down(self) -> None:
        if self.connected.is_set():
            self.connected.clear()
            self._broken.set()

    def _dispatch(self, channel: str, message: str) -> None:
        origin, _, frame = message.partition("\n")
        if origin == self.origin:
            return  # delivered locally before it was published
        try:
            self._handler(channel, frame)
        except Exception:
            log.exception("bus message on %s could not be delivered", channel)

    async def _read(self) -> None:
        while True:
            item = await self.backend.next_message()
            if item is not None:
                self._dispatch(*item)

    async def _supervise(self) -> None:
        delay = 0.1
        while True:
            reader = asyncio.ensure_future(self._read())
            broken = asyncio.ensure_future(self._broken.wait())
            try:
                await asyncio.wait({reader, broken}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (reader, broken):
                    task.cancel()
                for task in (reader, broken):
                    try:
                        await task
                    except (asyncio.CancelledError, Exception):
                        pass
            self._broken.clear()
            self.connected.clear()
            log.warning("bus connection lost; reconnecting")
            # Back off from 0.1 s to 5 s so a long outage costs one attempt every few seconds.
            while True:
                await self.backend.disconnect()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                try:
                    await self.backend.connect()
                    for channel in list(self._channels):
                        await self.backend.subscribe(channel)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.info("bus reconnect failed: %r", exc)
            delay = 0.1
            self.connected.set()
            self.reconnects += 1
            log.warning("bus reconnected; resubscribed %d channels", len(self._channels))
            try:
                await self._on_reconnect()
            except Exception:
                log.exception("gap repair after reconnect failed")
