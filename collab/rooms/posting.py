"""Posting, the forum's busiest write, through the hub's door (group commit, one trip per group).

A reply to a post (`reply_to`) names the post it answers; create_post checked it belongs
to the thread before the write, as the post row keeps only its id.

A post is one `Change` on `thread:ID`: a check that bumps the thread's counters unless it is
locked (moderators post in locked threads too), then the post row with the seq the door
took. The door writes the `post.created` event and the send key and commits posts of one
thread in groups.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from collab.clock import utcnow
from collab.errors import Forbidden
from collab.realtime import Actor, Change, Hub, Step, Stmt
from collab.web import iso, person, role_badge

from .models import Post, Thread

_posts = Post.ormar_config.table
_threads = Thread.ormar_config.table

BUMP_THREAD = Stmt(
    sa.update(_threads)
    .where(_threads.c.id == sa.bindparam("thread_id"),
           sa.or_(_threads.c.locked == sa.false(), sa.bindparam("moderator", type_=sa.Boolean)))
    .values(post_count=_threads.c.post_count + 1, last_post_at=sa.bindparam("now"))
)
INSERT_POST = Stmt(
    sa.insert(_posts).values(
        thread=sa.bindparam("thread_id"), author=sa.bindparam("author_id"),
        body=sa.bindparam("body"), body_html=sa.bindparam("body_html"),
        seq=sa.bindparam("seq"), created_at=sa.bindparam("now"), deleted=sa.false(),
        reply_to=sa.bindparam("reply_to", type_=sa.Integer),
    ).returning(_posts.c.id)
)
LOCKED = Forbidden("this thread is locked")


def post_created_data(post_id: int, thread_id: int, seq: int, body: str, body_html: str,
                      author: dict[str, Any], created: dt.datetime,
                      reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": post_id, "thread_id": thread_id, "seq": seq, "body": body,
            "body_html": body_html, "author": author, "created_at": iso(created),
            "edited_at": None, "deleted": False, "reply_to": reply_to}


async def insert_post(hub: Hub, actor: Actor, moderator: bool, thread_id: int, body: str,
                      body_html: str, reply_to: dict[str, Any] | None = None
                      ) -> tuple[int, int]:
    """Store a post and its `post.created` event, publish it; returns (seq, post id)."""
    now = utcnow()
    author = {**person(actor), "badge": role_badge(actor)}
    params = {"thread_id": thread_id, "moderator": moderator, "now": now,
              "author_id": actor.id, "body": body, "body_html": body_html,
              "reply_to": reply_to["id"] if reply_to else None}
    written = await hub.write(Change(
        channel=f"thread:{thread_id}", type="post.created",
        checks=[Step(BUMP_THREAD, params, refuse=LOCKED)],
        writes=[Step(INSERT_POST, params, name="post")],
        data=lambda r: post_created_data(r["post"]["id"], thread_id, r["seq"], body, body_html,
                                         author, now, reply_to),
        subject=lambda r: f"post:{r['post']['id']}",
        ack=lambda r: {"id": r["post"]["id"]},
        actor=actor.public(),
    ))
    return written.seq, written.results["post"]["id"]
