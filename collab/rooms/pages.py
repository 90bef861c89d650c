"""The forum's browser pages: rooms, threads, posts, and the moderators' flag queue and audit log.

Every rule (who may see, post, edit, moderate) lives in `service`; these handlers read forms,
call it, and answer with a page, a redirect, or the same form again with the error on it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from collab.accounts.auth import actor_of, current_user, require_user
from collab.accounts.models import User
from collab.errors import CollabError, Forbidden, Invalid, NotFound
from collab.web import (
    author_or_moderator,
    check_csrf,
    form_text,
    hub_of,
    is_htmx,
    is_moderator,
    iso,
    page_param,
    positive_param,
    render,
    shown_name,
    sign_in_redirect,
)
from collab.web.forms import form_action, post_form

from . import reading, service
from .activity import thread_bumped
from .models import Post, Thread

THREADS_PER_PAGE = 20
POSTS_PER_PAGE = 50
FLAGS_PER_PAGE = 50
AUDIT_PER_PAGE = 50


# -- small helpers -----------------------------------------------------------------------------

async def _moderator(request: Request) -> User:
    user = await require_user(request)
    if not is_moderator(user):
        raise Forbidden("Only moderators and admins may open this page.")
    return user


async def _post_with_thread(post_id: int, viewer: User | None) -> tuple[Post, Thread]:
    post = await Post.objects.select_related("author").get_or_none(id=post_id)
    if post is None or post.deleted:
        raise NotFound("This post does not exist or was deleted.")
    thread = await service.get_thread(post.thread.id, viewer)
    return post, thread


def _thread_url(thread_id: int, post_id: int | None = None) -> str:
    return f"/threads/{thread_id}" + (f"#post-{post_id}" if post_id else "")


# -- rooms -------------------------------------------------------------------------------------
async def rooms(request: Request) -> Response:
    """The room list; moderators and admins also get a form to create a room."""
    user = await current_user(request)
    context: dict[str, Any] = {"form": {"name": "", "description": "", "visibility": "public"}}

    async def page(status: int = 200) -> Response:
        context["rooms"] = [service.room_dict(r) for r in await service.visible_rooms(user)]
        context["can_create"] = is_moderator(user)
        return render(request, "rooms/list.html", context, status_code=status)

    if request.method != "POST":
        return await page()

    async def create(data: dict[str, str]) -> str:
        return f"/rooms/{(await service.create_room(await require_user(request), data)).id}"

    return await post_form(request, ("name", "description", "visibility"), create, page, context)


async def _room_context(request: Request, room_id: int, user: User | None) -> dict[str, Any]:
    room = await service.get_room(room_id, user)
    page = page_param(request)
    # The channel's head is read before the list so a thread created in between arrives over
    # the socket (replayed from `since`) rather than being missed; duplicates are dropped by id.
    head = await hub_of(request).head(f"room:{room.id}")
    threads = await (Thread.objects.select_related(["room", "author"]).filter(room=room.id)
                     .order_by(["-pinned", "-last_post_at"])
                     .offset((page - 1) * THREADS_PER_PAGE).limit(THREADS_PER_PAGE + 1).all())
    more = len(threads) > THREADS_PER_PAGE
    items = [service.thread_dict(t) for t in threads[:THREADS_PER_PAGE]]
    if user is not None:
        unread = await reading.unread_counts(user.id, [t["id"] for t in items])
        for item in items:
            item["unread"] = unread.get(item["id"], 0)
    return {"room": service.room_dict(room), "page": page, "has_next": more,
            "pinned": [t for t in items if t["pinned"]],
            "threads": [t for t in items if not t["pinned"]],
            "seq": head.seq, "epoch": head.epoch, "form": {"title": "", "body": ""}}


async def room(request: Request) -> Response:
    """A room's threads, pinned first, then by latest activity; page 1 follows `room:ID`."""
    user = await current_user(request)
    context = await _room_context(request, request.path_params["id"], user)
    return render(request, "rooms/room.html", context)


async def new_thread(request: Request) -> Response:
    await check_csrf(request)
    user = await require_user(request)
    room_id = request.path_params["id"]
    form = await request.form()
    data = {"title": form_text(form, "title"), "body": form_text(form, "body")}

    async def action() -> str:
        thread = await service.create_thread(hub_of(request), actor_of(user), room_id, data)
        return _thread_url(thread.id)

    async def again(exc: CollabError) -> Response:
        context = await _room_context(request, room_id, user)  # no such room: its 404
        context.update(form=data, error=exc.message)
        return render(request, "rooms/room.html", context, status_code=exc.status)

    return await form_action(action, again)


