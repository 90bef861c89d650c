"""Writing one pre-built WebSocket frame to many sockets, as `websockets.broadcast()` does.

Going through ASGI costs, per socket and per event: a message dict, `str.encode()`, the
frame header, a task wake-up and an `await`. For fan-out the frame is the same for every
socket, so it is built once (`text_frame`) and written straight to each socket's transport
when uvicorn's websockets-sansio protocol serves the socket without an extension. Anything
else (another ASGI server, permessage-deflate, a paused or closing transport) takes the
ordinary ASGI path, in order, through the socket's outbox.

Everything of uvicorn's that this touches is checked once, when the socket opens; if a
later uvicorn changes shape, `for_send` says no (and logs why once) and that socket simply
writes through ASGI. A write that fails turns direct writes off for that socket only.
"""

from __future__ import annotations

import asyncio
import logging
import struct
from collections import deque
from typing import Any

from websockets.protocol import State

log = logging.getLogger("collab.wire")
_warned = False


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame (servers never mask, RFC 6455 §5.1)."""
    length = len(payload)
    if length < 126:
        return bytes((0x81, length)) + payload
    if length < 65536:
        return b"\x81\x7e" + struct.pack("!H", length) + payload
    return b"\x81\x7f" + struct.pack("!Q", length) + payload


class DirectWriter:
    """The transport behind an ASGI `send`, when frames may be written to it directly."""

    __slots__ = ("conn", "protocol", "transport", "writable")

    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.conn = protocol.conn
        self.transport = protocol.transport
        self.writable = protocol.writable

    @classmethod
    def for_send(cls, send: Any) -> DirectWriter | None:
        """A writer for the socket behind `send`, or None when it must go through ASGI."""
        protocol = getattr(send, "__self__", None)
        if type(protocol).__name__ != "WebSocketsSansIOProtocol":
            return None
        try:
            conn = protocol.conn
            transport = protocol.transport
            writable = protocol.writable
            checks = (isinstance(conn.state, State), isinstance(protocol.close_sent, bool),
                      callable(transport.write), callable(transport.is_closing),
                      callable(writable.is_set), callable(writable.wait))
            if not all(checks):
                raise TypeError("an attribute has another type than expected")
            if conn.extensions:
                return None  # permessage-deflate: frames must be compressed by the protocol
        except (AttributeError, TypeError) as exc:
            global _warned
            if not _warned:
                _warned = True
                log.warning("direct writes are off: uvicorn's websockets-sansio protocol has "
                            "changed (%s); frames go through ASGI", exc)
            return None
        return cls(protocol)

    def ready(self) -> bool:
        """True when a frame written now goes out in order and in protocol."""
        return (self.writable.is_set() and self.conn.state is State.OPEN
                and not self.protocol.close_sent and not self.transport.is_closing())

    def gone(self) -> bool:
        return bool(self.protocol.close_sent) or self.transport.is_closing()

    def write(self, frame: bytes) -> bool:
        try:
            self.transport.write(frame)
        except Exception as exc:
            log.warning("direct write failed (%r); this socket goes through ASGI now", exc)
            return False
        return True


# -- an idle socket's memory -------------------------------------------------------------------
# Most sockets sit idle for hours, so what each one holds is multiplied by tens of thousands.
# uvicorn's websockets-sansio protocol keeps, per socket, an asyncio.Queue for what the client
# sends (three deques and an Event: about 3 KiB while empty), an Event for `writable` (one deque)
# and the handshake's request and response with their headers (about 3 KiB), which nothing
# reads once the socket is accepted. `slim` swaps the first two for the small equivalents below
# and drops the third (bench/run.py idle: 21.6 KiB a socket before, the ceiling 15.6).


class Inbox:
    """`asyncio.Queue`'s `put_nowait`, `get` and `empty` for a single reader, holding a deque
    only while frames wait in it."""

    __slots__ = ("_items", "_waiter")

    def __init__(self, items: list[Any]) -> None:
        self._items: deque[Any] | None = deque(items) if items else None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items) if self._items else 0

    async def get(self) -> Any:
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item


class Flag:
    """`asyncio.Event`'s `is_set`, `set`, `clear` and `wait`, with no deque until one waits."""

    __slots__ = ("_set", "_waiters")

    def __init__(self, value: bool) -> None:
        self._set = value
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if self._set:
            return
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        while not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            try:
                await waiter
            finally:
                if self._waiters is not None and waiter in self._waiters:
                    self._waiters.remove(waiter)
        return True


def slim(send: Any) -> bool:
    """After the handshake, make the socket behind `send` hold less (see above). Anything but
    uvicorn's websockets-sansio protocol in the shape this was written for is left alone."""
    protocol = getattr(send, "__self__", None)
    if type(protocol).__name__ != "WebSocketsSansIOProtocol":
        return False
    queue = getattr(protocol, "queue", None)
    writable = getattr(protocol, "writable", None)
    if (type(queue) is not asyncio.Queue or type(writable) is not asyncio.Event
            or queue._getters or writable._waiters  # type: ignore[attr-defined]
            or protocol.handshake_complete is not True):
        return False
    pending = []
    while not queue.empty():
        pending.append(queue.get_nowait())
    protocol.queue = Inbox(pending)
    protocol.writable = Flag(writable.is_set())
    # Read only before the handshake completes; kept by uvicorn for the socket's lifetime.
    protocol.request = None
    protocol.response = None
    return True
