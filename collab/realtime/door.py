"""The door for events: a domain's rows and the event they make, committed together, in groups.

A domain describes a change (`Change`): statements it declared once (`Stmt`, SQLAlchemy Core
with bind parameters) to run before the event's seq is taken (`checks`, which may refuse) and
after (`writes`, which may use `seq`), and how the event's data, subject and ack follow from
what they returned. The door owns everything else: the channel's seq, the event row, the send
key, the group commit, and both dialects.

Why groups: gapless per-channel seqs mean the changes of one channel commit one after another,
so a channel's rate is bounded by commit latency (on PostgreSQL one WAL flush: 574 posts/s with
one post per commit). Changes that arrive while a commit is under way wait and go together in
the next one; each keeps its own seq, ack or refusal, and the database flushes once for all.

Why raw drivers: through SQLAlchemy's aiosqlite adapter every statement costs three or four
hops to the driver's thread; here a whole group runs in one hop (`db.sqlite_atomic`), each
change inside a SAVEPOINT so that one bad row fails only its own send. On PostgreSQL a group is
one transaction on the asyncpg connection with statements compiled once; if any change in it
fails, the group is rolled back and its changes are retried one by one, so again only the bad
one fails.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from collab import db
from collab.errors import CollabError

from .events import Event, now_iso

log = logging.getLogger("collab.door")

MAX_BATCH = 100
Results = dict[str, Any]


@dataclass(slots=True)
class KeyedSend:
    """The send key of the `send` being handled (set by the connection, read by the doors)."""

    user_id: int
    key: str
    stored: bool = False
    # The ack kept with the key: the first answer must be exactly what a retry is answered.
    ack: dict[str, Any] | None = None


SEND_KEY: ContextVar[KeyedSend | None] = ContextVar("collab_send_key", default=None)


class Repeated(Exception):
    """A keyed send that was done before: its first ack is answered again."""

    def __init__(self, ack: dict[str, Any]) -> None:
        super().__init__("repeated send key")
        self.ack = ack


class Stmt:
    """A statement a domain declares once, compiled once per dialect.

    `one_row`: the statement always returns exactly one row, whose first column is NULL when
    it refuses (the door reads that row as none). A group of changes whose only check is the
    same such statement runs all of them in one round trip on PostgreSQL (see batches.py).
    """

    __slots__ = ("_compiled", "one_row", "statement")

    def __init__(self, statement: sa.Executable, *, one_row: bool = False) -> None:
        self.statement = statement
        self.one_row = one_row
        self._compiled: dict[str, tuple[str, list[str], dict[str, Any], dict[str, Any], bool]] = {}

    def compiled(self, dialect: Any) -> tuple[str, list[str], dict[str, Any], dict[str, Any],
                                              bool]:
        """(sql, positional names, bind processors, default params, returns rows)."""
        found = self._compiled.get(dialect.name)
        if found is None:
            c = self.statement.compile(dialect=dialect)
            returns = isinstance(self.statement, sa.Select) or bool(
                getattr(c, "effective_returning", None))
            defaults = {name: bind.value for name, bind in c.binds.items()
                        if not bind.required and bind.callable is None}
            found = (c.string, list(c.positiontup or ()), dict(c._bind_processors), defaults,
                     returns)
            self._compiled[dialect.name] = found
        return found

    def args(self, dialect: Any, params: Mapping[str, Any]) -> tuple[str, list[Any], bool]:
        sql, names, processors, defaults, returns = self.compiled(dialect)
        merged = {**defaults, **params}
        args = []
        for name in names:
            value = merged[name]
            proc = processors.get(name)
            args.append(proc(value) if proc is not None and value is not None else value)
        return sql, args, returns


@dataclass(slots=True)
class Step:
    """One statement of a change. Callable params are computed from the results so far.

    `name`: keep its first row as `results[name]` (a dict). `refuse`: raise this when the
    statement touches or returns no row (a check that failed: locked, gone, stale version); a
    function of the row, for a `one_row` statement that says why it refused.
    """

    stmt: Stmt
    params: Mapping[str, Any] = field(default_factory=dict)
    name: str | None = None
    refuse: CollabError | Callable[[dict[str, Any] | None], CollabError] | None = None

    def take(self, results: Results, returns: bool, row: Mapping[str, Any] | None,
             count: int) -> None:
        """The step rules, in one place for every path that runs steps (each database's group
        commit and the general transaction): keep the named row, or refuse the change when the
        statement matched nothing (no row, a `one_row` row whose first column is NULL, or no
        row touched) and the step says what refuses it."""
        if returns:
            if row is not None and not (self.stmt.one_row and next(iter(row.values())) is None):
                if self.name:
                    results[self.name] = dict(row)
            elif (failure := self.refused(row)) is not None:
                raise failure
        elif self.refuse is not None and count == 0:
            raise self.refused()

    def refused(self, row: Mapping[str, Any] | None = None) -> CollabError | None:
        """What refuses the change when this step matched nothing: `refuse`, or what it says
        of the refused row of a `one_row` statement (None for other statements)."""
        if callable(self.refuse):
            return self.refuse(dict(row) if row is not None else None)
        return self.refuse

    def bound(self, results: Results) -> dict[str, Any]:
        out = {k: (v(results) if callable(v) else v) for k, v in self.params.items()}
        if "seq" in results:
            out.setdefault("seq", results["seq"])
        return out


@dataclass(slots=True)
class Redaction:
    """Merge `patch` into the stored data of every event of `channel` about `subject` (a
    deleted or edited text), so replay shows what is, not what was."""

    channel: str
    subject: str
    patch: dict[str, Any]


@dataclass(slots=True)
class Also:
    """One more event of a change, on another channel (a notification on `user:ID`), with the
    statements that write its row first.

    `steps` run after the change's own event, in the same transaction; when `needs` names a
    result that they did not produce (a row the database declined to write, such as a
    notification beyond its sender's budget), the event is left out and the change still
    commits. `data` is built from the results.
    """

    channel: str
    type: str
    data: Callable[[Results], dict[str, Any]]
    steps: Sequence[Step] = ()
    needs: str | None = None
    subject: str | None = None
    # Called with the results when the event is left out (so that what was dropped, and why,
    # can be counted).
    left_out: Callable[[Results], None] | None = None

    def wanted(self, results: Results) -> bool:
        return self.needs is None or self.needs in results


@dataclass(slots=True)
class Change:
    """What one `send` writes on one channel: checks, the seq, writes, the event.

    `lock`: a statement that takes the row lock the change's checks rely on (a board's row, so
    that its neighbour reads see the previous writer's commit). The door runs each distinct
    lock once per group, before any check of the group: the checks then never wait for it, so
    on PostgreSQL a check may read and write in one statement without reading through a
    snapshot taken before the wait. A lock that returns no row refuses the changes holding it
    (with its `refuse`).
    """

    channel: str
    type: str
    data: Callable[[Results], dict[str, Any]]
    checks: Sequence[Step] = ()
    writes: Sequence[Step] = ()
    actor: dict[str, Any] | None = None
    subject: str | Callable[[Results], str] | None = None
    ack: Callable[[Results], dict[str, Any]] | None = None
    ts: str = field(default_factory=now_iso)
    key: KeyedSend | None = None
    lock: Step | None = None
    # Earlier events to rewrite (before this change's own event, which says what is now) and
    # further events to write after it.
    redact: list[Redaction] = field(default_factory=list)
    also: list[Also] = field(default_factory=list)

    @property
    def plain(self) -> bool:
        """Only its own event: the group commit's shortcuts (seqs taken together, pipelined
        checks) apply to it."""
        return not self.redact and not self.also


def lock_key(step: Step) -> tuple[Any, ...]:
    """Which lock a lock step takes: its statement and (constant) parameters."""
    return (id(step.stmt), *sorted(step.bound({}).items()))


@dataclass(slots=True)
class Written:
    """A committed change: its seq, the event data, the ack data, and every named result."""

    seq: int
    data: dict[str, Any]
    ack: dict[str, Any] | None
    results: Results
    # The change's further events (`Change.also`) that were written, with their seqs.
    also: list[Event] = field(default_factory=list)


class Door:
    """Queues changes per channel; one group per channel is being committed at a time."""

    def __init__(self, epoch: Callable[[], str]) -> None:
        self._epoch = epoch
        self._queues: dict[str, list[tuple[Change, asyncio.Future[Written]]]] = {}

    async def write(self, change: Change) -> Written:
        change.key = SEND_KEY.get()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Written] = loop.create_future()
        queue = self._queues.get(change.channel)
        if queue is None:
            queue = self._queues[change.channel] = []
            loop.create_task(self._drain(change.channel, queue))
        queue.append((change, future))
        written = await future
        if change.key is not None:
            change.key.stored = True
        return written

    async def _drain(self, channel: str, queue: list[tuple[Change, asyncio.Future[Written]]]
                     ) -> None:
        try:
            while queue:
                batch = queue[:MAX_BATCH]
                del queue[:MAX_BATCH]
                changes = [change for change, _ in batch]
                from . import batches  # it builds on the types above

                try:
                    if db.is_sqlite():
                        results = await db.sqlite_atomic(
                            lambda c, changes=changes: batches.sqlite_batch(c, changes,
                                                                            self._epoch()))
                    else:
                        results = await batches.postgres_batch(changes, self._epoch())
                except Exception as exc:
                    results = [mapped(exc)] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                # Let the senders whose changes just committed queue their next ones.
                await asyncio.sleep(0)
        finally:
            del self._queues[channel]
            for _, future in queue:
                if not future.done():
                    future.set_exception(RuntimeError("the event door stopped"))


def mapped(exc: BaseException) -> BaseException:
    if isinstance(exc, (CollabError, Repeated)):
        return exc
    failure = db.failure(exc)
    if failure is None:
        log.error("a change failed", exc_info=exc)
        return exc
    failure.__cause__ = exc
    return failure


def finish(change: Change, seq: int, results: Results) -> tuple[Written, str, str | None]:
    results["seq"] = seq
    data = change.data(results)
    subject = change.subject(results) if callable(change.subject) else change.subject
    ack = change.ack(results) if change.ack else None
    return Written(seq, data, ack, results), orjson.dumps(data).decode(), subject


def key_ack(written: Written) -> str:
    ack: dict[str, Any] = {"seq": written.seq}
    if written.ack:
        ack["data"] = written.ack
    return orjson.dumps(ack).decode()
