"""One socket on the hub: its frame loop, channels and grants, sends and keys, access checks.

The way out (outbox, direct writes, the writer task) is its base class, `outbox.Outbox`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from collab import db, metrics
from collab.errors import CollabError, Invalid, RateLimited, TooLarge, Unauthenticated
from collab.limits import TokenBucket, WindowCounter

from . import protocol, store
from .channels import Actor, Call, ChannelKind
from .door import SEND_KEY, KeyedSend, Repeated
from .encoders import JSON
from .joining import ACCESS_RETRIES
from .outbox import ASGISend, Outbox

if TYPE_CHECKING:
    from .hub import Hub

log = logging.getLogger("collab.connection")

ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]

CLOSE_POLICY = 1008
# Frames that count against WS_BAD_FRAMES_PER_MINUTE: malformed ones, over-rate ones, and
# joins of channels that do not exist or are not the client's (probing ids costs a query).
BAD_CODES = frozenset({"bad_frame", "unknown_op", "too_large", "invalid", "rate_limited"})
REFUSED_JOIN_CODES = frozenset({"not_found", "forbidden", "unauthenticated"})
# Joins and leaves: a page makes one or two, a bot a few dozen at start; more is a loop.
JOIN_RATE = 20
MAX_AUTHORIZED = 64


class Connection(Outbox):
    """A socket on the hub: its frames, channels and grants, sends, and access checks."""

    __slots__ = ("_bad_frames", "_join_bucket", "_revalidating", "_send_bucket", "actor",
                 "authorized", "channels", "encoder", "hub", "stale")

    def __init__(self, hub: Hub, send: ASGISend, actor: Actor | None,
                 encoder: Any = JSON) -> None:
        super().__init__(send, hub.settings.ws_outbox_frames)
        self.hub = hub
        self.actor = actor
        self.encoder = encoder
        # channel -> the grant its kind's `join` returned
        self.channels: dict[str, Any] = {}
        self.stale = False
        # Made on first use, like the outbox: an idle socket holds none of these.
        self.authorized: dict[str, Any] | None = None
        self._send_bucket: TokenBucket | None = None
        self._join_bucket: TokenBucket | None = None
        self._bad_frames: WindowCounter | None = None
        self._revalidating: asyncio.Task[None] | None = None

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
            if self.stale or self._revalidating is not None:
                await self.checked()
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
            if self.stale or self._revalidating is not None:
                await self.checked()
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
        if self.stale or self._revalidating is not None:
            await self.checked()
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
                grant = await self._authorize(kind, id)
                authorized = self.authorized
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
        except CollabError:
            # A twin of this keyed send (the same key on another socket, at the same time) may
            # have been done first, and this one refused for what the twin changed: the key's
            # row, the version it bumped, the card it deleted. The twin's ack is the answer.
            if keyed is not None and not keyed.stored:
                stored = await store.recall(keyed.user_id, keyed.key)
                if stored is not None:
                    self._ack(ref, stored)
                    return
            raise
        finally:
            SEND_KEY.reset(token)
        reply: dict[str, Any] = {}
        if ack.seq is not None:
            reply["seq"] = ack.seq
        if ack.data:
            reply["data"] = ack.data
        if keyed is not None and keyed.ack is not None:
            reply = keyed.ack  # what a retry with this key will be answered
        if keyed is not None and not keyed.stored:
            await store.remember_after(keyed.user_id, keyed.key, reply)
        self._ack(ref, reply)

    async def _authorize(self, kind: ChannelKind, id: int) -> Any:
        """Join's check for a send to a channel not joined. An access change heard while the
        check awaited (`hub.access_generation` moved) may have made its answer stale, and a
        remembered stale grant would outlive the change: ask again (as `Joins` does)."""
        hub = self.hub
        for _ in range(ACCESS_RETRIES):
            generation = hub.access_generation
            grant = await kind.join(self.actor, id)
            if hub.access_generation == generation:
                return grant
            await self.checked()
        # Access keeps changing (a storm of sign-outs): use this grant once and check every
        # grant again before the next frame, as a join does.
        self.mark_stale()
        return grant

    def _ack(self, ref: str | None, ack: dict[str, Any]) -> None:
        self.reply({"op": "ack", "ref": ref, **ack})

    # -- access taken away ----------------------------------------------------------------
    def mark_stale(self) -> None:
        """Access may have changed: check identity and grants again before the next action."""
        self.stale = True
        self.hub.joins.hold(self)  # deliveries wait for the re-check's answer
        if self._revalidating is None or self._revalidating.done():
            self._revalidating = asyncio.get_running_loop().create_task(self._revalidate_now())

    async def _revalidate_now(self) -> None:
        """The check `mark_stale` starts at once, so a socket whose sign-in ended is closed
        without waiting for its next frame. It never raises (nobody awaits it for a result)."""
        try:
            # A change heard while this check ran (its `stale` flag set again) may postdate
            # what the check read: check again now, not at the socket's next frame, or a
            # reader that sends nothing would go on hearing a channel it lost.
            while True:
                await self.revalidate()
                if not self.stale or self.closed:
                    break
        except CollabError:
            pass  # told and closed by revalidate
        except Exception as exc:
            # E.g. the database is down: deliveries stay held (fail closed) and the next frame
            # checks again; a reader that sends nothing is closed as slow (4008) when its held
            # events pass its outbox's bound, and its rejoin is checked like any join.
            self.stale = True
            log.warning("could not check a socket's access again: %r", exc)

    async def checked(self) -> None:
        """Before acting on a frame: wait for a check already under way (access was taken
        away a moment ago; its `stale` flag is already down), or run one that is due."""
        task = self._revalidating
        if task is not None and task is not asyncio.current_task():
            if not task.done():
                await asyncio.shield(task)
            self._revalidating = None
        if self.closed:
            raise Unauthenticated("this socket is closed")
        if self.stale:
            await self.revalidate()

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
                grant = await kind.join(self.actor, id)
                if channel in self.channels:  # not left meanwhile
                    self.channels[channel] = grant
                    if not self.stale:  # else changed again: the next pass releases it
                        hub.joins.release(self, channel)
            except CollabError as exc:
                await hub.joins.leave(self, channel)
                self.error(CollabError(f"you no longer have access to {channel}: "
                                       f"{exc.message}"), None)

    async def run(self, receive: ASGIReceive, on_text: Callable[[str], Awaitable[None]]) -> None:
        """Read frames until the client goes or the socket is closed; always clean up."""
        self.hub.track(self)
        metrics.counts.sockets_opened += 1
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
            task = self._revalidating
            if task is not None and not task.done():
                task.cancel()
            await self.finish()
