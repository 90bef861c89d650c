"""The general door: a domain's writes of any shape and their events, in one transaction.

For changes that need reads and logic between statements (or the ORM), where `Hub.write`'s
declared statements do not fit. No group commit: each transaction commits on its own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from collab import db

from . import apply, store
from .channels import Actor
from .door import SEND_KEY, Also, Change, Redaction, Written
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

    async def apply(self, change: Change) -> Written:
        """Write `change` here as the door would (the same `apply`: its lock, checks, seq,
        writes, redactions, event and further events), in this transaction;
        its ack becomes this transaction's (`reply`). For a change that needs reads or logic
        of the domain's around it; a change that does not goes through `hub.write`."""
        change.key = None  # this transaction keeps the send key with its ack itself
        if change.lock is not None:
            # No group here to take it once for: it is the change's first check.
            change = replace(change, checks=[change.lock, *change.checks], lock=None)
        written = await self._run(lambda c: apply.sqlite_apply(c, change, self._epoch),
                                  lambda c: apply.pg_apply(c, change, self._epoch))
        self.events.append(Event(change.channel, change.type, written.data, seq=written.seq,
                                 actor=change.actor, ts=change.ts))
        self.events.extend(written.also)
        self.reply(written.seq, written.ack)
        return written

    async def extras(self, also: list[Also], redact: list[Redaction] | None = None,
                     actor: Actor | None = None) -> list[Event]:
        """Further events (a notification) and redactions without an event of their own, as
        `Change.also` and `Change.redact` are written."""
        change = Change(channel="", type="", data=dict, actor=actor.public() if actor else None,
                        also=also, redact=redact or [])
        events = await self._run(lambda c: apply.sqlite_extras(c, change, {}, self._epoch),
                                 lambda c: apply.pg_extras(c, change, {}, self._epoch))
        self.events.extend(events)
        return events

    async def _run(self, sqlite: Any, postgres: Any) -> Any:
        """Run on this transaction's own driver connection: SQLite's in its thread, in one hop;
        PostgreSQL's asyncpg connection, once the transaction has begun there."""
        raw = await self.conn.get_raw_connection()
        driver = raw.driver_connection
        if db.is_sqlite():
            return await driver._execute(sqlite, driver._conn)
        if not driver.is_in_transaction():
            # SQLAlchemy begins its transaction with the first statement it runs.
            await self.conn.execute(store.NOTHING)
        return await postgres(driver)

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

