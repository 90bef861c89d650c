"""Forum rules: who may see, write and moderate what; every change commits with its event."""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from collab import db
from collab.accounts.models import User
from collab.accounts.service import audit
from collab.clock import utcnow
from collab.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from collab.fields import bool_field, id_field, text_field
from collab.markdown import render_markdown
from collab.notifications import capped
from collab.realtime import Actor, Hub
from collab.web import author_or_moderator, is_moderator, iso, parse_id, person, role_badge

from . import posting
from .models import Flag, Post, Room, Thread

VISIBILITIES = ("public", "members")
MAX_BODY = 20_000
MAX_TITLE = 200


# -- rooms ---------------------------------------------------------------------------------
def room_dict(room: Room) -> dict[str, Any]:
    return {"id": room.id, "name": room.name, "description": room.description,
            "visibility": room.visibility, "thread_count": room.thread_count,
            "created_at": iso(room.created_at)}


def check_room_visible(room: Room, viewer: Actor | User | None) -> None:
    if room.visibility == "members" and viewer is None:
        raise Unauthenticated("this room is for signed-in members")


async def create_room(actor: User, data: dict[str, Any]) -> Room:
    if not is_moderator(actor):
        raise Forbidden("only moderators and admins create rooms")
    name = text_field(data, "name", 100)
    description = text_field(data, "description", 2000, required=False)
    visibility = data.get("visibility", "public")
    if visibility not in VISIBILITIES:
        raise Invalid("visibility must be 'public' or 'members'", extra={"field": "visibility"})
    # Compared case-folded with plain equality, never as a LIKE pattern ("%" is a name).
    rooms = Room.ormar_config.table
    async with db.database.connection() as conn:
        taken = (await conn.execute(sa.select(rooms.c.id).where(
            sa.func.lower(rooms.c.name) == name.lower()).limit(1))).first()
    if taken is not None:
        raise Conflict(f"a room named {name!r} exists")
    room = await Room.objects.create(name=name, description=description, visibility=visibility)
    await audit(actor, "room.create", f"room:{room.id}", name)
    return room


async def visible_rooms(viewer: User | None) -> list[Room]:
    query = Room.objects.order_by("name")
    if viewer is None:
        query = query.filter(visibility="public")
    return await query.all()


async def get_room(room_id: int, viewer: Actor | User | None) -> Room:
    room = await Room.objects.get_or_none(id=room_id)
    if room is None:
        raise NotFound(f"no room {room_id}")
    check_room_visible(room, viewer)
    return room


# -- threads -------------------------------------------------------------------------------
def thread_dict(thread: Thread) -> dict[str, Any]:
    return {"id": thread.id, "room_id": thread.room.id, "title": thread.title,
            "author": thread.author.public(),
            "created_at": iso(thread.created_at), "last_post_at": iso(thread.last_post_at),
            "post_count": thread.post_count, "locked": thread.locked, "pinned": thread.pinned}


def post_dict(post: Post, author: User | Actor,
              reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": post.id, "thread_id": post.thread.id, "seq": post.seq,
            "body": "" if post.deleted else post.body,
            "body_html": "" if post.deleted else post.body_html,
            "author": {**person(author), "badge": role_badge(author)},
            "created_at": iso(post.created_at), "edited_at": iso(post.edited_at),
            "deleted": post.deleted, "reply_to": reply_to}


def reply_target(post: Post) -> dict[str, Any]:
    """What a reply shows of the post it answers: its id and its author."""
    return {"id": post.id, "author": person(post.author)}


async def post_dicts(posts: list[Post]) -> list[dict[str, Any]]:
    """A page of posts, each with the post it answers (read in one query for the page)."""
    wanted = {p.reply_to for p in posts if p.reply_to}
    targets = {t.id: reply_target(t) for t in await Post.objects.select_related("author")
               .filter(id__in=list(wanted)).all()} if wanted else {}
    return [post_dict(p, p.author, targets.get(p.reply_to) if p.reply_to else None)
            for p in posts]


async def replied_post(thread_id: int, value: Any) -> Post:
    """The post of `thread_id` a reply answers (`reply_to`), or `invalid`."""
    post_id = parse_id(value)
    post = await Post.objects.select_related("author").get_or_none(
        id=post_id, thread=thread_id) if post_id is not None else None
    if post is None or post.deleted:
        raise Invalid("reply_to must be a post of this thread", extra={"field": "reply_to"})
    return post


async def get_thread(thread_id: int, viewer: Actor | User | None) -> Thread:
    thread = await Thread.objects.select_related(["room", "author"]).get_or_none(id=thread_id)
    if thread is None:
        raise NotFound(f"no thread {thread_id}")
    check_room_visible(thread.room, viewer)
    return thread


