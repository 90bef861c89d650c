"""The general door: a domain's writes of any shape and their events, in one transaction.

For changes that need reads and logic between statements (or the ORM), where `Hub.write`'s
declared statements do not fit. No group commit: each transaction commits on its own.
"""

from __future__ import annotations

from typing import Any

from . import store
from .channels import Actor
from .door import SEND_KEY
from .events import Event


class Transaction:
    """Domain writes plus their events, committed together; events publish after commit."""

    def __init__(self, conn: Any, epoch: str) -> None:
        self.conn = conn  # SQLAlchemy AsyncConnection: Core statements run here too
        self.events: list[Event] = []
        self._epoch = epoch
        self._ack: dict[str, Any] | None = None

    async def reserve(self, channel: str) -> int:
        """Take `channel`'s next seq now, to store it on a domain row before emitting."""
        return await store.next_seq(self.conn, channel, self._epoch)

    async def emit(self, channel: str, type: str, data: dict[str, Any],
                   actor: Actor | None = None, seq: int | None = None,
                   subject: str | None = None) -> Event:
        """Store an event of `channel` (with the seq `reserve` gave, if any).

        `subject` ("post:12") names what the event is about, so a later `redact` finds it.
        """
        event = Event(channel, type, data, seq=seq, actor=actor.public() if actor else None)
        await store.append(self.conn, event, self._epoch, subject)
        self.events.append(event)
        return event

    async def redact(self, channel: str, subject: str, patch: dict[str, Any]) -> None:
        """Merge `patch` into the stored data of every event of `channel` about `subject`."""
        await store.redact(self.conn, channel, subject, patch)

    async def erase(self, channel: str) -> None:
        """Drop the stored history of `channel`, whose subject is deleted (its later events,
        such as the deletion's own, are kept)."""
        await store.erase(self.conn, channel)

    def reply(self, seq: int | None = None, data: dict[str, Any] | None = None) -> None:
        """The ack of the `send` this transaction serves, as kept with its send key.

        Without it the ack kept is the seq of the last event emitted.
        """
        self._ack = {k: v for k, v in (("seq", seq), ("data", data)) if v is not None}

    async def _remember_key(self) -> None:
        keyed = SEND_KEY.get()
        if keyed is None or keyed.stored or not self.events:
            return
        ack = self._ack if self._ack is not None else {"seq": self.events[-1].seq}
        await store.remember(self.conn, keyed.user_id, keyed.key, ack)
        keyed.stored = True
        keyed.ack = ack
