"""Delivery in seq order: drop what was delivered, hold what came early, repair gaps from the store.

Each process keeps one `ChannelState` per channel it follows: the sockets, the last seq
delivered to them, and events that arrived early. The store is the truth; the bus is a fast
path that may drop, duplicate or reorder messages.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from collab import metrics

from . import store
from .events import Event

if TYPE_CHECKING:
    from .channels import ChannelKind
    from .connection import Connection

log = logging.getLogger("collab.hub")

# Past this many early events (the store unreachable for long) later ones are not held: the
# store has them, and the repair reads up to its head.
MAX_PENDING_EVENTS = 10_000


class Subscription:
    __slots__ = ("buffer", "grant", "held", "replaying")

    def __init__(self, grant: Any) -> None:
        self.grant = grant
        # While a join replays from the store (`replaying`), or the socket's access is being
        # checked again (`held`), live events wait here, in seq order.
        self.buffer: list[Event] | None = None
        self.replaying = False
        self.held = False


class ChannelState:
    """One channel followed by this process: its sockets and the last seq delivered to them."""

    __slots__ = ("epoch", "kind", "last_seq", "name", "pending", "repairing", "subs")

    def __init__(self, name: str, kind: ChannelKind) -> None:
        self.name = name
        self.kind = kind
        self.last_seq: int | None = None  # None until read from the store
        self.epoch = ""
        self.subs: dict[Connection, Subscription] = {}
        self.pending: dict[int, Event] = {}
        self.repairing = False


_MISSING: Any = object()


class Delivery:
    """Fan-out of events to the sockets of the channels this process follows."""

    def __init__(self, spawn: Callable[[Coroutine[Any, Any, None]], None]) -> None:
        self.channels: dict[str, ChannelState] = {}
        self._spawn = spawn

    def deliver(self, event: Event) -> None:
        """Deliver in seq order: drop what was delivered, hold what came early, repair gaps."""
        state = self.channels.get(event.channel)
        if state is None:
            return
        seq = event.seq
        if seq is None:
            self.fanout(state, event)
            return
        last = state.last_seq
        if last is None or seq > last + 1:
            if len(state.pending) < MAX_PENDING_EVENTS:
                state.pending[seq] = event
            if last is not None:
                self.start_repair(state)
            return
        if seq <= last:
            return
        self.fanout(state, event)
        state.last_seq = seq
        if state.pending:
            self.drain_pending(state)

    def drain_pending(self, state: ChannelState) -> None:
        pending = state.pending
        for seq in sorted(pending):
            if seq <= state.last_seq:
                del pending[seq]
            elif seq == state.last_seq + 1:
                self.fanout(state, pending.pop(seq))
                state.last_seq = seq
            else:
                break

    def fanout(self, state: ChannelState, event: Event,
               skip: Connection | None = None) -> None:
        """The same text to every socket: encoded once per encoder (JSON, HTML), not per socket."""
        kind = state.kind
        last_encoder: Any = None
        out: Any = None
        outs: dict[Any, Any] = {}
        dead: list[Connection] = []
        sent = 0
        for conn, sub in state.subs.items():
            if sub.buffer is not None:
                # Live events wait while this socket replays; bounded like its outbox.
                if len(sub.buffer) >= conn.limit:
                    conn.close(4008)
                    dead.append(conn)
                else:
                    sub.buffer.append(event)
                continue
            if conn is skip:
                continue
            encoder = conn.encoder
            if encoder is not last_encoder:
                out = outs.get(encoder, _MISSING)
                if out is _MISSING:
                    out = outs[encoder] = encoder.event(kind, event)
                last_encoder = encoder
            if out is not None:
                if conn.push(out[0], out[1]):
                    sent += 1
                else:
                    dead.append(conn)
        metrics.counts.deliveries += sent
        for conn in dead:
            state.subs.pop(conn, None)

    def start_repair(self, state: ChannelState) -> None:
        if not state.repairing:
            state.repairing = True
            metrics.counts.gap_repairs += 1
            self._spawn(self._repair(state))

    async def _repair(self, state: ChannelState) -> None:
        """Fill a gap from the store; the store is the truth, the bus only the fast path."""
        try:
            for attempt in range(50):
                target = max(max(state.pending, default=0), await store.head(state.name))
                if state.last_seq is None or state.last_seq >= target:
                    break
                for event in await store.read(state.name, state.last_seq, target):
                    self._deliver_repaired(state, event)
                if state.pending:
                    self.drain_pending(state)
                if not state.pending:
                    break
                # The store lacks an event a peer already published: its commit is still
                # becoming visible here; try again shortly rather than skip it.
                await asyncio.sleep(min(0.01 * (attempt + 1), 0.2))
        except Exception:
            log.exception("gap repair of %s failed; the tail check will retry", state.name)
        finally:
            state.repairing = False

    def _deliver_repaired(self, state: ChannelState, event: Event) -> None:
        if state.last_seq is not None and event.seq == state.last_seq + 1:
            self.fanout(state, event)
            state.last_seq = event.seq
            state.pending.pop(event.seq, None)

    async def catch_up(self, state: ChannelState, upto: int) -> None:
        """Deliver now, from the store, what this process has not heard up to `upto` (a
        rejoin's `since` ahead of it); what the store lacks stays missing (the join resets)."""
        last = state.last_seq
        if last is None or last >= upto:
            return
        for event in await store.read(state.name, last, upto):
            self._deliver_repaired(state, event)
        if state.pending:
            self.drain_pending(state)

    async def repair_all(self) -> None:
        """After a broker outage, and on the tail check: deliver what committed meanwhile."""
        heads = await store.heads(list(self.channels))
        for name, head in heads.items():
            state = self.channels.get(name)
            if state is not None and state.last_seq is not None and head > state.last_seq:
                self.start_repair(state)
