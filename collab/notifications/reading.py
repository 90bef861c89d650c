"""Read state, kept on the rows: a member's unread count, their list, marking some or all
read. Marking tells every open page of theirs (`notifications.read {"unread"}` on `user:ID`),
so each page's count agrees."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from collab import db
from collab.accounts.models import User
from collab.clock import utcnow
from collab.realtime import Hub
from collab.web import iso, person

from .models import notifications as _n

PER_PAGE = 50
MAX_IDS = 500
_u = User.ormar_config.table


async def unread_count(user_id: int, conn: Any = None) -> int:
    query = sa.select(sa.func.count()).select_from(_n).where(_n.c.user_id == user_id,
                                                             _n.c.read_at.is_(None))
    if conn is not None:
        return int((await conn.execute(query)).scalar() or 0)
    async with db.database.connection() as c:
        return int((await c.execute(query)).scalar() or 0)


async def listing(user_id: int, before: int | None = None, unread_only: bool = False,
                  kind: str | None = None, limit: int = PER_PAGE) -> list[dict[str, Any]]:
    """A member's notifications, newest first (`before` an id: older ones; one `kind`)."""
    query = (sa.select(_n, _u.c.username, _u.c.display_name)
             .select_from(_n.outerjoin(_u, _u.c.id == _n.c.actor_id))
             .where(_n.c.user_id == user_id).order_by(_n.c.id.desc()).limit(limit))
    if before is not None:
        query = query.where(_n.c.id < before)
    if unread_only:
        query = query.where(_n.c.read_at.is_(None))
    if kind is not None:
        query = query.where(_n.c.kind == kind)
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    return [{"id": r.id, "kind": r.kind, "text": r.text, "url": r.url,
             "actor": person(r, r.actor_id) if r.actor_id is not None and r.username else None,
             "created_at": iso(r.created_at), "read": r.read_at is not None} for r in rows]


async def mark_read(hub: Hub, user: Any, ids: list[int] | None) -> int:
    """Mark `ids` (or every one, with None) of the member's read; returns the unread count,
    which every open page of theirs hears."""
    where = [_n.c.user_id == user.id, _n.c.read_at.is_(None)]
    if ids is not None:
        where.append(_n.c.id.in_(ids))
    async with hub.transaction() as tx:
        await tx.conn.execute(sa.update(_n).where(*where).values(read_at=utcnow()))
        unread = await unread_count(user.id, tx.conn)
        await tx.emit(f"user:{user.id}", "notifications.read", {"unread": unread})
    return unread