# thread id -> (expires, room visibility): a thousand people joining one webinar-sized
# thread at once ask the same question; the answer may be a few seconds old.
_VISIBILITY_TTL = 5.0
_visibility: dict[int, tuple[float, str]] = {}


async def check_thread_readable(thread_id: int, viewer: Actor | User | None) -> None:
    """Raise unless the thread exists and `viewer` may read it (joins ask this)."""
    cached = _visibility.get(thread_id)
    now = time.monotonic()
    if cached is None or cached[0] < now:
        await thread_access(thread_id, viewer)
        return
    if cached[1] == "members" and viewer is None:
        raise Unauthenticated("this room is for signed-in members")


async def thread_access(thread_id: int, viewer: Actor | User | None) -> bool:
    """Check `viewer` may read the thread; returns whether it is locked.

    One Core query instead of ormar models: it runs for every post and every join.
    """
    threads, rooms = Thread.ormar_config.table, Room.ormar_config.table
    query = (sa.select(threads.c.locked, rooms.c.visibility)
             .select_from(threads.join(rooms, threads.c.room == rooms.c.id))
             .where(threads.c.id == thread_id))
    async with db.database.connection() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound(f"no thread {thread_id}")
    if len(_visibility) > 10_000:
        _visibility.clear()
    _visibility[thread_id] = (time.monotonic() + _VISIBILITY_TTL, row.visibility)
    if row.visibility == "members" and viewer is None:
        raise Unauthenticated("this room is for signed-in members")
    return bool(row.locked)


async def create_thread(hub: Hub, actor: Actor, room_id: int, data: dict[str, Any]) -> Thread:
    return (await create_thread_at(hub, actor, room_id, data))[0]


async def create_thread_at(hub: Hub, actor: Actor, room_id: int, data: dict[str, Any]
                           ) -> tuple[Thread, int]:
    """A new thread and the seq of its `thread.created` on the room (what a send's ack says)."""
    title = text_field(data, "title", MAX_TITLE)
    body = text_field(data, "body", MAX_BODY)
    await capped(body)
    room = await get_room(room_id, actor)
    author = await User.objects.get(id=actor.id)
    body_html = render_markdown(body)
    async with hub.transaction() as tx:
        now = utcnow()
        thread = await Thread.objects.create(room=room, title=title, author=author,
                                             created_at=now, last_post_at=now, post_count=1)
        channel = f"thread:{thread.id}"
        seq = await tx.reserve(channel)
        post = await Post.objects.create(thread=thread, author=author, body=body,
                                         body_html=body_html, seq=seq, created_at=now)
        table = Room.ormar_config.table
        await tx.conn.execute(table.update().where(table.c.id == room.id)
                              .values(thread_count=table.c.thread_count + 1))
        await tx.emit(channel, "post.created", post_dict(post, author), actor, seq=seq,
                      subject=f"post:{post.id}")
        event = await tx.emit(f"room:{room.id}", "thread.created", thread_dict(thread), actor)
        tx.reply(event.seq, {"id": thread.id, "thread_id": thread.id})
    return thread, event.seq or 0


async def thread_posts(thread: Thread, before: int | None = None, limit: int = 50,
                       after: int | None = None) -> list[Post]:
    """Posts in seq order: the newest `limit` (or those before/after a seq), for paging."""
    query = Post.objects.select_related("author").filter(thread=thread.id)
    if after is not None:
        return await query.filter(seq__gt=after).order_by("seq").limit(limit).all()
    if before is not None:
        query = query.filter(seq__lt=before)
    posts = await query.order_by("-seq").limit(limit).all()
    return list(reversed(posts))


# -- posts ---------------------------------------------------------------------------------
async def create_post(hub: Hub, actor: Actor | None, thread_id: int, data: dict[str, Any]
                      ) -> tuple[int, int]:
    """Write a post; returns its (seq, id)."""
    if actor is None:
        raise Unauthenticated("sign in to post")
    body = text_field(data, "body", MAX_BODY)
    await capped(body)
    reply_to = None
    if data.get("reply_to") not in (None, ""):
        reply_to = reply_target(await replied_post(thread_id, data["reply_to"]))
    body_html = render_markdown(body)
    return await posting.insert_post(hub, actor, is_moderator(actor), thread_id, body,
                                     body_html, reply_to)


async def _own_post(actor: Actor | None, thread_id: int, data: dict[str, Any],
                    action: str) -> tuple[Thread, Post]:
    if actor is None:
        raise Unauthenticated(f"sign in to {action} posts")
    post_id = id_field(data, "post_id")
    thread = await get_thread(thread_id, actor)
    post = await Post.objects.select_related("author").get_or_none(id=post_id, thread=thread_id)
    if post is None or post.deleted:
        raise NotFound(f"no post {post_id} in this thread")
    if not author_or_moderator(actor, post.author.id):
        raise Forbidden(f"only the author or a moderator may {action} this post")
    return thread, post


