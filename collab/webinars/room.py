"""What a live room shows, read for its pages and the API: questions, chat, polls."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from collab import db
from collab.accounts.models import User
from collab.realtime import Actor
from collab.web import iso, person

from .live import counts_of, m, message_dict, p, pl, pv, q, question_dict, qv
from .service import Seat

MAX_PAGE = 500
_users = User.ormar_config.table


async def questions(webinar_id: int, seat: Seat) -> list[dict[str, Any]]:
    """Open questions by votes, then answered ones by votes; pending ones only to the host,
    moderators and their askers. Dismissed ones are gone."""
    states = ["open", "answered"]
    query = (sa.select(q, _users.c.username, _users.c.display_name)
             .select_from(q.join(_users, _users.c.id == q.c.author_id))
             .where(q.c.webinar_id == webinar_id))
    if seat.moderates:
        query = query.where(q.c.state.in_([*states, "pending"]))
    elif seat.role is not None:
        query = query.where(sa.or_(q.c.state.in_(states),
                                   sa.and_(q.c.state == "pending", q.c.author_id == seat.user_id)))
    else:
        query = query.where(q.c.state.in_(states))
    order = sa.case((q.c.state == "pending", 0), (q.c.state == "open", 1), else_=2)
    query = query.order_by(order, q.c.votes.desc(), q.c.id).limit(MAX_PAGE)
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    return [question_dict(r.id, webinar_id, r.body, person(r, r.author_id), r.state, r.votes,
                          r.created_at, r.answered_at) for r in rows]


async def messages(webinar_id: int, *, before: int | None = None, after: int | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
    """Chat messages oldest first: the newest `limit`, or those before/after a message id."""
    query = (sa.select(m, _users.c.username, _users.c.display_name)
             .select_from(m.join(_users, _users.c.id == m.c.author_id))
             .where(m.c.webinar_id == webinar_id))
    if after is not None:
        query = query.where(m.c.id > after).order_by(m.c.id).limit(limit)
    else:
        if before is not None:
            query = query.where(m.c.id < before)
        query = query.order_by(m.c.id.desc()).limit(limit)
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    if after is None:
        rows = list(reversed(rows))
    return [message_dict(r.id, webinar_id, r.body, person(r, r.author_id), r.created_at,
                         bool(r.deleted)) for r in rows]


async def polls(webinar_id: int) -> list[dict[str, Any]]:
    """Every poll of the room, newest first, with its counts."""
    counts = [sa.func.coalesce(sa.func.sum(sa.case((pv.c.option == i, 1), else_=0)), 0)
              .label(f"c{i}") for i in range(6)]
    query = (sa.select(pl, *counts).select_from(pl.outerjoin(pv, pv.c.poll_id == pl.c.id))
             .where(pl.c.webinar_id == webinar_id)
             .group_by(*pl.c).order_by(pl.c.id.desc()).limit(100))
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    out = []
    for r in rows:
        row = r._mapping
        out.append({"id": r.id, "webinar_id": webinar_id, "question": r.question,
                    "options": json.loads(r.options), "counts": counts_of(row),
                    "closed": bool(r.closed), "created_at": iso(r.created_at)})
    return out


async def my_poll_votes(webinar_id: int, viewer: Actor | User | None) -> dict[int, int]:
    if viewer is None:
        return {}
    query = (sa.select(pv.c.poll_id, pv.c.option).select_from(pv.join(pl, pl.c.id == pv.c.poll_id))
             .where(pl.c.webinar_id == webinar_id, pv.c.user_id == viewer.id))
    async with db.database.connection() as conn:
        return {r.poll_id: r.option for r in (await conn.execute(query)).all()}


async def my_votes(webinar_id: int, viewer: Actor | User | None) -> set[int]:
    if viewer is None:
        return set()
    query = (sa.select(qv.c.question_id).select_from(qv.join(q, q.c.id == qv.c.question_id))
             .where(q.c.webinar_id == webinar_id, qv.c.user_id == viewer.id))
    async with db.database.connection() as conn:
        return {r.question_id for r in (await conn.execute(query)).all()}


async def muted_ids(webinar_id: int) -> set[int]:
    query = sa.select(p.c.user_id).where(p.c.webinar_id == webinar_id, p.c.muted == sa.true())
    async with db.database.connection() as conn:
        return {r.user_id for r in (await conn.execute(query)).all()}
