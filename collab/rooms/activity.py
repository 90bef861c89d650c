"""Thread lists that follow their threads: after a post, the room's open lists hear the
thread's new post count and time (`thread.bumped`, ephemeral on `room:ID`) and move it up.

At most one bump per thread per second per process, sent a second after the first post of a
burst and read fresh then, so it always carries the latest count: a busy thread costs the
room one small message a second, not one per post (the forum's posting rate is unchanged).
"""

from __future__ import annotations

import asyncio
import logging

import sqlalchemy as sa

from collab import db
from collab.realtime import Hub
from collab.web import iso

from .models import Thread

BUMP_AFTER = 1.0
log = logging.getLogger("collab.rooms")
_threads = Thread.ormar_config.table
_pending: set[int] = set()
_tasks: set[asyncio.Task[None]] = set()


def thread_bumped(hub: Hub, thread_id: int) -> None:
    """A post was written in `thread_id`: tell its room's lists soon (once per burst)."""
    if thread_id in _pending:
        return
    _pending.add(thread_id)
    task = asyncio.get_running_loop().create_task(_bump_later(hub, thread_id))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


async def _bump_later(hub: Hub, thread_id: int) -> None:
    await asyncio.sleep(BUMP_AFTER)
    _pending.discard(thread_id)
    try:
        query = sa.select(_threads.c.room, _threads.c.post_count, _threads.c.last_post_at,
                          _threads.c.pinned).where(_threads.c.id == thread_id)
        async with db.database.connection() as conn:
            row = (await conn.execute(query)).first()
        if row is not None:
            await hub.broadcast(f"room:{row.room}", "thread.bumped", {
                "id": thread_id, "post_count": row.post_count,
                "last_post_at": iso(row.last_post_at), "pinned": bool(row.pinned)})
    except (OSError, sa.exc.SQLAlchemyError) as exc:  # a list that misses it: fixed by a reload
        log.warning("thread %s: bump failed: %r", thread_id, exc)
