"""One socket: its frame loop, its bounded outbox and the single writer task that drains it."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from collab import db
from collab.errors import CollabError, Invalid, RateLimited, TooLarge, Unauthenticated
from collab.limits import TokenBucket, WindowCounter

from . import protocol, store
from .channels import Actor, Call
from .door import SEND_KEY, KeyedSend, Repeated
from .encoders import JSON
from .wire import DirectWriter, text_frame

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("collab.connection")

ASGISend = Callable[[dict[str, Any]], Awaitable[None]]
ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]

CLOSE_SLOW = 4008
CLOSE_POLICY = 1008
# Frames that count against WS_BAD_FRAMES_PER_MINUTE: malformed ones, over-rate ones, and
# joins of channels that do not exist or are not the client's (probing ids costs a query).
BAD_CODES = frozenset({"bad_frame", "unknown_op", "too_large", "invalid", "rate_limited"})
REFUSED_JOIN_CODES = frozenset({"not_found", "forbidden", "unauthenticated"})
# Joins and leaves: a page makes one or two, a bot a few dozen at start; more is a loop.
JOIN_RATE = 20
MAX_AUTHORIZED = 64


class Connection:
    """A socket on the hub. Fan-out only appends to `outbox`; it never awaits this socket."""

    __slots__ = (
        "__weakref__",
        "_bad_frames",
        "_join_bucket",
        "_revalidating",
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
        "encoder",
        "hub",
        "limit",
        "outbox",
        "stale",
    )

    def __init__(self, hub: Hub, send: ASGISend, actor: Actor | None,
                 encoder: Any = JSON) -> None:
        self.hub = hub
        self.actor = actor
        self.encoder = encoder
        # channel -> the grant its kind's `join` returned
        self.channels: dict[str, Any] = {}
        self.limit = hub.settings.ws_outbox_frames
        self._send = send
        # Set by the endpoint after the handshake when frames can go straight out.
        self.direct: DirectWriter | None = None
        self.closed = False
        self.close_code: int | None = None
        self.stale = False
        # Made on first use: most sockets sit idle for hours, and with direct writes most
        # never queue a frame, so each of these would be memory held for nothing
        # (about 2 KiB a socket together; see bench/ idle).
        self.outbox: deque[str | bytes] | None = None
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._room: asyncio.Event | None = None
        self.authorized: dict[str, Any] | None = None
        self._send_bucket: TokenBucket | None = None
        self._join_bucket: TokenBucket | None = None
        self._bad_frames: WindowCounter | None = None
        self._revalidating: asyncio.Task[None] | None = None

    # -- writing --------------------------------------------------------------------------
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

    # -- answering ------------------------------------------------------------------------
    def reply(self, obj: dict[str, Any]) -> None:
        text = self.encoder.reply(obj)
        if text is not None:
            self.enqueue(text)

    def error(self, exc: CollabError, ref: str | None) -> None:
        extra = {k: v for k, v in exc.extra.items() if k != "ref"}
        self.enqueue(self.encoder.error(exc.code, exc.message, ref or exc.extra.get("ref"),
                                        **extra))

    def _count_bad(self) -> None:
        if self._bad_frames is None:
            self._bad_frames = WindowCounter(self.hub.settings.ws_bad_frames_per_minute)
        if self._bad_frames.hit():
            self.close(CLOSE_POLICY)

    # -- reading --------------------------------------------------------------------------
    async def handle_text(self, text: str) -> None:
        """One client frame: parse, dispatch, answer. CollabErrors become `error` frames."""
        ref = None
        op = None
        try:
            frame = protocol.parse(text, self.hub.settings.ws_max_frame_bytes)
            ref, op = frame.ref, frame.op
            if op == "ping":
                self.reply({"op": "pong", "ref": ref})
                return
            if self.checking():
                await self.revalidate()
            if op == "join":
                self._limit_joins()
                await self.hub.joins.join(self, frame.channel, frame.since, frame.epoch, ref)
            elif op == "leave":
                self._limit_joins()
                await self.hub.joins.leave(self, frame.channel)
                self.reply({"op": "left", "ref": ref, "channel": frame.channel})
            elif op == "send":
                await self.perform(frame.channel, frame.type, frame.data or {}, ref, frame.key)
        except Exception as exc:
            self._failed(exc, ref, op)

    async def send_action(self, channel: str, type: str, data: dict[str, Any],
                          ref: str | None, key: str | None) -> None:
        """A `send` that did not come as a frame (a page's ws-send form)."""
        try:
            if self.checking():
                await self.revalidate()
            await self.perform(channel, type, data, ref, key)
        except Exception as exc:
            self._failed(exc, ref, "send")

    def _failed(self, exc: Exception, ref: str | None, op: str | None) -> None:
        """A refused or failed frame: an `error` answer; anything unexpected is re-raised."""
        if isinstance(exc, CollabError):
            self._refused(exc, ref, op)
            return
        failure = db.failure(exc)
        if failure is None:
            raise exc
        self._refused(failure, ref, op)

    def _refused(self, exc: CollabError, ref: str | None, op: str | None) -> None:
        self.error(exc, ref)
        if exc.code in BAD_CODES or (op == "join" and exc.code in REFUSED_JOIN_CODES):
            self._count_bad()

    def _limit_joins(self) -> None:
        if self._join_bucket is None:
            self._join_bucket = TokenBucket(JOIN_RATE, burst=10 * JOIN_RATE)
        if not self._join_bucket.take():
            raise RateLimited(f"more than {JOIN_RATE} joins and leaves a second")

    async def perform(self, channel: str, type: str, data: dict[str, Any],
                      ref: str | None, key: str | None = None) -> None:
        if self._send_bucket is None:
            self._send_bucket = TokenBucket(self.hub.settings.ws_send_rate)
        if not self._send_bucket.take():
            raise RateLimited(f"more than {self.hub.settings.ws_send_rate} sends a second")
        if self.checking():
            await self.revalidate()
        kind, id = self.hub.kind_for(channel)
        if channel in self.channels:
            grant = self.channels[channel]
        else:
            # Sending to a channel one has not joined is allowed, but it must pass join's
            # checks; a socket's identity does not change, so one pass is remembered.
            authorized = self.authorized
            if authorized is not None and channel in authorized:
                grant = authorized[channel]
            else:
                grant = await kind.join(self.actor, id)
                if authorized is None or len(authorized) >= MAX_AUTHORIZED:
                    authorized = self.authorized = {}
                authorized[channel] = grant
        call = Call(self.actor, channel, id, type, data, grant, self)
        keyed = None
        if key is not None and self.actor is not None:
            stored = await store.recall(self.actor.id, key)
            if stored is not None:
                self._ack(ref, stored)
                return
            keyed = KeyedSend(self.actor.id, key)
        token = SEND_KEY.set(keyed)
        try:
            ack = await kind.perform(call)
        except Repeated as exc:
            self._ack(ref, exc.ack)
            return
        finally:
            SEND_KEY.reset(token)
        reply: dict[str, Any] = {}
        if ack.seq is not None:
            reply["seq"] = ack.seq
        if ack.data:
            reply["data"] = ack.data
        if keyed is not None and not keyed.stored:
            await store.remember_after(keyed.user_id, keyed.key, reply)
        self._ack(ref, reply)

    def _ack(self, ref: str | None, ack: dict[str, Any]) -> None:
        self.reply({"op": "ack", "ref": ref, **ack})

    # -- access taken away ----------------------------------------------------------------
    def checking(self) -> bool:
        """Access may have changed and is not re-checked yet (the check may be under way: a
        send must wait for it, or it would act on the grant from before the change)."""
        task = self._revalidating
        return self.stale or (task is not None and not task.done())

    def mark_stale(self) -> None:
        """Access may have changed: check identity and grants again before the next action."""
        self.stale = True
        if self._revalidating is None or self._revalidating.done():
            self._revalidating = asyncio.get_running_loop().create_task(self.revalidate())

    async def revalidate(self) -> None:
        task = self._revalidating
        if task is not None and not task.done() and task is not asyncio.current_task():
            await asyncio.shield(task)
            return
        self.stale = False
        hub = self.hub
        actor = self.actor
        if actor is not None and hub.reauthenticate is not None:
            fresh = await hub.reauthenticate(actor)
            if fresh is None:
                self.error(Unauthenticated("your sign-in was ended or revoked; sign in again"),
                           None)
                self.close(CLOSE_POLICY)
                raise Unauthenticated("your sign-in was ended or revoked")
            self.actor = fresh
        self.authorized = None
        for channel in list(self.channels):
            kind, id = hub.kind_for(channel)
            try:
                self.channels[channel] = await kind.join(self.actor, id)
            except CollabError as exc:
                await hub.joins.leave(self, channel)
                self.error(CollabError(f"you no longer have access to {channel}: "
                                       f"{exc.message}"), None)

    async def run(self, receive: ASGIReceive, on_text: Callable[[str], Awaitable[None]]) -> None:
        """Read frames until the client goes or the socket is closed; always clean up."""
        self.hub.track(self)
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
                        self._count_bad()
                        continue
                    try:
                        text = data.decode()
                    except UnicodeDecodeError:
                        text = "\x00"
                try:
                    await on_text(text)
                except CollabError as exc:
                    self._refused(exc, None, None)
                except Exception:
                    log.exception("frame handler failed")
                    self.error(Invalid("the server could not handle this frame; nothing was "
                                       "changed"), None)
        finally:
            self.hub.untrack(self)
            await self.hub.joins.leave_all(self)
            for task in (self._revalidating,):
                if task is not None and not task.done():
                    task.cancel()
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
