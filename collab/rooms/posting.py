"""Posting, the busiest write: the post, the thread's counters and the event, atomically.

Gapless per-channel seqs mean the posts of one thread commit one after another, so a
thread's posting rate is bounded by the commit latency (on PostgreSQL, one WAL flush:
574 posts/s here with one post per commit). Posts that arrive for a thread while a commit
is under way therefore wait and go together in the next one (group commit): each keeps its
own seq, order and acknowledgement, and the database flushes once for all of them.

Each batch is one trip to the database: on SQLite one transaction run entirely in the
driver's thread (db.sqlite_atomic); on PostgreSQL one statement of data-modifying CTEs
(db.postgres_fetch). Both write the rows the ORM would and store the same event JSON
that live delivery sends.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import orjson

from collab import db
from collab.errors import Forbidden, NotFound
from collab.realtime import Actor, Event, Hub
from collab.realtime.events import now_iso

SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for DateTime
MAX_BATCH = 100


def post_created_data(post_id: int, thread_id: int, seq: int, body: str, body_html: str,
                      author: dict[str, Any], created: dt.datetime) -> dict[str, Any]:
    return {"id": post_id, "thread_id": thread_id, "seq": seq, "body": body,
            "body_html": body_html, "author": author,
            "created_at": created.isoformat() + "Z", "edited_at": None, "deleted": False}


@dataclass(slots=True)
class NewPost:
    thread_id: int
    author: dict[str, Any]
    moderator: bool
    body: str
    body_html: str
    actor: dict[str, Any]
    created: dt.datetime = field(default_factory=lambda: db_now())
    ts: str = field(default_factory=now_iso)

    @property
    def actor_json(self) -> str:
        return orjson.dumps(self.actor).decode()

    def data(self, post_id: int, seq: int) -> dict[str, Any]:
        return post_created_data(post_id, self.thread_id, seq, self.body, self.body_html,
                                 self.author, self.created)

    def event_json_parts(self) -> tuple[str, str, str]:
        """The event's JSON around the id and seq the database assigns."""
        rest = self.data(0, 0)
        for key in ("id", "thread_id", "seq"):
            del rest[key]
        return ('{"id":', f',"thread_id":{self.thread_id},"seq":',
                "," + orjson.dumps(rest).decode()[1:])


def _refusal(locked: bool | None, thread_id: int) -> Exception:
    if locked is None:
        return NotFound(f"no thread {thread_id}")
    return Forbidden("this thread is locked")


# -- SQLite ----------------------------------------------------------------------------------
def _sqlite_batch(c: sqlite3.Connection, posts: list[NewPost]
                  ) -> list[tuple[int, dict[str, Any]] | Exception]:
    thread_id = posts[0].thread_id
    row = c.execute("SELECT locked FROM threads WHERE id = ?", (thread_id,)).fetchone()
    results: list[tuple[int, dict[str, Any]] | Exception] = []
    channel = f"thread:{thread_id}"
    for post in posts:
        if row is None or (row[0] and not post.moderator):
            results.append(_refusal(None if row is None else bool(row[0]), thread_id))
            continue
        seq = c.execute(
            "INSERT INTO rt_channels (name, seq) VALUES (?, 1) ON CONFLICT (name) "
            "DO UPDATE SET seq = rt_channels.seq + 1 RETURNING seq", (channel,)).fetchone()[0]
        stamp = post.created.strftime(SQLITE_DATETIME)
        post_id = c.execute(
            "INSERT INTO posts (thread, author, body, body_html, seq, created_at, deleted) "
            "VALUES (?, ?, ?, ?, ?, ?, 0)",
            (thread_id, post.author["id"], post.body, post.body_html, seq, stamp)).lastrowid
        c.execute("UPDATE threads SET post_count = post_count + 1, last_post_at = ? "
                  "WHERE id = ?", (stamp, thread_id))
        data = post.data(post_id, seq)
        c.execute(
            "INSERT INTO rt_events (channel, seq, type, data, actor, ts) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (channel, seq, "post.created", orjson.dumps(data).decode(), post.actor_json,
             post.ts))
        results.append((seq, data))
    return results