# -- threads -----------------------------------------------------------------------------------
async def _thread_context(request: Request, thread_id: int, user: User | None) -> dict[str, Any]:
    thread = await service.get_thread(thread_id, user)
    before = positive_param(request, "before")
    channel = f"thread:{thread.id}"
    # Head first, then posts: a post written in between is then both on the page and replayed
    # over the socket, and the page drops the copy by id. The other order would lose it.
    hub = hub_of(request)
    head = await hub.head(channel)
    posts = await service.thread_posts(thread, before=before, limit=POSTS_PER_PAGE + 1)
    older = len(posts) > POSTS_PER_PAGE
    posts = posts[-POSTS_PER_PAGE:]
    members = await hub.members(channel)
    first_unread, unread = None, 0
    if user is not None and before is None and posts:
        # "New since your last visit" is against what the member had read before this page;
        # what it shows is read from now on.
        seen = await reading.last_read(user.id, thread.id)
        if seen is not None:
            fresh = [p for p in posts
                     if p.seq > seen and not p.deleted and p.author.id != user.id]
            first_unread, unread = (fresh[0].id if fresh else None), len(fresh)
        await reading.mark_read(user.id, thread.id, posts[-1].seq)
    return {
        "thread": service.thread_dict(thread),
        "room": service.room_dict(thread.room),
        "posts": await service.post_dicts(posts),
        "older_before": posts[0].seq if older and posts else None,
        # Only the newest page is live: older pages are history and get no socket.
        "live": before is None,
        "paged": before is not None,
        "seq": head.seq,
        "epoch": head.epoch,
        "members": members,
        "is_moderator": is_moderator(user),
        "reply": "",
        "first_unread_id": first_unread,
        "unread_count": unread,
    }


QUOTE_CHARS = 2_000


async def thread_page(request: Request) -> Response:
    """The latest posts of a thread (or older ones with `?before=SEQ`), live over `/ws/html`.
    `?reply_to=POST` and `?quote=POST` fill the reply form (the links under each post)."""
    user = await current_user(request)
    thread_id = request.path_params["id"]
    context = await _thread_context(request, thread_id, user)
    for name in ("reply_to", "quote"):
        if user is None or request.query_params.get(name) in (None, ""):
            continue
        try:
            target = await service.replied_post(thread_id, request.query_params[name])
        except Invalid:
            continue  # a post that is gone or elsewhere: an empty reply form
        context["replying_to"] = service.reply_target(target)
        if name == "quote":
            context["reply"] = quoted(target)
    return render(request, "rooms/thread.html", context)


def quoted(post: Post) -> str:
    """The post's Markdown as a block quote that names its author, for a reply to go under."""
    body = post.body[:QUOTE_CHARS] + ("…" if len(post.body) > QUOTE_CHARS else "")
    lines = [f"> {line}".rstrip() for line in body.splitlines()]
    return f"> **{shown_name(post.author)}** wrote:\n>\n" + "\n".join(lines) + "\n\n"


async def new_post(request: Request) -> Response:
    """The reply form without JavaScript: a plain POST, then back to the thread."""
    await check_csrf(request)
    user = await require_user(request)
    thread_id = request.path_params["id"]
    form = await request.form()
    body = form_text(form, "body")
    data = {"body": body, "reply_to": form_text(form, "reply_to")}

    async def action() -> str:
        _seq, post_id = await service.create_post(hub_of(request), actor_of(user), thread_id,
                                                  data)
        thread_bumped(hub_of(request), thread_id)
        if data["reply_to"]:
            return _thread_url(thread_id, post_id)
        return _thread_url(thread_id) + "#reply"

    async def again(exc: CollabError) -> Response:
        context = await _thread_context(request, thread_id, user)  # no such thread: its 404
        context.update(reply=body, error=exc.message)
        return render(request, "rooms/thread.html", context, status_code=exc.status)

    return await form_action(action, again)


def _flag_value(form: FormData, field: str) -> bool:
    raw = form_text(form, field).lower()
    if raw not in ("true", "false"):
        raise Invalid(f"{field} must be true or false")
    return raw == "true"


async def _set_thread_flag(request: Request, field: str) -> Response:
    await check_csrf(request)
    user = await require_user(request)
    thread_id = request.path_params["id"]
    form = await request.form()
    # An explicit value, not a toggle: two moderators pressing "Lock" at once both mean locked.
    await service.set_thread_flag(hub_of(request), actor_of(user), thread_id,
                                  {field: _flag_value(form, field)}, field)
    return RedirectResponse(_thread_url(thread_id), status_code=303)


async def lock_thread(request: Request) -> Response:
    return await _set_thread_flag(request, "locked")


async def pin_thread(request: Request) -> Response:
    return await _set_thread_flag(request, "pinned")


