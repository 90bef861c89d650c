"""What the forum tells the site: its front-door block and its audit rows in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from collab.domain import ActionText, AuditRow, Contribution, HomeBlock, HomeItem, target_id
from collab.web import iso

from .models import Post, Room, Thread

HOME_THREADS = 6


async def whats_new(viewer: Any) -> list[HomeBlock]:
    """The threads with the latest posts, in rooms the viewer may read."""
    query = Thread.objects.select_related("room").order_by("-last_post_at")
    if viewer is None:
        query = query.filter(room__visibility="public")
    threads = await query.limit(HOME_THREADS).all()
    items = [HomeItem(title=t.title, url=f"/threads/{t.id}",
                      summary=f"In {t.room.name} · {t.post_count} "
                              f"post{'' if t.post_count == 1 else 's'}",
                      date=iso(t.last_post_at)) for t in threads]
    return [HomeBlock("New in the forum", items, more_label="All rooms", more_url="/rooms",
                      order=10, empty="No threads yet: start one in a room.")]


_THREAD_FLAGS = {("thread.pinned", "true"): "pinned", ("thread.pinned", "false"): "unpinned",
                 ("thread.locked", "true"): "locked", ("thread.locked", "false"): "unlocked"}


async def describe_actions(rows: Sequence[AuditRow]) -> Mapping[int, ActionText]:
    ours = [r for r in rows if r.action.split(".")[0] in ("room", "post", "thread", "flag")]
    post_ids = {i for r in ours if (i := target_id(r.target, "post")) is not None}
    posts = {p.id: p for p in await Post.objects.select_related("thread")
             .filter(id__in=list(post_ids)).all()} if post_ids else {}
    thread_ids = {i for r in ours if (i := target_id(r.target, "thread")) is not None}
    threads = {t.id: t for t in await Thread.objects.filter(id__in=list(thread_ids)).all()
               } if thread_ids else {}
    room_ids = {i for r in ours if (i := target_id(r.target, "room")) is not None}
    rooms = {r.id: r for r in await Room.objects.filter(id__in=list(room_ids)).all()
             } if room_ids else {}
    out: dict[int, ActionText] = {}
    for row in ours:
        if row.action == "room.create" and (room := rooms.get(target_id(row.target, "room"))):
            out[row.id] = ActionText(f"created the room “{room.name}”", f"/rooms/{room.id}")
        elif (verb := _THREAD_FLAGS.get((row.action, row.details))) and (
                thread := threads.get(target_id(row.target, "thread"))):
            out[row.id] = ActionText(f"{verb} “{thread.title}”", f"/threads/{thread.id}")
        elif post := posts.get(target_id(row.target, "post")):
            what = {"post.edit": "edited a post", "post.delete": "deleted a post",
                    "flag.dismiss": "dismissed a flag on a post",
                    "flag.delete": "deleted a flagged post"}.get(row.action)
            if what:
                out[row.id] = ActionText(f"{what} in “{post.thread.title}”",
                                         f"/threads/{post.thread.id}#post-{post.id}")
    return out


async def contributions(user_id: int, viewer: Any) -> list[Contribution]:
    """The member's forum posts (not deleted) in rooms the viewer may read."""
    query = Post.objects.filter(author=user_id, deleted=False)
    if viewer is None:
        query = query.filter(thread__room__visibility="public")
    return [Contribution("forum posts", await query.count())]
