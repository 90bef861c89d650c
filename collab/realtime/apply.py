"""How one change is applied on each database: the same order for every path that writes one.

`sqlite_apply` and `pg_apply` run a change's send key, checks, seq, writes, its redactions of
earlier events (`Change.redact`, before its own event, which says what is now), its event and
its further events (`Change.also`: notifications on `user:ID`), with the step rules of
`Step.take`. The door's group commit runs them per change (SQLite: in a SAVEPOINT of the group;
PostgreSQL: for a change decided alone), and `Transaction.apply` runs them inside a domain's
transaction, on the same connection: there is one way a change is written, not one per caller.
SQLite runs in the driver's thread (synchronous, one hop for all of it); PostgreSQL on the
asyncpg connection.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from . import store
from .door import Change, Repeated, Results, Step, Written, finish, key_ack
from .events import Event, now_iso

_dialects: dict[str, Any] = {}


def dialect(name: str) -> Any:
    """SQLAlchemy's dialect object, only to compile the domains' statements (made once)."""
    found = _dialects.get(name)
    if found is None:
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite as Dialect
        else:
            from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg as Dialect
        found = _dialects[name] = Dialect()
    return found


def pg_dialect() -> Any:
    return dialect("postgresql")


def _actor(change: Change) -> str | None:
    return orjson.dumps(change.actor).decode() if change.actor else None


# -- SQLite ------------------------------------------------------------------------------------
SQ_UPSERT = store.sqlite_sql(store.UPSERT_SEQ)
SQ_EVENT = store.sqlite_sql(store.INSERT_EVENT)
SQ_SELECT_KEY = store.sqlite_sql(store.SELECT_KEY)
SQ_INSERT_KEY = store.sqlite_sql(store.INSERT_KEY)
SQ_REDACT = store.sqlite_sql(store.REDACT_SQLITE)


def sqlite_step(c: sqlite3.Connection, step: Step, results: Results) -> None:
    sql, args, returns = step.stmt.args(dialect("sqlite"), step.bound(results))
    cursor = c.execute(sql, args)
    row = None
    if returns:
        found = cursor.fetchone()
        if found is not None:
            row = dict(zip([d[0] for d in cursor.description], found, strict=True))
            cursor.fetchall()
    step.take(results, returns, row, cursor.rowcount)


def sqlite_apply(c: sqlite3.Connection, change: Change, epoch: str) -> Written:
    """The whole change on `c`, inside the caller's transaction (or SAVEPOINT)."""
    key = change.key
    if key is not None:
        row = c.execute(SQ_SELECT_KEY, (key.user_id, key.key)).fetchone()
        if row is not None:
            raise Repeated(orjson.loads(row[0]))
    results: Results = {}
    for step in change.checks:
        sqlite_step(c, step, results)
    seq = c.execute(SQ_UPSERT, (change.channel, 1, epoch)).fetchone()[0]
    results["seq"] = seq
    for step in change.writes:
        sqlite_step(c, step, results)
    for r in change.redact:
        c.execute(SQ_REDACT, (r.channel, r.subject, orjson.dumps(r.patch).decode()))
    written, data, subject = finish(change, seq, results)
    c.execute(SQ_EVENT, (change.channel, seq, change.type, data, _actor(change), change.ts,
                         subject))
    if key is not None:
        c.execute(SQ_INSERT_KEY, (key.user_id, key.key, key_ack(written), now_iso()))
    if change.also:
        written.also = sqlite_extras(c, change, results, epoch, redact=False)
    return written


def sqlite_extras(c: sqlite3.Connection, change: Change, results: Results, epoch: str,
                  redact: bool = True) -> list[Event]:
    """The change's redactions (unless done), then its further events (each with its own rows
    first)."""
    for r in change.redact if redact else ():
        c.execute(SQ_REDACT, (r.channel, r.subject, orjson.dumps(r.patch).decode()))
    out = []
    for also in change.also:
        for step in also.steps:
            sqlite_step(c, step, results)
        if not also.wanted(results):
            if also.left_out is not None:
                also.left_out(results)
            continue
        seq = c.execute(SQ_UPSERT, (also.channel, 1, epoch)).fetchone()[0]
        event = Event(also.channel, also.type, also.data(results), seq=seq, actor=change.actor,
                      ts=change.ts)
        c.execute(SQ_EVENT, (also.channel, seq, also.type, orjson.dumps(event.data).decode(),
                             _actor(change), change.ts, also.subject))
        out.append(event)
    return out


# -- PostgreSQL --------------------------------------------------------------------------------
PG_UPSERT = store.postgres_sql(store.UPSERT_SEQ)
PG_EVENT = store.postgres_sql(store.INSERT_EVENT)
PG_SELECT_KEY = store.postgres_sql(store.SELECT_KEY)
PG_INSERT_KEY = store.postgres_sql(store.INSERT_KEY)
PG_REDACT = store.postgres_sql(store.REDACT_POSTGRES)


async def pg_step(conn: Any, step: Step, results: Results) -> None:
    sql, args, returns = step.stmt.args(pg_dialect(), step.bound(results))
    if returns:
        rows = await conn.fetch(sql, *args)
        step.take(results, True, rows[0] if rows else None, len(rows))
    else:
        status = await conn.execute(sql, *args)  # "UPDATE 0": it touched no row
        step.take(results, False, None, 0 if status.rsplit(" ", 1)[-1] == "0" else 1)


async def pg_done_before(conn: Any, change: Change) -> None:
    """A keyed send that was done before is `Repeated` (answered with its first ack)."""
    key = change.key
    if key is not None:
        row = await conn.fetchrow(PG_SELECT_KEY, key.user_id, key.key)
        if row is not None:
            raise Repeated(orjson.loads(row[0]))


async def pg_apply(conn: Any, change: Change, epoch: str) -> Written:
    """The whole change on `conn`, inside the caller's transaction (its lock already taken)."""
    key = change.key
    await pg_done_before(conn, change)
    results: Results = {}
    for step in change.checks:
        await pg_step(conn, step, results)
    results["seq"] = await conn.fetchval(PG_UPSERT, change.channel, 1, epoch)
    for step in change.writes:
        await pg_step(conn, step, results)
    for r in change.redact:
        await conn.execute(PG_REDACT, r.channel, r.subject, orjson.dumps(r.patch).decode())
    written, data, subject = finish(change, results["seq"], results)
    await conn.execute(PG_EVENT, change.channel, written.seq, change.type, data, _actor(change),
                       change.ts, subject)
    if key is not None:
        await conn.execute(PG_INSERT_KEY, key.user_id, key.key, key_ack(written), now_iso())
    if change.also:
        written.also = await pg_extras(conn, change, results, epoch, redact=False)
    return written


async def pg_extras(conn: Any, change: Change, results: Results, epoch: str,
                    redact: bool = True) -> list[Event]:
    """The change's redactions (unless done), then its further events (each with its own rows
    first)."""
    for r in change.redact if redact else ():
        await conn.execute(PG_REDACT, r.channel, r.subject, orjson.dumps(r.patch).decode())
    out = []
    for also in change.also:
        for step in also.steps:
            await pg_step(conn, step, results)
        if not also.wanted(results):
            if also.left_out is not None:
                also.left_out(results)
            continue
        seq = await conn.fetchval(PG_UPSERT, also.channel, 1, epoch)
        event = Event(also.channel, also.type, also.data(results), seq=seq, actor=change.actor,
                      ts=change.ts)
        await conn.execute(PG_EVENT, also.channel, seq, also.type,
                           orjson.dumps(event.data).decode(), _actor(change), change.ts,
                           also.subject)
        out.append(event)
    return out