# -- posts -------------------------------------------------------------------------------------
async def edit_post(request: Request) -> Response:
    user = await current_user(request)
    if user is None and request.method == "GET":
        return sign_in_redirect(request)
    user = await require_user(request)
    post, thread = await _post_with_thread(request.path_params["id"], user)
    if not author_or_moderator(user, post.author.id):
        raise Forbidden("Only the author or a moderator may edit this post.")
    context: dict[str, Any] = {"post": service.post_dict(post, post.author),
                               "thread": service.thread_dict(thread), "body": post.body}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        body = form_text(form, "body")

        async def action() -> str:
            await service.edit_post(hub_of(request), actor_of(user), thread.id,
                                    {"post_id": post.id, "body": body})
            return _thread_url(thread.id, post.id)

        async def again(exc: CollabError) -> Response:
            context.update(body=body, error=exc.message)
            return render(request, "rooms/edit.html", context, status_code=exc.status)

        return await form_action(action, again)
    return render(request, "rooms/edit.html", context)


async def delete_post(request: Request) -> Response:
    """Delete after a confirmation: `hx-confirm` with JavaScript, a confirm page without."""
    user = await current_user(request)
    if user is None and request.method == "GET":
        return sign_in_redirect(request)
    user = await require_user(request)
    post, thread = await _post_with_thread(request.path_params["id"], user)
    if not author_or_moderator(user, post.author.id):
        raise Forbidden("Only the author or a moderator may delete this post.")
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        if form_text(form, "confirm") == "yes":
            await service.delete_post(hub_of(request), actor_of(user), thread.id,
                                      {"post_id": post.id})
            if is_htmx(request):
                # The socket removes the post from every open page, this one included.
                return render(request, "_flash.html", {"kind": "info",
                                                       "message": "The post was deleted."})
            return RedirectResponse(_thread_url(thread.id), status_code=303)
    return render(request, "rooms/delete.html", {"post": service.post_dict(post, post.author),
                                                 "thread": service.thread_dict(thread)})


async def flag_post(request: Request) -> Response:
    user = await current_user(request)
    if user is None and request.method == "GET":
        return sign_in_redirect(request)
    user = await require_user(request)
    post, thread = await _post_with_thread(request.path_params["id"], user)
    context: dict[str, Any] = {"post": service.post_dict(post, post.author),
                               "thread": service.thread_dict(thread), "reason": ""}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        reason = form_text(form, "reason")
        try:
            await service.flag_post(actor_of(user), thread.id,
                                    {"post_id": post.id, "reason": reason})
        except CollabError as exc:
            context.update(reason=reason, error=exc.message)
            return render(request, "rooms/flag.html", context, status_code=exc.status)
        context["done"] = True
    return render(request, "rooms/flag.html", context)


# -- moderation --------------------------------------------------------------------------------
async def flags_page(request: Request) -> Response:
    if await current_user(request) is None:
        return sign_in_redirect(request)
    await _moderator(request)
    page = page_param(request)
    flags = await service.open_flags(limit=FLAGS_PER_PAGE + 1, offset=(page - 1) * FLAGS_PER_PAGE)
    items = [{"id": f.id, "reason": f.reason, "created_at": iso(f.created_at),
              "reporter": f.reporter, "post": service.post_dict(f.post, f.post.author)}
             for f in flags[:FLAGS_PER_PAGE]]
    return render(request, "moderation/flags.html",
                  {"flags": items, "page": page, "has_next": len(flags) > FLAGS_PER_PAGE,
                   "notice": request.query_params.get("done", "")})


async def resolve_flag(request: Request) -> Response:
    await check_csrf(request)
    user = await _moderator(request)
    form = await request.form()
    action = form_text(form, "action")
    await service.resolve_flag(hub_of(request), user, request.path_params["id"], action)
    return RedirectResponse(f"/moderation/flags?done={quote(action)}", status_code=303)


routes = [
    Route("/rooms", rooms, methods=["GET", "POST"]),
    Route("/rooms/{id:id}", room, methods=["GET"]),
    Route("/rooms/{id:id}/threads", new_thread, methods=["POST"]),
    Route("/threads/{id:id}", thread_page, methods=["GET"]),
    Route("/threads/{id:id}/posts", new_post, methods=["POST"]),
    Route("/threads/{id:id}/lock", lock_thread, methods=["POST"]),
    Route("/threads/{id:id}/pin", pin_thread, methods=["POST"]),
    Route("/posts/{id:id}/edit", edit_post, methods=["GET", "POST"]),
    Route("/posts/{id:id}/delete", delete_post, methods=["GET", "POST"]),
    Route("/posts/{id:id}/flag", flag_post, methods=["GET", "POST"]),
    Route("/moderation/flags", flags_page, methods=["GET"]),
    Route("/moderation/flags/{id:id}", resolve_flag, methods=["POST"]),
]
