"""How the door runs a group of changes on each database (see door.py for why).

SQLite: the whole group in one hop to the driver's thread, each change in a SAVEPOINT.
PostgreSQL: one transaction on the asyncpg connection; if any change fails, the group is rolled
back and its changes are decided one by one, so only the bad one fails.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from collab import db
from collab.errors import CollabError, Conflict

from . import pipeline, store
from .door import Change, Repeated, Results, Step, Written, finish, key_ack, mapped
from .events import now_iso

_dialects: dict[str, Any] = {}


def _dialect(name: str) -> Any:
    """SQLAlchemy's dialect object, only to compile the domains' statements (made once)."""
    found = _dialects.get(name)
    if found is None:
        if name == "sqlite":
            from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite as Dialect
        else:
            from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg as Dialect
        found = _dialects[name] = Dialect()
    return found


def _sqlite_dialect() -> Any:
    return _dialect("sqlite")


def _pg_dialect() -> Any:
    return _dialect("postgresql")


# -- SQLite: one hop to the driver's thread per group ------------------------------------------
_SQ_UPSERT = store.sqlite_sql(store.UPSERT_SEQ)
_SQ_EVENT = store.sqlite_sql(store.INSERT_EVENT)
_SQ_SELECT_KEY = store.sqlite_sql(store.SELECT_KEY)
_SQ_INSERT_KEY = store.sqlite_sql(store.INSERT_KEY)


def _sqlite_step(c: sqlite3.Connection, step: Step, results: Results) -> None:
    sql, args, returns = step.stmt.args(_sqlite_dialect(), step.bound(results))
    cursor = c.execute(sql, args)
    if returns:
        row = cursor.fetchone()
        if row is not None:
            names = [d[0] for d in cursor.description]
            if step.name:
                results[step.name] = dict(zip(names, row, strict=True))
            cursor.fetchall()
        elif step.refuse is not None:
            raise step.refuse
    elif step.refuse is not None and cursor.rowcount == 0:
        raise step.refuse


def _sqlite_change(c: sqlite3.Connection, change: Change, epoch: str) -> Written:
    key = change.key
    if key is not None:
        row = c.execute(_SQ_SELECT_KEY, (key.user_id, key.key)).fetchone()
        if row is not None:
            raise Repeated(orjson.loads(row[0]))
    results: Results = {}
    for step in change.checks:
        _sqlite_step(c, step, results)
    seq = c.execute(_SQ_UPSERT, (change.channel, 1, epoch)).fetchone()[0]
    results["seq"] = seq
    for step in change.writes:
        _sqlite_step(c, step, results)
    written, data, subject = finish(change, seq, results)
    actor = orjson.dumps(change.actor).decode() if change.actor else None
    c.execute(_SQ_EVENT, (change.channel, seq, change.type, data, actor, change.ts, subject))
    if key is not None:
        c.execute(_SQ_INSERT_KEY, (key.user_id, key.key, key_ack(written), now_iso()))
    return written


def sqlite_batch(c: sqlite3.Connection, changes: list[Change], epoch: str
                  ) -> list[Written | BaseException]:
    out: list[Written | BaseException] = []
    for change in changes:
        c.execute("SAVEPOINT rt_change")
        try:
            out.append(_sqlite_change(c, change, epoch))
        except Exception as exc:
            c.execute("ROLLBACK TO rt_change")
            out.append(mapped(exc))
        c.execute("RELEASE rt_change")
    return out


# -- PostgreSQL: one transaction per group on the asyncpg connection ---------------------------
_PG_UPSERT = store.postgres_sql(store.UPSERT_SEQ)
_PG_EVENT = store.postgres_sql(store.INSERT_EVENT)
_PG_SELECT_KEY = store.postgres_sql(store.SELECT_KEY)
_PG_INSERT_KEY = store.postgres_sql(store.INSERT_KEY)


# A change's statements are the same few, run again and again with new values, on rows picked by
# key: planning them each time (PostgreSQL's custom plans, which it kept choosing for a board's
# neighbour read) cost more than running them. With the plan made once per connection, 10
# clients moving cards on one board went from about 290 to 560 acknowledged moves/s. Only the
# door's transactions: the library's searches need plans made for their values.
_GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan"


class _Partial(Exception):
    """A change was refused after an earlier statement of it wrote: redo the group one by one."""


async def _pg_step(conn: Any, step: Step, results: Results) -> None:
    sql, args, returns = step.stmt.args(_pg_dialect(), step.bound(results))
    if returns:
        rows = await conn.fetch(sql, *args)
        if rows:
            if step.name:
                results[step.name] = dict(rows[0])
        elif step.refuse is not None:
            raise step.refuse
    else:
        status = await conn.execute(sql, *args)
        if step.refuse is not None and status.rsplit(" ", 1)[-1] == "0":
            raise step.refuse


async def _pg_change(conn: Any, change: Change, epoch: str, alone: bool
                     ) -> tuple[Written, tuple[Any, ...]]:
    key = change.key
    if key is not None:
        row = await conn.fetchrow(_PG_SELECT_KEY, key.user_id, key.key)
        if row is not None:
            raise Repeated(orjson.loads(row[0]))
    results: Results = {}
    for n, step in enumerate(change.checks):
        try:
            await _pg_step(conn, step, results)
        except CollabError:
            if n and not alone:
                raise _Partial from None
            raise
    seq = await conn.fetchval(_PG_UPSERT, change.channel, 1, epoch)
    results["seq"] = seq
    for step in change.writes:
        await _pg_step(conn, step, results)
    written, data, subject = finish(change, seq, results)
    actor = orjson.dumps(change.actor).decode() if change.actor else None
    return written, (change.channel, seq, change.type, data, actor, change.ts, subject)


async def postgres_batch(changes: list[Change], epoch: str) -> list[Written | BaseException]:
    async with db.database.connection() as sa_conn:
        conn = (await sa_conn.get_raw_connection()).driver_connection
        if len(changes) == 1:
            return [await _pg_alone(conn, changes[0], epoch)]
        plans = [pipeline.prepare(change, _pg_dialect(), epoch) for change in changes]
        if all(plans) and len({plan[0].sql for plan in plans if plan}) == 1:
            try:
                rows = await conn.fetchmany(plans[0][0].sql,  # type: ignore[index]
                                            [plan[1] for plan in plans if plan])
            except Exception:
                return [await _pg_alone(conn, change, epoch) for change in changes]
            return [_pipelined(change, plan, row)  # type: ignore[arg-type]
                    for change, plan, row in zip(changes, plans, rows, strict=True)]
        out: list[Written | BaseException] = []
        try:
            async with conn.transaction():
                await conn.execute(_GENERIC_PLANS)
                events, keys = [], []
                for change in changes:
                    try:
                        written, event = await _pg_change(conn, change, epoch, alone=False)
                    except (CollabError, Repeated) as exc:
                        out.append(exc)  # refused by its first check: nothing of it was written
                        continue
                    out.append(written)
                    events.append(event)
                    if change.key is not None:
                        keys.append((change.key.user_id, change.key.key, key_ack(written),
                                     now_iso()))
                if events:
                    await conn.executemany(_PG_EVENT, events)
                if keys:
                    await conn.executemany(_PG_INSERT_KEY, keys)
        except Exception:
            return [await _pg_alone(conn, change, epoch) for change in changes]
        return out


def _pipelined(change: Change, plan: tuple[pipeline.Plan, list[Any]], row: Any
               ) -> Written | BaseException:
    if row["seq"] is None:  # its check matched nothing: refused, nothing written
        refusal = change.checks[0].refuse
        return refusal if refusal is not None else Conflict("this change was refused")
    results = pipeline.results_of(row, plan[0], change.writes[0].name)
    return finish(change, row["seq"], results)[0]


async def _pg_alone(conn: Any, change: Change, epoch: str) -> Written | BaseException:
    try:
        plan = pipeline.prepare(change, _pg_dialect(), epoch)
        if plan is not None:
            # One statement: its own implicit transaction, one round trip.
            return _pipelined(change, plan, await conn.fetchrow(plan[0].sql, *plan[1]))
        async with conn.transaction():
            await conn.execute(_GENERIC_PLANS)
            written, event = await _pg_change(conn, change, epoch, alone=True)
            await conn.execute(_PG_EVENT, *event)
            if change.key is not None:
                await conn.execute(_PG_INSERT_KEY, change.key.user_id, change.key.key,
                                   key_ack(written), now_iso())
        return written
    except Exception as exc:
        if change.key is not None and type(exc).__name__ == "UniqueViolationError" \
                and "rt_send_keys" in str(exc):
            row = await conn.fetchrow(_PG_SELECT_KEY, change.key.user_id, change.key.key)
            if row is not None:
                return Repeated(orjson.loads(row[0]))
        failure = mapped(exc)
        if isinstance(failure, Conflict):
            failure.extra.setdefault("retry", True)
        return failure
