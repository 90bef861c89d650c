"""JSON API of the forum: rooms, threads, posts (creating things; the socket changes them)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from collab.accounts.auth import actor_of, current_user, require_user
from collab.errors import Forbidden, Invalid
from collab.web import hub_of, id_param, int_param, is_moderator, read_json

from . import reading, service
from .models import Thread

MAX_PAGE = 1000
MAX_OFFSET = 1_000_000


def _int_param(request: Request, name: str, default: int | None, maximum: int | None = None
               ) -> int | None:
    return int_param(request, name, default, maximum=maximum or MAX_OFFSET)


def _path_id(request: Request, name: str = "id") -> int:
    return request.path_params[name]


async def rooms(request: Request) -> JSONResponse:
    if request.method == "POST":
        user = await require_user(request)
        room = await service.create_room(user, await read_json(request))
        return JSONResponse(service.room_dict(room), status_code=201)
    viewer = await current_user(request)
    return JSONResponse({"rooms": [service.room_dict(r) for r in
                                   await service.visible_rooms(viewer)]})


async def room(request: Request) -> JSONResponse:
    found = await service.get_room(_path_id(request), await current_user(request))
    return JSONResponse(service.room_dict(found))


async def room_threads(request: Request) -> JSONResponse:
    if request.method == "POST":
        user = await require_user(request)
        thread = await service.create_thread(hub_of(request), actor_of(user),
                                             _path_id(request), await read_json(request))
        return JSONResponse(service.thread_dict(thread), status_code=201)
    viewer = await current_user(request)
    found = await service.get_room(_path_id(request), viewer)
    limit = _int_param(request, "limit", 50, 200)
    offset = _int_param(request, "offset", 0)
    threads = await (Thread.objects.select_related(["room", "author"]).filter(room=found.id)
                     .order_by(["-pinned", "-last_post_at"]).offset(offset).limit(limit).all())
    items = [service.thread_dict(t) for t in threads]
    if viewer is not None:
        unread = await reading.unread_counts(viewer.id, [t["id"] for t in items])
        for item in items:
            item["unread"] = unread.get(item["id"], 0)
    return JSONResponse({"room": service.room_dict(found), "threads": items,
                         "total": found.thread_count})


async def thread(request: Request) -> JSONResponse:
    """The thread and its posts in seq order; `after`/`limit` page through long threads."""
    viewer = await current_user(request)
    found = await service.get_thread(_path_id(request), viewer)
    after = id_param(request, "after", minimum=0) or 0
    limit = _int_param(request, "limit", 500, MAX_PAGE)
    posts = await service.thread_posts(found, after=after, limit=limit + 1)
    more = len(posts) > limit
    posts = posts[:limit]
    body = service.thread_dict(found)
    body["posts"] = await service.post_dicts(posts)
    body["next_after"] = posts[-1].seq if more and posts else None
    head = await hub_of(request).head(f"thread:{found.id}")
    body["seq"], body["epoch"] = head.seq, head.epoch
    if viewer is not None:
        body["last_read_seq"] = await reading.last_read(viewer.id, found.id)
    return JSONResponse(body)


async def thread_read(request: Request) -> JSONResponse:
    """`POST /api/threads/{id}/read` `{"seq"}`: the caller has read the thread up to `seq`
    (never lowered; at most the channel's head)."""
    user = await require_user(request)
    found = await service.get_thread(_path_id(request), user)
    data = await read_json(request)
    seq = data.get("seq")
    head = (await hub_of(request).head(f"thread:{found.id}")).seq
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= head:
        raise Invalid(f"seq must be a whole number from 0 to the thread's seq ({head})",
                      extra={"field": "seq"})
    await reading.mark_read(user.id, found.id, seq)
    return JSONResponse({"last_read_seq": await reading.last_read(user.id, found.id)})


async def flags(request: Request) -> JSONResponse:
    user = await require_user(request)
    if not is_moderator(user):
        raise Forbidden("only moderators see the flag queue")
    items = await service.open_flags(limit=_int_param(request, "limit", 50, 200),
                                     offset=_int_param(request, "offset", 0))
    return JSONResponse({"flags": [
        {"id": f.id, "reason": f.reason, "post_id": f.post.id,
         "reporter": f.reporter.username, "created_at": f.created_at.isoformat() + "Z"}
        for f in items]})


async def resolve_flag(request: Request) -> JSONResponse:
    user = await require_user(request)
    data = await read_json(request)
    flag = await service.resolve_flag(hub_of(request), user, _path_id(request),
                                      data.get("action"))
    return JSONResponse({"id": flag.id, "resolution": flag.resolution})


routes = [
    Route("/api/rooms", rooms, methods=["GET", "POST"]),
    Route("/api/rooms/{id:id}", room, methods=["GET"]),
    Route("/api/rooms/{id:id}/threads", room_threads, methods=["GET", "POST"]),
    Route("/api/threads/{id:id}", thread, methods=["GET"]),
    Route("/api/threads/{id:id}/read", thread_read, methods=["POST"]),
    Route("/api/flags", flags, methods=["GET"]),
    Route("/api/flags/{id:id}", resolve_flag, methods=["POST"]),
]
