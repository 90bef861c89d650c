"""Posting, the busiest write: the post, the thread's counters and the event in one go.

On SQLite the whole write runs in the driver's thread in one hop (db.run_in_sqlite_thread);
elsewhere it runs statement by statement on the transaction's connection. Both write the
same rows and return the same event data.
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


def _sqlite_insert(c: sqlite3.Connection, thread_id: int, author: dict[str, Any],
                   moderator: bool, body: str, body_html: str, created: dt.datetime,
                   actor_json: str, ts: str) -> tuple[str, Any]:
    channel = f"thread:{thread_id}"
    # The first statement writes, so it takes SQLite's write lock before anything is read.
    seq = c.execute(
        "INSERT INTO rt_channels (name, seq) VALUES (?, 1) ON CONFLICT (name) "
        "DO UPDATE SET seq = rt_channels.seq + 1 RETURNING seq", (channel,)).fetchone()[0]
    row = c.execute(
        "SELECT locked FROM threads WHERE id = ?", (thread_id,)).fetchone()
    if row is None:
        return "not_found", None
    if row[0] and not moderator:
        return "locked", None
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
    return "ok", (seq, data)


async def insert_post_sqlite(hub: Hub, actor: Actor, author: dict[str, Any], moderator: bool,
                             thread_id: int, body: str, body_html: str) -> int:
    created, ts = db_now(), now_iso()
    public = actor.public()
    async with hub.transaction(writes_first=True) as tx:
        outcome, result = await db.run_in_sqlite_thread(
            lambda c: _sqlite_insert(c, thread_id, author, moderator, body, body_html, created,
                                     orjson.dumps(public).decode(), ts))
        if outcome == "not_found":
            raise NotFound(f"no thread {thread_id}")
        if outcome == "locked":
            raise Forbidden("this thread is locked")
        seq, data = result
        tx.record(Event(f"thread:{thread_id}", "post.created", data, seq=seq, actor=public,
                        ts=ts))
    return seq


def db_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)