# -- PostgreSQL ------------------------------------------------------------------------------
# The thread row is locked first (as every other thread write does), then the channel's seq.
# The batch's posts take seqs last-k+1 … last in their order; each event's JSON is the
# orjson text with its new id and seq spliced in. If the thread is locked and any author is
# no moderator, nothing is written and the posts are retried one by one.
_POSTGRES_BATCH = """
WITH u AS (
    SELECT * FROM unnest($5::int[], $6::text[], $7::text[], $8::timestamp[], $9::text[],
                         $10::text[], $11::text[], $12::text[], $13::text[])
        WITH ORDINALITY AS u(author, body, html, created, head, mid, tail, actor, ts, ord)
), t AS (
    UPDATE threads SET post_count = post_count + $3, last_post_at = $4
    WHERE id = $1 AND (NOT locked OR $14) RETURNING id
), s AS (
    INSERT INTO rt_channels (name, seq) SELECT $2, $3 FROM t
    ON CONFLICT (name) DO UPDATE SET seq = rt_channels.seq + $3 RETURNING seq
), p AS (
    INSERT INTO posts (thread, author, body, body_html, seq, created_at, deleted)
    SELECT $1, u.author, u.body, u.html, s.seq - $3 + u.ord, u.created, false
    FROM s, u ORDER BY u.ord RETURNING id, seq
), e AS (
    INSERT INTO rt_events (channel, seq, type, data, actor, ts)
    SELECT $2, p.seq, 'post.created', u.head || p.id::text || u.mid || p.seq::text || u.tail,
           u.actor, u.ts
    FROM p, s, u WHERE p.seq = s.seq - $3 + u.ord RETURNING seq
)
SELECT p.id, p.seq FROM p ORDER BY p.seq
"""


async def _postgres_batch(posts: list[NewPost]) -> list[tuple[int, dict[str, Any]] | Exception]:
    thread_id = posts[0].thread_id
    parts = [post.event_json_parts() for post in posts]
    rows = await db.postgres_fetch(
        _POSTGRES_BATCH, thread_id, f"thread:{thread_id}", len(posts),
        max(post.created for post in posts),
        [post.author["id"] for post in posts], [post.body for post in posts],
        [post.body_html for post in posts], [post.created for post in posts],
        [p[0] for p in parts], [p[1] for p in parts], [p[2] for p in parts],
        [post.actor_json for post in posts], [post.ts for post in posts],
        all(post.moderator for post in posts))
    if rows:
        return [(int(seq), post.data(int(post_id), int(seq)))
                for post, (post_id, seq) in zip(posts, rows, strict=True)]
    if len(posts) > 1:
        # Locked (or gone) with some non-moderators in the batch: decide post by post.
        return [(await _postgres_batch([post]))[0] for post in posts]
    row = await db.postgres_fetch("SELECT locked FROM threads WHERE id = $1", thread_id)
    return [_refusal(bool(row[0][0]) if row else None, thread_id)]


# -- group commit ----------------------------------------------------------------------------
class PostWriter:
    """Queues posts per thread; one batch per thread is being committed at a time."""

    def __init__(self) -> None:
        self._queues: dict[int, list[tuple[NewPost, asyncio.Future[Any]]]] = {}

    async def write(self, post: NewPost) -> tuple[int, dict[str, Any]]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        queue = self._queues.get(post.thread_id)
        if queue is None:
            queue = self._queues[post.thread_id] = []
            asyncio.get_running_loop().create_task(self._drain(post.thread_id, queue))
        queue.append((post, future))
        return await future

    async def _drain(self, thread_id: int, queue: list[tuple[NewPost, asyncio.Future[Any]]]
                     ) -> None:
        try:
            while queue:
                batch = queue[:MAX_BATCH]
                del queue[:MAX_BATCH]
                posts = [post for post, _ in batch]
                try:
                    if db.is_sqlite():
                        results = await db.sqlite_atomic(
                            lambda c, posts=posts: _sqlite_batch(c, posts))
                    else:
                        results = await _postgres_batch(posts)
                except Exception as exc:  # noqa: BLE001 - every waiting writer must hear of it
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
                # Let the writers whose posts just committed queue their next ones.
                await asyncio.sleep(0)
        finally:
            del self._queues[thread_id]
            for _, future in queue:
                if not future.done():
                    future.set_exception(RuntimeError("the post writer stopped"))


_writer = PostWriter()


async def insert_post(hub: Hub, actor: Actor, author: dict[str, Any], moderator: bool,
                      thread_id: int, body: str, body_html: str) -> int:
    """Store a post and its `post.created` event, publish it, and return its seq."""
    post = NewPost(thread_id, author, moderator, body, body_html, actor.public())
    seq, data = await _writer.write(post)
    await hub.publish(Event(f"thread:{thread_id}", "post.created", data, seq=seq,
                            actor=post.actor, ts=post.ts))
    return seq


def db_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
