"""The bus between processes: broadcaster's backends, supervised (reconnect, resubscribe, repair).

broadcaster 0.3.1 never reconnects, races on concurrent subscribe and has unbounded
queues (../shared/STACK.md). We therefore use only its backend layer, one subscription
per channel per process, and read the Redis connection ourselves so that a dropped
connection surfaces as an exception the supervisor can act on.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

from broadcaster._backends.base import BroadcastBackend
from broadcaster._backends.memory import MemoryBackend

log = logging.getLogger("collab.bus")

Handler = Callable[[str, str], None]
PROBE_SECONDS = 1.0
ReconnectHook = Callable[[], Awaitable[None]]


class RedisBusBackend(BroadcastBackend):
    """broadcaster's Redis backend, made safe for supervision.

    Everything loop-bound is created in connect() (so a second event loop in tests works),
    subscribe() returns only once Redis has confirmed nothing is pending on our side, and
    next_published() reads the pub/sub connection directly so errors propagate.
    """

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn = None
        self._pubsub = None

    async def connect(self) -> None:
        from redis import asyncio as aioredis

        self._conn = aioredis.Redis.from_url(
            self._url, socket_connect_timeout=2, health_check_interval=10
        )
        self._pubsub = self._conn.pubsub(ignore_subscribe_messages=True)
        self._has_subscription = asyncio.Event()
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
        self._has_subscription.set()

    async def unsubscribe(self, channel: str) -> None:
        await self._pubsub.unsubscribe(channel)
        if not self._pubsub.subscribed:
            self._has_subscription.clear()

    async def publish(self, channel: str, message: str) -> None:
        await self._conn.publish(channel, message)

    async def next_message(self) -> tuple[str, str] | None:
        """The next published message, or None after a quiet second; raises if the link broke."""
        if not self._pubsub.subscribed:
            # redis-py will not read a pubsub connection with no subscription; probe the link
            # once a second so that a dead broker is still noticed while this process follows
            # no channel (without the pause this loop pinged Redis flat out).
            try:
                await asyncio.wait_for(self._has_subscription.wait(), PROBE_SECONDS)
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
        self.connected = asyncio.Event()
        self.reconnects = 0

    async def start(self) -> None:
        await self.backend.connect()
        self.connected.set()
        self._task = asyncio.create_task(self._supervise(), name="collab-bus")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
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
            log.warning("bus subscribe %s failed (%s); will resubscribe on reconnect", channel, exc)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        if self.local_only or not self.connected.is_set():
            return
        try:
            await self.backend.unsubscribe(channel)
        except Exception as exc:
            log.warning("bus unsubscribe %s failed: %s", channel, exc)

    async def publish(self, channel: str, frame: str) -> None:
        """Best effort: the store has the event, so a lost publish is repaired, not fatal."""
        if self.local_only or not self.connected.is_set():
            # While the broker is away, waiting on it would hold up every acknowledgement;
            # other processes catch up from the store when it is back (Hub.repair_all).
            return
        try:
            await self.backend.publish(channel, self.origin + "\n" + frame)
        except Exception as exc:
            log.warning("bus publish on %s failed: %s", channel, exc)

    def _dispatch(self, channel: str, message: str) -> None:
        origin, _, frame = message.partition("\n")
        if origin == self.origin:
            return  # delivered locally before it was published
        try:
            self._handler(channel, frame)
        except Exception:
            log.exception("bus message on %s could not be delivered", channel)

    async def _supervise(self) -> None:
        delay = 0.1
        while True:
            try:
                while True:
                    item = await self.backend.next_message()
                    if item is not None:
                        self._dispatch(*item)
                    delay = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.connected.clear()
                log.warning("bus connection lost (%s); reconnecting", exc)
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
                    log.info("bus reconnect failed: %s", exc)
            self.connected.set()
            self.reconnects += 1
            log.warning("bus reconnected; resubscribed %d channels", len(self._channels))
            try:
                await self._on_reconnect()
            except Exception:
                log.exception("gap repair after reconnect failed")
