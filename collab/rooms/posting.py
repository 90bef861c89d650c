"""Posting, the busiest write: the post, the thread's counters and the event, atomically.

One trip to the database per post: on SQLite the whole transaction runs in the driver's
thread in one hop (db.sqlite_atomic); on PostgreSQL it is one statement of data-modifying
CTEs (db.postgres_fetchrow). Both write the same rows as the ORM would and store the same
event; the event is published after commit, as hub.transaction() does.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

import orjson

from collab import db
from collab.errors import Forbidden, NotFound
from collab.realtime import Actor, Event, Hub
from collab.realtime.events import now_iso

SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime


def post_created_data(post_id: int, thread_id: int, seq: int, body: str, body_html: str,
                      author: dict[str, Any], created: dt.datetime) -> dict[str, Any]:
    return {"id": post_id, "thread_id": thread_id, "seq": seq, "body": body,
            "body_html": body_html, "author": author,
            "created_at": created.isoformat() + "Z", "edited_at": None, "deleted": False}


def _refusal(locked: bool | None, thread_id: int) -> Exception:
    if locked is None:
        return NotFound(f"no thread {thread_id}")
    return Forbidden("this thread is locked")


def _sqlite_insert(c: sqlite3.Connection, thread_id: int, author: dict[str, Any],
                   moderator: bool, body: str, body_html: str, created: dt.datetime,
                   actor_json: str, ts: str) -> tuple[int, dict[str, Any]]:
    row = c.execute("SELECT locked FROM threads WHERE id = ?", (thread_id,)).fetchone()
    if row is None or (row[0] and not moderator):
        raise _refusal(None if row is None else bool(row[0]), thread_id)
    channel = f"thread:{thread_id}"
    seq = c.execute(
        "INSERT INTO rt_channels (name, seq) VALUES (?, 1) ON CONFLICT (name) "
        "DO UPDATE SET seq = rt_channels.seq + 1 RETURNING seq", (channel,)).fetchone()[0]
    stamp = created.strftime(SQLITE_DATETIME)
    post_id = c.execute(
        "INSERT INTO posts (thread, author, body, body_html, seq, created_at, deleted) "
        "VALUES (?, ?, ?, ?, ?, ?, 0)",
        (thread_id, author["id"], body, body_html, seq, stamp)).lastrowid
    c.execute("UPDATE threads SET post_count = post_count + 1, last_post_at = ? WHERE id = ?",
              (stamp, thread_id))
    data = post_created_data(post_id, thread_id, seq, body, body_html, author, created)
    c.execute(
        "INSERT INTO rt_events (channel, seq, type, data, actor, ts) VALUES (?, ?, ?, ?, ?, ?)",
        (channel, seq, "post.created", orjson.dumps(data).decode(), actor_json, ts))
    return seq, data


# The thread row is locked first (as every other thread write does), then the channel's
# seq; the event's JSON is the orjson text with the new id and seq spliced in, so a replay
# from the store sends what live delivery sent.
_POSTGRES_INSERT = """
WITH t AS (
    UPDATE threads SET post_count = post_count + 1, last_post_at = $2
    WHERE id = $1 AND (NOT locked OR $3) RETURNING id
), s AS (
    INSERT INTO rt_channels (name, seq) SELECT $4, 1 FROM t
    ON CONFLICT (name) DO UPDATE SET seq = rt_channels.seq + 1 RETURNING seq
), p AS (
    INSERT INTO posts (thread, author, body, body_html, seq, created_at, deleted)
    SELECT $1, $5, $6, $7, s.seq, $2, false FROM s RETURNING id, seq
), e AS (
    INSERT INTO rt_events (channel, seq, type, data, actor, ts)
    SELECT $4, p.seq, 'post.created', $8 || p.id::text || $9 || p.seq::text || $10, $11, $12
    FROM p RETURNING seq
)
SELECT p.id, p.seq FROM p, e
"""


async def _insert_postgres(thread_id: int, author: dict[str, Any], moderator: bool, body: str,
                           body_html: str, created: dt.datetime, actor_json: str,
                           ts: str) -> tuple[int, dict[str, Any]]:
    channel = f"thread:{thread_id}"
    template = post_created_data(0, thread_id, 0, body, body_html, author, created)
    rest = {k: v for k, v in template.items() if k not in ("id", "thread_id", "seq")}
    head, middle = '{"id":', f',"thread_id":{thread_id},"seq":'
    tail = "," + orjson.dumps(rest).decode()[1:]
    row = await db.postgres_fetchrow(
        _POSTGRES_INSERT, thread_id, created, moderator, channel, author["id"], body,
        body_html, head, middle, tail, actor_json, ts)
    if row is None:
        locked = await db.postgres_fetchrow("SELECT locked FROM threads WHERE id = $1",
                                            thread_id)
        raise _refusal(None if locked is None else bool(locked[0]), thread_id)
    post_id, seq = int(row[0]), int(row[1])
    return seq, post_created_data(post_id, thread_id, seq, body, body_html, author, created)


async def insert_post(hub: Hub, actor: Actor, author: dict[str, Any], moderator: bool,
                      thread_id: int, body: str, body_html: str) -> int:
    """Store a post and its `post.created` event, publish it, and return its seq."""
    created, ts = db_now(), now_iso()
    public = actor.public()
    actor_json = orjson.dumps(public).decode()
    if db.is_sqlite():
        seq, data = await db.sqlite_atomic(
            lambda c: _sqlite_insert(c, thread_id, author, moderator, body, body_html, created,
                                     actor_json, ts))
    else:
        seq, data = await _insert_postgres(thread_id, author, moderator, body, body_html,
                                           created, actor_json, ts)
    await hub.publish(Event(f"thread:{thread_id}", "post.created", data, seq=seq,
                            actor=public, ts=ts))
    return seq


def db_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