async def edit_post(hub: Hub, actor: Actor | None, thread_id: int, data: dict[str, Any]) -> int:
    body = text_field(data, "body", MAX_BODY)
    await capped(body)
    async with hub.transaction() as tx:
        thread, post = await _own_post(actor, thread_id, data, "edit")
        if thread.locked and not is_moderator(actor):
            raise Forbidden("this thread is locked")
        post.body, post.body_html, post.edited_at = body, render_markdown(body), utcnow()
        await post.update(_columns=["body", "body_html", "edited_at"])
        if post.author.id != actor.id:
            await audit(actor, "post.edit", f"post:{post.id}", f"thread:{thread_id}")
        channel, subject = f"thread:{thread_id}", f"post:{post.id}"
        [data] = await post_dicts([post])
        # Replay shows the post as it is now, never its earlier body.
        await tx.redact(channel, subject, {k: data[k] for k in ("body", "body_html",
                                                                "edited_at")})
        event = await tx.emit(channel, "post.edited", data, actor, subject=subject)
    return event.seq


async def delete_post(hub: Hub, actor: Actor | None, thread_id: int, data: dict[str, Any]) -> int:
    async with hub.transaction() as tx:
        _thread, post = await _own_post(actor, thread_id, data, "delete")
        post.deleted = True
        await post.update(_columns=["deleted"])
        if post.author.id != actor.id:
            await audit(actor, "post.delete", f"post:{post.id}", f"thread:{thread_id}")
        channel, subject = f"thread:{thread_id}", f"post:{post.id}"
        # Replay never brings a deleted post's text back.
        await tx.redact(channel, subject, {"body": "", "body_html": "", "deleted": True})
        await Flag.objects.filter(post=post.id, resolved=False).update(
            resolved=True, resolution="deleted", resolved_by_id=actor.id)
        event = await tx.emit(channel, "post.deleted",
                              {"id": post.id, "post_id": post.id, "thread_id": thread_id}, actor,
                              subject=subject)
    return event.seq


async def flag_post(actor: Actor | None, thread_id: int, data: dict[str, Any]) -> Flag:
    if actor is None:
        raise Unauthenticated("sign in to flag posts")
    post_id = id_field(data, "post_id")
    reason = text_field(data, "reason", 1000)
    await get_thread(thread_id, actor)
    post = await Post.objects.get_or_none(id=post_id, thread=thread_id)
    if post is None or post.deleted:
        raise NotFound(f"no post {post_id} in this thread")
    if await Flag.objects.filter(post=post_id, reporter=actor.id, resolved=False).exists():
        raise Conflict("you have already flagged this post")
    return await Flag.objects.create(post=post, reporter=actor.id, reason=reason)


def thread_flag_value(data: dict[str, Any], field: str) -> bool:
    if field in data:
        return bool_field(data, field)
    return bool_field(data, "value", True)


async def set_thread_flag(hub: Hub, actor: Actor | None, thread_id: int, data: dict[str, Any],
                          field: str) -> int:
    if not is_moderator(actor):
        raise Forbidden(f"only moderators may {field[:-2]} threads")
    value = thread_flag_value(data, field)
    async with hub.transaction() as tx:
        thread = await get_thread(thread_id, actor)
        setattr(thread, field, value)
        await thread.update(_columns=[field])
        await audit(actor, f"thread.{field}", f"thread:{thread_id}", str(value).lower())
        event = await tx.emit(f"thread:{thread_id}", f"thread.{field}",
                              {"thread_id": thread_id, field: value}, actor)
    return event.seq


async def open_flags(limit: int = 50, offset: int = 0) -> list[Flag]:
    return await (Flag.objects.select_related(["post", "post__author", "reporter"])
                  .filter(resolved=False).order_by("created_at").offset(offset).limit(limit).all())


async def resolve_flag(hub: Hub, actor: User, flag_id: int, action: str) -> Flag:
    """A moderator dismisses a flag or deletes the post it points at."""
    if not is_moderator(actor):
        raise Forbidden("only moderators work the flag queue")
    if action not in ("dismiss", "delete"):
        raise Invalid("action must be 'dismiss' or 'delete'")
    flag = await Flag.objects.select_related("post").get_or_none(id=flag_id)
    if flag is None:
        raise NotFound(f"no flag {flag_id}")
    if flag.resolved:
        raise Conflict("this flag was already handled")
    if action == "delete" and not flag.post.deleted:
        from collab.accounts.auth import actor_of

        await delete_post(hub, actor_of(actor), flag.post.thread.id, {"post_id": flag.post.id})
    await Flag.objects.filter(post=flag.post.id, resolved=False).update(
        resolved=True, resolution=action, resolved_by_id=actor.id)
    await audit(actor, f"flag.{action}", f"post:{flag.post.id}", f"flag:{flag.id}")
    flag.resolved, flag.resolution = True, action
    return flag
