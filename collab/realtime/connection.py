"""One socket: its frame loop, its bounded outbox and the single writer task that drains it."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from collab.errors import CollabError, RateLimited, TooLarge

from . import protocol
from .channels import Actor
from .limits import TokenBucket, WindowCounter
from .wire import DirectWriter, text_frame

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("collab.connection")

ASGISend = Callable[[dict[str, Any]], Awaitable[None]]
ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]

CLOSE_SLOW = 4008
CLOSE_POLICY = 1008


class Connection:
    """A socket on the hub. Fan-out only appends to `outbox`; it never awaits this socket."""

    __slots__ = (
        "__weakref__",
        "_bad_frames",
        "_room",
        "_send",
        "_send_bucket",
        "_wake",
        "_writer",
        "actor",
        "authorized",
        "channels",
        "close_code",
        "closed",
        "direct",
        "html",
        "hub",
        "limit",
        "outbox",
    )

    def __init__(self, hub: Hub, send: ASGISend, actor: Actor | None, html: bool = False) -> None:
        self.hub = hub
        self.actor = actor
        self.html = html
        self.channels: dict[str, Actor | None] = {}
        self.limit = hub.settings.ws_outbox_frames
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
        self.authorized: set[str] | None = None
        self._send_bucket: TokenBucket | None = None
        self._bad_frames: WindowCounter | None = None

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
                direct.write(wire)
                return True
            item: str | bytes = wire
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
        if self.outbox is None:
            self._start_writer()  # it sends the close frame and ends
        self.outbox.clear()  # type: ignore[union-attr]
        self._wake.set()  # type: ignore[union-attr]
        if self._room is not None:
            self._room.set()

    async def writer(self) -> None:
        send, outbox, wake, direct = self._send, self.outbox, self._wake, self.direct
        assert outbox is not None and wake is not None
        try:
            while True:
                while outbox:
                    if direct is not None:
                        if not direct.ready():
                            if direct.protocol.close_sent or direct.transport.is_closing():
                                self.closed = True
                                return
                            await direct.writable.wait()  # the transport is paused
                            continue
                        direct.write(outbox.popleft())  # type: ignore[arg-type]
                    else:
                        # Popped before the await: close() may empty the outbox meanwhile.
                        await send({"type": "websocket.send", "text": outbox.popleft()})
                    if self._room is not None and len(outbox) <= self.limit // 4:
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

    async def shutdown(self) -> None:
        self.close(1001)

    def reply(self, obj: dict[str, Any]) -> None:
        self.enqueue(protocol.dumps(obj))

    def error(self, exc: CollabError, ref: str | None) -> None:
        if self.html:
            self.enqueue(protocol.error_fragment(exc.message))
            return
        extra = {k: v for k, v in exc.extra.items() if k != "ref"}
        self.enqueue(protocol.error_frame(exc.code, exc.message, ref or exc.extra.get("ref"),
                                          **extra))

    async def handle_text(self, text: str) -> None:
        """One client frame: parse, dispatch, answer. CollabErrors become `error` frames."""
        ref = None
        try:
            frame = protocol.parse(text, self.hub.settings.ws_max_frame_bytes)
            ref = frame.ref
            if frame.op == "ping":
                self.reply({"op": "pong", "ref": ref})
            elif frame.op == "join":
                await self.hub.join(self, frame.channel, self.actor, frame.since, ref, self.html)
            elif frame.op == "leave":
                await self.hub.leave(self, frame.channel)
                self.reply({"op": "left", "ref": ref, "channel": frame.channel})
            elif frame.op == "send":
                await self.perform(frame.channel, frame.type, frame.data or {}, ref)
        except CollabError as exc:
            self.error(exc, ref)
            if exc.code in ("bad_frame", "unknown_op", "too_large", "invalid"):
                if self._bad_frames is None:
                    self._bad_frames = WindowCounter(self.hub.settings.ws_bad_frames_per_minute)
                if self._bad_frames.hit():
                    self.close(CLOSE_POLICY)

    async def perform(self, channel: str, type: str, data: dict[str, Any],
                      ref: str | None) -> None:
        if self._send_bucket is None:
            self._send_bucket = TokenBucket(self.hub.settings.ws_send_rate)
        if not self._send_bucket.take():
            raise RateLimited(f"more than {self.hub.settings.ws_send_rate} sends a second")
        kind, id = self.hub.kind_for(channel)
        authorized = self.authorized
        if channel not in self.channels and (authorized is None or channel not in authorized):
            # Sending to a channel one has not joined is allowed, but it must pass join's
            # checks; a socket's identity does not change, so one pass is remembered.
            await kind.join(self.actor, id)
            if authorized is None or len(authorized) >= 64:
                authorized = self.authorized = set()
            authorized.add(channel)
        ack = await kind.handle(self.actor, id, type, data)
        if self.html:
            return
        reply: dict[str, Any] = {"op": "ack", "ref": ref}
        if ack.seq is not None:
            reply["seq"] = ack.seq
        if ack.data:
            reply["data"] = ack.data
        self.reply(reply)

    async def run(self, receive: ASGIReceive, on_text: Callable[[str], Awaitable[None]]) -> None:
        """Read frames until the client goes or the socket is closed; always clean up."""
        self.hub.connections.add(self)
        try:
            while not self.closed:
                message = await receive()
                kind = message["type"]
                if kind == "websocket.disconnect":
                    break
                if kind != "websocket.receive":
                    continue
                text = message.get("text")
                if text is None:
                    data = message.get("bytes") or b""
                    if len(data) > self.hub.settings.ws_max_frame_bytes:
                        self.error(TooLarge("frame too large"), None)
                        continue
                    try:
                        text = data.decode()
                    except UnicodeDecodeError:
                        text = "\x00"
                try:
                    await on_text(text)
                except CollabError as exc:
                    self.error(exc, None)
                except Exception:
                    log.exception("frame handler failed")
                    self.enqueue(protocol.error_frame("invalid", "the server could not handle "
                                                      "this frame; nothing was changed"))
        finally:
            self.hub.connections.discard(self)
            await self.hub.leave_all(self)
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
