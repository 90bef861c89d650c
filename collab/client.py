"""An async Python client of collab's `/ws` protocol, for bots, integrations, tests and benches.

    async with Client("ws://host/ws", token=TOKEN, on_reset=reload) as client:
        await client.join("thread:7")
        ack = await client.send("thread:7", "post.create", {"body": "Hello"})
        async for event in client.events():
            ...

What it takes care of (docs/protocol.md):
- **Reconnect** with exponential backoff (0.1 s doubling to 5 s, with jitter) whenever the
  socket drops, including a 4008 close of a slow reader; every joined channel is rejoined with
  `since` (the last seq seen) and `epoch`, so nothing is missed and nothing is seen twice.
- **Reset**: when the server answers a rejoin with `reset` (too far behind, another history),
  `on_reset(channel, seq)` is called: reload that channel's state over HTTP; the client then
  follows it from `seq`.
- **Safe retries**: every `send` carries a `key`; if the socket drops before the `ack`, the
  same frame (same key) is sent again as soon as the channels are rejoined after the
  reconnect (not after the per-try timeout), and the server does it once.
- **Backpressure**: events wait in a bounded queue; when the consumer falls behind, the reader
  stops reading, the server closes the socket as a slow reader (4008), and the client rejoins
  with `since`: memory stays bounded and nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Self
from urllib.parse import urlencode

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

log = logging.getLogger("collab.client")

Frame = dict[str, Any]
ResetHook = Callable[[str, int], Awaitable[None] | None]


class ClientError(Exception):
    """The server refused a frame: `code` is the wire error code (`forbidden`, `conflict`, …)."""

    def __init__(self, frame: Frame) -> None:
        super().__init__(f"{frame.get('code')}: {frame.get('message')}")
        self.code: str = frame.get("code", "")
        self.message: str = frame.get("message", "")
        self.frame = frame


class _Lost(Exception):
    """A send went out on a socket that dropped before its answer came: send it again."""


class Position:
    __slots__ = ("epoch", "seq")

    def __init__(self, seq: int | None = None, epoch: str | None = None) -> None:
        self.seq = seq
        self.epoch = epoch


class Client:
    """One socket to `/ws`, kept open across drops until `close()`."""

    def __init__(self, url: str, *, token: str | None = None,
                 on_reset: ResetHook | None = None, max_queue: int = 10_000,
                 reconnect: bool = True, min_delay: float = 0.1, max_delay: float = 5.0,
                 open_timeout: float = 10.0) -> None:
        if token:
            url = f"{url}{'&' if '?' in url else '?'}{urlencode({'token': token})}"
        self.url = url
        self.on_reset = on_reset
        self.reconnect = reconnect
        self.min_delay, self.max_delay = min_delay, max_delay
        self.open_timeout = open_timeout
        self.positions: dict[str, Position] = {}
        self.presence: dict[str, dict[int, dict[str, Any]]] = {}
        self.reconnects = 0
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(max_queue)
        self._waiting: dict[str, asyncio.Future[Frame]] = {}
        # Sends awaiting their answer: ref -> the connection (`_generation`) they went out on.
        self._sent_on: dict[str, int] = {}
        self._generation = 0
        self._refs = itertools.count(1)
        self._ws: ClientConnection | None = None
        self._up = asyncio.Event()
        self._closed = False
        self._runner: asyncio.Task[None] | None = None

    # -- lifetime ---------------------------------------------------------------------------
    async def connect(self) -> Self:
        self._ws = await self._open()
        self._up.set()
        self._runner = asyncio.get_running_loop().create_task(self._run())
        return self

    async def close(self) -> None:
        self._closed = True
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._runner
        if self._ws is not None:
            await self._ws.close()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(ConnectionError("the client was closed"))

    async def __aenter__(self) -> Self:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def _open(self) -> ClientConnection:
        return await connect(self.url, open_timeout=self.open_timeout, max_size=2**22,
                             compression=None, proxy=None, ping_interval=20)

    async def _run(self) -> None:
        delay = self.min_delay
        while not self._closed:
            try:
                await self._read(self._ws)  # type: ignore[arg-type]
            except (ConnectionClosed, OSError) as exc:
                log.info("socket dropped (%s); reconnecting", exc)
            self._up.clear()
            if self._closed or not self.reconnect:
                return
            while not self._closed:
                await asyncio.sleep(delay * (0.5 + random.random() / 2))
                delay = min(delay * 2, self.max_delay)
                try:
                    self._ws = await self._open()
                except (OSError, TimeoutError, ConnectionClosed) as exc:
                    log.info("reconnect failed: %s", exc)
                    continue
                break
            self.reconnects += 1
            self._generation += 1
            self._up.set()
            delay = self.min_delay
            asyncio.get_running_loop().create_task(self._rejoin())

    async def _rejoin(self) -> None:
        generation = self._generation
        for channel, position in list(self.positions.items()):
            try:
                await self._join(channel, position.seq, position.epoch)
            except (ClientError, ConnectionError, TimeoutError) as exc:
                log.warning("rejoining %s failed: %s", channel, exc)
        # Sends that went out on an earlier socket will never be answered there: each goes
        # again now (same key: the server does it once, or answers what it did).
        for ref, sent_on in list(self._sent_on.items()):
            future = self._waiting.get(ref)
            if sent_on < generation and future is not None and not future.done():
                future.set_exception(_Lost())

    # -- reading ----------------------------------------------------------------------------
    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            op = frame.get("op")
            ref = frame.get("ref")
            if op == "event":
                await self._event(frame)
            elif op == "presence":
                self._presence(frame)
                await self._queue.put(frame)
            if ref is not None and op != "event":
                future = self._waiting.pop(ref, None)
                if future is not None and not future.done():
                    future.set_result(frame)

    async def _event(self, frame: Frame) -> None:
        channel = frame.get("channel", "")
        position = self.positions.get(channel)
        if position is None:
            return  # left meanwhile
        seq = frame.get("seq")
        if frame.get("type") == "reset":
            position.seq = seq
            epoch = (frame.get("data") or {}).get("epoch")
            if epoch:
                position.epoch = epoch
            if self.on_reset is not None:
                result = self.on_reset(channel, seq)
                if asyncio.iscoroutine(result):
                    await result
            await self._queue.put(frame)
            return
        if seq is not None:
            if position.seq is not None and seq <= position.seq:
                return  # seen already (a replay overlapping what arrived live)
            position.seq = seq
        await self._queue.put(frame)

    def _presence(self, frame: Frame) -> None:
        members = self.presence.setdefault(frame.get("channel", ""), {})
        for user in frame.get("joins") or ():
            members[user["id"]] = user
        for user in frame.get("leaves") or ():
            members.pop(user["id"], None)

    # -- requests ---------------------------------------------------------------------------
    async def _request(self, frame: Frame, timeout: float, resend: bool = False) -> Frame:
        """Send `frame` and wait for the answer with its ref. With `resend`, a socket that
        drops before the answer makes this raise `_Lost` once the channels are rejoined."""
        ref = frame["ref"]
        future = asyncio.get_running_loop().create_future()
        self._waiting[ref] = future
        try:
            async with asyncio.timeout(timeout):
                await self._up.wait()
                if resend:
                    self._sent_on[ref] = self._generation
                await self._ws.send(json.dumps(frame))  # type: ignore[union-attr]
                return await future
        finally:
            self._waiting.pop(ref, None)
            self._sent_on.pop(ref, None)

    def _ref(self) -> str:
        return f"c{next(self._refs)}"

    async def _join(self, channel: str, since: int | None, epoch: str | None,
                    timeout: float = 10.0) -> Frame:
        frame: Frame = {"op": "join", "ref": self._ref(), "channel": channel}
        if since is not None:
            frame["since"] = since
            if epoch:
                frame["epoch"] = epoch
        position = self.positions.setdefault(channel, Position(since, epoch))
        reply = await self._request(frame, timeout)
        if reply.get("op") == "error":
            if since is None:
                self.positions.pop(channel, None)
            raise ClientError(reply)
        if position.seq is None or reply["seq"] > position.seq:
            # Replayed events came before `joined`, so seq is at least theirs already.
            position.seq = reply["seq"]
        position.epoch = reply.get("epoch") or position.epoch
        self.presence[channel] = {m["id"]: m for m in reply.get("presence") or ()}
        return reply

    async def join(self, channel: str, since: int | None = None, epoch: str | None = None,
                   timeout: float = 10.0) -> Frame:
        """Follow `channel` (from `since`, in `epoch`); returns the `joined` frame."""
        return await self._join(channel, since, epoch, timeout)

    async def leave(self, channel: str, timeout: float = 10.0) -> None:
        self.positions.pop(channel, None)
        self.presence.pop(channel, None)
        reply = await self._request({"op": "leave", "ref": self._ref(), "channel": channel},
                                    timeout)
        if reply.get("op") == "error":
            raise ClientError(reply)

    async def send(self, channel: str, type: str, data: dict[str, Any] | None = None, *,
                   key: str | None = None, timeout: float = 30.0,
                   attempt_timeout: float = 10.0) -> Frame:
        """Perform `type` on `channel`; returns the `ack` (raises ClientError when refused).

        The send is retried with the same key across reconnects (and after `attempt_timeout`
        without an answer) until `timeout`: the server does it once.
        """
        key = key or secrets.token_hex(12)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = {"op": "send", "ref": self._ref(), "channel": channel, "type": type,
                     "data": data or {}, "key": key}
            remaining = deadline - loop.time()
            try:
                reply = await self._request(frame, min(attempt_timeout, max(remaining, 0.01)),
                                            resend=True)
            except (ConnectionClosed, TimeoutError, _Lost):
                if loop.time() >= deadline:
                    raise TimeoutError(f"{type} on {channel} was not answered in {timeout} s"
                                       ) from None
                continue
            if reply.get("op") == "error":
                if reply.get("code") == "unavailable" and loop.time() < deadline:
                    await asyncio.sleep(min(1.0, max(deadline - loop.time(), 0)))
                    continue
                raise ClientError(reply)
            return reply

    async def ping(self, timeout: float = 10.0) -> None:
        await self._request({"op": "ping", "ref": self._ref()}, timeout)

    # -- consuming --------------------------------------------------------------------------
    async def next(self, timeout: float | None = None) -> Frame:
        """The next event or presence frame (in order, each persisted event once)."""
        if timeout is None:
            return await self._queue.get()
        async with asyncio.timeout(timeout):
            return await self._queue.get()

    async def events(self) -> AsyncIterator[Frame]:
        while True:
            yield await self._queue.get()
