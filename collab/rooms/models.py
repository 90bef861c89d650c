"""Forum rooms, threads, posts and flags."""

from __future__ import annotations

import datetime as dt

import ormar

from collab.accounts.models import User
from collab.clock import utcnow
from collab.db import base_config


class Room(ormar.Model):
    ormar_config = base_config.copy(tablename="rooms")

    id: int = ormar.Integer(primary_key=True)
    name: str = ormar.String(max_length=100, unique=True)
    description: str = ormar.Text(default="")
    visibility: str = ormar.String(max_length=10, default="public")
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    thread_count: int = ormar.Integer(default=0)


class Thread(ormar.Model):
    ormar_config = base_config.copy(
        tablename="threads",
        constraints=[ormar.IndexColumns("room", "last_post_at", name="ix_threads_room_recent")],
    )

    id: int = ormar.Integer(primary_key=True)
    room: Room = ormar.ForeignKey(Room, ondelete="CASCADE", related_name="threads")
    title: str = ormar.String(max_length=200)
    author: User = ormar.ForeignKey(User, related_name="threads")
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    last_post_at: dt.datetime = ormar.DateTime(default=utcnow, index=True)
    post_count: int = ormar.Integer(default=0)
    locked: bool = ormar.Boolean(default=False)
    pinned: bool = ormar.Boolean(default=False)


class Post(ormar.Model):
    ormar_config = base_config.copy(
        tablename="posts", constraints=[ormar.IndexColumns("thread", "seq", name="ix_posts_thread_seq")]
    )

    id: int = ormar.Integer(primary_key=True)
    thread: Thread = ormar.ForeignKey(Thread, ondelete="CASCADE", related_name="posts")
    author: User = ormar.ForeignKey(User, related_name="posts")
    body: str = ormar.Text()
    body_html: str = ormar.Text()
    seq: int = ormar.Integer(default=0, index=True)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    edited_at: dt.datetime | None = ormar.DateTime(nullable=True)
    deleted: bool = ormar.Boolean(default=False)
    # The post of the same thread this one answers, if any (not a foreign key: a post is
    # never deleted, only marked so).
    reply_to: int | None = ormar.Integer(nullable=True)


class Flag(ormar.Model):
    """A member's report of a post, waiting in the moderators' queue until resolved."""

    ormar_config = base_config.copy(tablename="post_flags")

    id: int = ormar.Integer(primary_key=True)
    post: Post = ormar.ForeignKey(Post, ondelete="CASCADE", related_name="flags")
    reporter: User = ormar.ForeignKey(User, related_name="flags_made")
    reason: str = ormar.Text()
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    resolved: bool = ormar.Boolean(default=False, index=True)
    resolution: str = ormar.String(max_length=20, default="")
    resolved_by_id: int | None = ormar.Integer(nullable=True)


class ThreadRead(ormar.Model):
    """How far a member has read a thread: the seq of the last post a page showed them."""

    ormar_config = base_config.copy(
        tablename="thread_reads",
        constraints=[ormar.UniqueColumns("user_id", "thread_id", name="uq_thread_reads")],
    )

    id: int = ormar.Integer(primary_key=True)
    user_id: int = ormar.Integer()
    thread_id: int = ormar.Integer(index=True)
    last_read_seq: int = ormar.BigInteger(default=0)
    read_at: dt.datetime = ormar.DateTime(default=utcnow)
