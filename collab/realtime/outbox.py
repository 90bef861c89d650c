"""A socket's way out: a bounded outbox, direct writes to the transport, one writer task.

Fan-out only appends (or writes straight to the transport when nothing is queued); it never
awaits a socket. A full outbox closes the socket with 4008 (the client rejoins with `since`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from collab import metrics

from .wire import DirectWriter, text_frame

log = logging.getLogger("collab.connection")

ASGISend = Callable[[dict[str, Any]], Awaitable[None]]
CLOSE_SLOW = 4008


class Outbox:
    """The writing half of a connection."""

    __slots__ = ("__weakref__", "_room", "_send", "_wake", "_writer", "close_code", "closed",
                 "direct", "limit", "outbox")

    def __init__(self, send: ASGISend, limit: int) -> None:
        self.limit = limit
        self._send = send
        # Set by the endpoint after the handshake when frames can go straight out.
        self.direct: DirectWriter | None = None
        self.closed = False
        self.close_code: int | None = None
        # Made on first use: most sockets sit idle for hours, and with direct writes most
        # never queue a frame, so each of these would be memory held for nothing
        # (about 2 KiB a socket together; see bench/ idle).
        self.outbox: deque[str | bytes] | None = None
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._room: asyncio.Event | None = None

    def enqueue(self, text: str) -> bool:
        """Queue a frame; False when the socket is closed or just overflowed (4008)."""
        return self.push(text, None)

    def push(self, text: str, wire: bytes | None) -> bool:
        """Send `text` (whose pre-built frame is `wire`, if the caller shares one) in order.

        Written straight to the transport when nothing is queued and it is not paused;
        otherwise queued for the writer task. False when closed or just overflowed (4008).
        """
        if self.closed:
            return False
        outbox = self.outbox
        direct = self.direct
        if direct is not None:
            if wire is None:
                wire = text_frame(text.encode())
            if not outbox and direct.ready():
                if direct.write(wire):
                    return True
                direct = self.direct = None  # this socket writes through ASGI from now on
                item: str | bytes = text
            else:
                item = wire
        else:
            item = text
        if outbox is None:
            outbox = self._start_writer()
        elif len(outbox) >= self.limit:
            self.close(CLOSE_SLOW)
            return False
        outbox.append(item)
        if len(outbox) == 1:
            self._wake.set()  # type: ignore[union-attr]
        return True

    def _start_writer(self) -> deque[str | bytes]:
        self.outbox = deque()
        self._wake = asyncio.Event()
        self._writer = asyncio.get_running_loop().create_task(self.writer())
        return self.outbox

    async def room(self) -> None:
        """Wait until the outbox is at most half full (a replay paces itself by this)."""
        while not self.closed and self.outbox and len(self.outbox) > self.limit // 2:
            if self._room is None:
                self._room = asyncio.Event()
            self._room.clear()
            await self._room.wait()

    def close(self, code: int) -> None:
        """Close after what is already written; an overflowing outbox is dropped at once."""
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        if code == CLOSE_SLOW:
            metrics.counts.outbox_closes += 1
        if self.outbox is None:
            self._start_writer()  # it sends the close frame and ends
        self.outbox.clear()  # type: ignore[union-attr]
        self._wake.set()  # type: ignore[union-attr]
        if self._room is not None:
            self._room.set()

    async def writer(self) -> None:
        send, outbox, wake = self._send, self.outbox, self._wake
        assert outbox is not None and wake is not None
        try:
            while True:
                while outbox:
                    direct = self.direct
                    item = outbox[0]
                    if direct is not None and isinstance(item, bytes):
                        if not direct.ready():
                            if direct.gone():
                                self.closed = True
                                return
                            await direct.writable.wait()  # the transport is paused
                            continue
                        outbox.popleft()
                        if not direct.write(item):
                            self.direct = None
                        continue
                    # Popped before the await: close() may empty the outbox meanwhile.
                    outbox.popleft()
                    if isinstance(item, bytes):
                        item = _text_of(item)
                    await send({"type": "websocket.send", "text": item})
                    if self._room is not None and len(outbox) <= self.limit // 4:
                        self._room.set()
                if self._room is not None:
                    self._room.set()
                if self.closed:
                    await send({"type": "websocket.close", "code": self.close_code or 1000})
                    return
                wake.clear()
                await wake.wait()
        except (OSError, RuntimeError, asyncio.CancelledError):
            self.closed = True
        except Exception as exc:  # a disconnect raised by the server (e.g. ClientDisconnected)
            self.closed = True
            log.debug("writer ended: %r", exc)


    async def finish(self) -> None:
        """After the read loop: let the writer send what is queued and the close, or stop it."""
        writer = self._writer
        if writer is not None and not writer.done():
            if self.close_code is None:
                # The client went away: nothing left to write.
                self.closed = True
                writer.cancel()
            try:
                await asyncio.wait_for(writer, timeout=5)
            except (TimeoutError, asyncio.CancelledError):
                pass
        elif self.close_code is None:
            self.closed = True


def _text_of(frame: bytes) -> str:
    """The payload of an unmasked text frame built by `text_frame` (for the ASGI fallback)."""
    length = frame[1] & 0x7F
    start = 2 if length < 126 else 4 if length == 126 else 10
    return frame[start:].decode()
