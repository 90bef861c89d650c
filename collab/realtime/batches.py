"""How the door runs a group of changes on each database (see door.py for why).

SQLite: the whole group in one hop to the driver's thread, each change in a SAVEPOINT.
PostgreSQL: one transaction on the asyncpg connection; if any change fails, the group is rolled
back and its changes are decided one by one, so only the bad one fails.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson

from collab import db
from collab.errors import CollabError, Conflict

from . import apply, pipeline
from .apply import (
    PG_EVENT,
    PG_INSERT_KEY,
    PG_SELECT_KEY,
    PG_UPSERT,
    pg_dialect,
    pg_done_before,
    pg_step,
)
from .door import (
    Change,
    Repeated,
    Results,
    Step,
    Stmt,
    Written,
    finish,
    key_ack,
    lock_key,
    mapped,
)
from .events import now_iso


def _refusal(change: Change, refused: dict[Any, BaseException | None]) -> BaseException | None:
    return refused.get(lock_key(change.lock)) if change.lock is not None else None


def _sqlite_lock(c: sqlite3.Connection, step: Step) -> BaseException | None:
    # SQLite has one writer: the lock's statement only says whether its row is there.
    try:
        apply.sqlite_step(c, step, {})
    except Exception as exc:
        return mapped(exc)
    return None


def sqlite_batch(c: sqlite3.Connection, changes: list[Change], epoch: str
                  ) -> list[Written | BaseException]:
    out: list[Written | BaseException] = []
    locks = {lock_key(ch.lock): ch.lock for ch in changes if ch.lock is not None}
    refused = {key: _sqlite_lock(c, step) for key, step in sorted(locks.items())}
    for change in changes:
        failure = _refusal(change, refused)
        if failure is not None:
            out.append(failure)
            continue
        c.execute("SAVEPOINT rt_change")
        try:
            out.append(apply.sqlite_apply(c, change, epoch))
        except Exception as exc:
            c.execute("ROLLBACK TO rt_change")
            out.append(mapped(exc))
        c.execute("RELEASE rt_change")
    return out


# -- PostgreSQL: one transaction per group on the asyncpg connection ---------------------------
# A change's statements are the same few, run again and again with new values, on rows picked by
# key: planning them each time (PostgreSQL's custom plans, which it kept choosing for a board's
# neighbour read) cost more than running them. With the plan made once per connection, 10
# clients moving cards on one board went from about 290 to 560 acknowledged moves/s. Only the
# door's transactions: the library's searches need plans made for their values.
# Begun in the same round trip as the transaction.
_BEGIN = "BEGIN; SET LOCAL plan_cache_mode = force_generic_plan"


@asynccontextmanager
async def _transaction(conn: Any, first: str = "") -> AsyncIterator[str]:
    """A transaction with generic plans, begun in one round trip (asyncpg's own takes two);
    `first`: a statement (no parameters) run in that round trip too. Yields its status.
    Should `first` fail, the transaction it began is rolled back like any other: left open
    and aborted, it spoiled the pool's connection for every later group."""
    try:
        yield await conn.execute(f"{_BEGIN}; {first}" if first else _BEGIN)
    except BaseException:
        if not conn.is_closed():
            await conn.execute("ROLLBACK")
        raise
    await conn.execute("COMMIT")


def _locks(changes: list[Change]) -> dict[Any, Step]:
    return {lock_key(ch.lock): ch.lock for ch in changes if ch.lock is not None}


_PARAM = re.compile(r"\$(\d+)")


def _inline_lock(changes: list[Change]) -> tuple[Any, Step, str] | None:
    """The group's one lock as a statement without parameters (its parameters, integers,
    written into it), to run in the round trip that begins the transaction; None when the
    group holds no lock, several, or one with other parameters."""
    locks = _locks(changes)
    if len(locks) != 1:
        return None
    (key, step), = locks.items()
    sql, args, returns = step.stmt.args(pg_dialect(), step.bound({}))
    if not returns or not all(type(a) is int for a in args):
        return None
    return key, step, _PARAM.sub(lambda m: str(args[int(m.group(1)) - 1]), sql)


def _inline_lock_taken(inline: tuple[Any, Step, str], status: str
                       ) -> dict[Any, BaseException | None]:
    """What the inlined lock's status ("SELECT n") says, as `_pg_locks` would say it."""
    key, step, _ = inline
    return {key: step.refused(None) if status.rsplit(" ", 1)[-1] == "0" else None}


async def _pg_locks(conn: Any, changes: list[Change]) -> dict[Any, BaseException | None]:
    """Take each distinct lock of the group once, in one order (so that two groups holding
    several never wait for each other); a lock whose row is gone refuses its changes."""
    refused: dict[Any, BaseException | None] = {}
    for key, step in sorted(_locks(changes).items()):
        try:
            await pg_step(conn, step, {})
            refused[key] = None
        except CollabError as exc:
            refused[key] = exc
    return refused


class _Partial(Exception):
    """A change was refused after an earlier statement of it wrote: redo the group one by one."""


async def _pg_checks(conn: Any, change: Change, alone: bool) -> Results:
    """A change's send key and checks: what may refuse it before it takes a seq."""
    await pg_done_before(conn, change)
    results: Results = {}
    for n, step in enumerate(change.checks):
        try:
            await pg_step(conn, step, results)
        except CollabError:
            if n and not alone:
                raise _Partial from None
            raise
    return results


class _Seqs:
    """The group's seqs, taken late and together: changes without writes wait for a seq until
    one with writes needs its own, or the group ends, and then all take theirs, in order, in
    one round trip (a round trip per change was a quarter of a board move's)."""

    def __init__(self, conn: Any, epoch: str) -> None:
        self._conn, self._epoch = conn, epoch
        self._waiting: list[Results] = []
        self._channel = ""

    async def add(self, channel: str, results: Results, now: bool) -> None:
        if self._waiting and channel != self._channel:
            await self.take()
        self._channel = channel
        self._waiting.append(results)
        if now:
            await self.take()

    async def take(self) -> None:
        if not self._waiting:
            return
        n = len(self._waiting)
        last = await self._conn.fetchval(PG_UPSERT, self._channel, n, self._epoch)
        for offset, results in enumerate(self._waiting):
            results["seq"] = last - n + 1 + offset
        self._waiting.clear()


def _event(change: Change, results: Results) -> tuple[Written, tuple[Any, ...]]:
    written, data, subject = finish(change, results["seq"], results)
    actor = orjson.dumps(change.actor).decode() if change.actor else None
    return written, (change.channel, results["seq"], change.type, data, actor, change.ts,
                     subject)


def _one_row_check(change: Change) -> Stmt | None:
    """The statement of a change that is one `one_row` check with fixed parameters, else None."""
    if len(change.checks) != 1 or change.writes:
        return None
    step = change.checks[0]
    if not step.stmt.one_row or any(callable(v) for v in step.params.values()):
        return None
    return step.stmt


async def _checks_at_once(conn: Any, changes: list[Change],
                          refused: dict[Any, BaseException | None]
                          ) -> dict[int, Results | BaseException] | None:
    """Every change's check in one round trip (asyncpg's `fetchmany` pipelines the executions,
    each seeing the ones before), when they are all the same `one_row` statement; else None.
    A board's moves are such changes: each a round trip of its own, one after another under the
    board's lock, they bounded how many moves a board took per second."""
    live = [(n, ch) for n, ch in enumerate(changes) if _refusal(ch, refused) is None]
    stmts = {_one_row_check(ch) for _, ch in live}
    if len(live) < 2 or len(stmts) != 1 or None in stmts:
        return None
    out: dict[int, Results | BaseException] = {}
    todo: list[tuple[int, Change]] = []
    for n, change in live:
        key = change.key
        row = None if key is None else await conn.fetchrow(PG_SELECT_KEY, key.user_id, key.key)
        if row is not None:
            out[n] = Repeated(orjson.loads(row[0]))
        else:
            todo.append((n, change))
    if not todo:
        return out
    calls = [ch.checks[0].stmt.args(pg_dialect(), ch.checks[0].bound({})) for _, ch in todo]
    rows = await conn.fetchmany(calls[0][0], [args for _, args, _ in calls])
    for (n, change), row in zip(todo, rows, strict=True):
        results: Results = {}
        try:
            change.checks[0].take(results, True, row, 1)
        except CollabError as exc:
            out[n] = exc
            continue
        out[n] = results if row[0] is not None else Conflict("this change was refused")
    return out


async def _pg_group(conn: Any, changes: list[Change], epoch: str,
                    refused: dict[Any, BaseException | None] | None = None
                    ) -> list[Written | BaseException]:
    """A group in one transaction; raises if any change fails after writing (then the caller
    rolls back and decides them one by one). `refused`: its locks, if already taken."""
    out: list[Written | BaseException | None] = []
    done: list[tuple[int, Change, Results]] = []
    seqs = _Seqs(conn, epoch)
    if refused is None:
        refused = await _pg_locks(conn, changes)
    checked = await _checks_at_once(conn, changes, refused)
    for n, change in enumerate(changes):
        failure = _refusal(change, refused)
        if failure is not None:
            out.append(failure)
            continue
        try:
            if checked is None:
                results = await _pg_checks(conn, change, alone=False)
            elif isinstance(found := checked[n], BaseException):
                raise found
            else:
                results = found
        except (CollabError, Repeated) as exc:
            out.append(exc)  # refused by its first check: nothing of it was written
            continue
        done.append((len(out), change, results))
        out.append(None)
        await seqs.add(change.channel, results, now=bool(change.writes))
        for step in change.writes:
            await pg_step(conn, step, results)
    await seqs.take()
    events, keys = [], []
    for slot, change, results in done:
        written, event = _event(change, results)
        out[slot] = written
        events.append(event)
        if change.key is not None:
            keys.append((change.key.user_id, change.key.key, key_ack(written), now_iso()))
    if events:
        await conn.executemany(PG_EVENT, events)
    if keys:
        await conn.executemany(PG_INSERT_KEY, keys)
    return out  # type: ignore[return-value]


async def postgres_batch(changes: list[Change], epoch: str) -> list[Written | BaseException]:
    async with db.database.connection() as sa_conn:
        conn = (await sa_conn.get_raw_connection()).driver_connection
        # A change that also redacts or notifies writes more than its own event: each is
        # decided alone, as `hub.transaction()` would (they are rare: edits of text, mentions).
        if len(changes) == 1 or not all(change.plain for change in changes):
            return [await _pg_alone(conn, change, epoch) for change in changes]
        plans = [pipeline.prepare(change, pg_dialect(), epoch) for change in changes]
        if all(plans) and len({plan[0].sql for plan in plans if plan}) == 1:
            try:
                rows = await conn.fetchmany(plans[0][0].sql,  # type: ignore[index]
                                            [plan[1] for plan in plans if plan])
            except Exception:
                return [await _pg_alone(conn, change, epoch) for change in changes]
            return [_pipelined(change, plan, row)  # type: ignore[arg-type]
                    for change, plan, row in zip(changes, plans, rows, strict=True)]
        # The group's lock (a board's row) is taken in the round trip that begins it.
        inline = _inline_lock(changes)
        try:
            async with _transaction(conn, inline[2] if inline else "") as status:
                refused = _inline_lock_taken(inline, status) if inline else None
                return await _pg_group(conn, changes, epoch, refused)
        except Exception:
            return [await _pg_alone(conn, change, epoch) for change in changes]


def _pipelined(change: Change, plan: tuple[pipeline.Plan, list[Any]], row: Any
               ) -> Written | BaseException:
    if row["seq"] is None:  # its check matched nothing: refused, nothing written
        refusal = change.checks[0].refused()
        return refusal if refusal is not None else Conflict("this change was refused")
    results = pipeline.results_of(row, plan[0], change.writes[0].name)
    return finish(change, row["seq"], results)[0]


async def _pg_alone(conn: Any, change: Change, epoch: str) -> Written | BaseException:
    try:
        plan = pipeline.prepare(change, pg_dialect(), epoch)
        if plan is not None:
            # One statement: its own implicit transaction, one round trip.
            return _pipelined(change, plan, await conn.fetchrow(plan[0].sql, *plan[1]))
        async with _transaction(conn):
            failure = _refusal(change, await _pg_locks(conn, [change]))
            if failure is not None:
                return failure
            return await apply.pg_apply(conn, change, epoch)
    except Exception as exc:
        if change.key is not None and type(exc).__name__ == "UniqueViolationError" \
                and "rt_send_keys" in str(exc):
            row = await conn.fetchrow(PG_SELECT_KEY, change.key.user_id, change.key.key)
            if row is not None:
                return Repeated(orjson.loads(row[0]))
        failure = mapped(exc)
        if isinstance(failure, Conflict):
            failure.extra.setdefault("retry", True)
        return failure
