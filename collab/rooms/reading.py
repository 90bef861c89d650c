"""Reading state: how far each member has read each thread, as Discourse tracks it.

A thread page marks what it showed as read (the seq of its newest post), never lowering it;
the room's thread list counts each thread's posts past that point (every post of a thread
never opened); the thread page shows "new since your last visit" before the first post past
the point it had before the visit.
"""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from collab import db
from collab.clock import utcnow

from .models import Post, ThreadRead

_reads, _posts = ThreadRead.ormar_config.table, Post.ormar_config.table


async def last_read(user_id: int, thread_id: int) -> int | None:
    """The seq a member has read a thread to, or None when they never opened it."""
    query = sa.select(_reads.c.last_read_seq).where(_reads.c.user_id == user_id,
                                                    _reads.c.thread_id == thread_id)
    async with db.database.connection() as conn:
        return (await conn.execute(query)).scalar()


async def mark_read(user_id: int, thread_id: int, seq: int) -> None:
    """Read to `seq` at least (a page showing older posts never lowers it)."""
    insert = (sqlite.insert if db.is_sqlite() else postgresql.insert)(_reads).values(
        user_id=user_id, thread_id=thread_id, last_read_seq=seq, read_at=utcnow())
    statement = insert.on_conflict_do_update(
        index_elements=[_reads.c.user_id, _reads.c.thread_id],
        set_={"last_read_seq": sa.case(
                  (insert.excluded.last_read_seq > _reads.c.last_read_seq,
                   insert.excluded.last_read_seq), else_=_reads.c.last_read_seq),
              "read_at": insert.excluded.read_at})
    async with db.write_transaction():
        await db.database.get_transaction_connection().execute(statement)


async def unread_counts(user_id: int, thread_ids: Iterable[int]) -> dict[int, int]:
    """Each thread's posts by others (not deleted) past what the member has read; threads
    with none are left out. A member's own posts are never unread to them."""
    ids = list(thread_ids)
    if not ids:
        return {}
    read = (sa.select(_reads.c.thread_id, _reads.c.last_read_seq)
            .where(_reads.c.user_id == user_id, _reads.c.thread_id.in_(ids)).subquery())
    query = (sa.select(_posts.c.thread, sa.func.count().label("n"))
             .select_from(_posts.outerjoin(read, read.c.thread_id == _posts.c.thread))
             .where(_posts.c.thread.in_(ids), _posts.c.deleted.is_(False),
                    _posts.c.author != user_id,
                    _posts.c.seq > sa.func.coalesce(read.c.last_read_seq, 0))
             .group_by(_posts.c.thread))
    async with db.database.connection() as conn:
        return {int(r.thread): int(r.n) for r in (await conn.execute(query)).all()}
