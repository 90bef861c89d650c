"""The forum's part of the site-wide search box: threads by title and opening post.

A small forum does not need a full-text index: each word of the query must appear in the
title or the opening post (case-insensitive LIKE with `%`, `_` and `\\` escaped), threads in
rooms the viewer may not read are never considered, and the most recent candidates are
scored in Python (a title match counts three times a body match).
"""

from __future__ import annotations

import html
import re
from typing import Any

import sqlalchemy as sa

from collab import db
from collab.domain import SearchHit, SearchSource
from collab.searching import like_pattern, query_words, score, snippet
from collab.web import iso

from .models import Post, Room, Thread

CANDIDATES = 50
_TAG = re.compile(r"<[^>]+>")


async def search_threads(query: str, viewer: Any, limit: int) -> list[SearchHit]:
    """Threads whose title or opening post has every word of `query`, best first."""
    # `-word` leaves threads with it out, as in the library's search (and is not looked for).
    asked = query_words(query)
    words = asked.words
    if not words or limit < 1:
        return []
    threads, rooms, posts = (Thread.ormar_config.table, Room.ormar_config.table,
                             Post.ormar_config.table)
    first = sa.and_(posts.c.thread == threads.c.id, posts.c.seq == 1, posts.c.deleted.is_(False))
    body = sa.func.coalesce(posts.c.body, "")
    conditions = [sa.or_(threads.c.title.ilike(like_pattern(w), escape="\\"),
                         body.ilike(like_pattern(w), escape="\\")) for w in words]
    conditions += [sa.not_(sa.or_(threads.c.title.ilike(like_pattern(w), escape="\\"),
                                  body.ilike(like_pattern(w), escape="\\")))
                   for w in asked.excluded]
    query_ = (sa.select(threads.c.id, threads.c.title, threads.c.last_post_at,
                        rooms.c.name.label("room"), posts.c.body_html)
              .select_from(threads.join(rooms, rooms.c.id == threads.c.room)
                           .outerjoin(posts, first))
              .where(*conditions)
              .order_by(threads.c.last_post_at.desc()).limit(CANDIDATES))
    if viewer is None:
        query_ = query_.where(rooms.c.visibility == "public")
    async with db.database.connection() as conn:
        rows = (await conn.execute(query_)).all()
    scored = []
    for row in rows:
        text = html.unescape(_TAG.sub(" ", row.body_html or ""))
        scored.append((score(row.title, text, words), row, text))
    scored.sort(key=lambda item: -item[0])
    return [SearchHit(source="forum", kind="thread", id=row.id, title=row.title,
                      url=f"/threads/{row.id}", summary=f"In {row.room}",
                      snippet_html=snippet(" ".join(text.split()), words), score=float(points),
                      date=iso(row.last_post_at))
            for points, row, text in scored[:limit]]


SOURCE = SearchSource(name="forum", label="Forum threads", search=search_threads, order=20)
