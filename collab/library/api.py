"""JSON API of the library: entries, the review workflow, diffs, search (PROTOCOL.md, Library)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collab.accounts.auth import current_user, require_user
from collab.errors import Invalid
from collab.web import hub_of, id_param, read_json

from . import diff, reading, search, service


def timed(response: Response, started: float) -> Response:
    """`Server-Timing: app;dur=MS`: the handler's own time (bench/library.py reads it)."""
    response.headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response


def _id(request: Request) -> int:
    return int(request.path_params["id"])



async def entries(request: Request) -> Response:
    if request.method == "POST":
        user = await require_user(request)
        entry_id = await service.create_entry(hub_of(request), user, await read_json(request))
        return JSONResponse(await reading.entry_view(entry_id, user), status_code=201)
    started = time.perf_counter()
    found = await search.search(search.parse_request(request.query_params))
    response = JSONResponse(found.as_json())
    return timed(response, started)


async def entry(request: Request) -> JSONResponse:
    if request.method == "PUT":
        user = await require_user(request)
        await service.update_entry(hub_of(request), user, _id(request), await read_json(request))
        return JSONResponse(await reading.entry_view(_id(request), user, newest=True))
    viewer = await current_user(request)
    number = id_param(request, "revision")
    return JSONResponse(await reading.entry_view(_id(request), viewer, number))


async def _step(request: Request, action: str) -> JSONResponse:
    user = await require_user(request)
    hub = hub_of(request)
    if action == "review":
        state = await service.review(hub, user, _id(request), await read_json(request))
    elif action == "submit":
        body = await read_json(request) if await request.body() else {}
        state = await service.submit(hub, user, _id(request), body)
    elif action == "claim":
        state = await service.claim(hub, user, _id(request))
    else:
        state = await service.withdraw(hub, user, _id(request))
    view = await reading.entry_view(_id(request), user, newest=True)
    return JSONResponse({**view, "state": state})


async def submit(request: Request) -> JSONResponse:
    return await _step(request, "submit")


async def claim(request: Request) -> JSONResponse:
    return await _step(request, "claim")


async def review(request: Request) -> JSONResponse:
    return await _step(request, "review")


async def withdraw(request: Request) -> JSONResponse:
    return await _step(request, "withdraw")


async def feature(request: Request) -> JSONResponse:
    user = await require_user(request)
    featured = await service.set_featured(user, _id(request), await read_json(request))
    # Like the workflow's steps, it answers the entry (the newest revision the caller may see).
    view = await reading.entry_view(_id(request), user, newest=True)
    return JSONResponse({**view, "featured": featured})


def revision_pair(request: Request) -> tuple[int, int]:
    a = id_param(request, "from")
    b = id_param(request, "to")
    if a is None or b is None:
        raise Invalid("give two revision numbers: ?from=A&to=B", extra={"field": "from"})
    return a, b


async def entry_diff(request: Request) -> JSONResponse:
    viewer = await current_user(request)
    a, b = revision_pair(request)
    found = await service.load(_id(request), viewer)
    old = await reading.revision_content(found, viewer, a)
    new = await reading.revision_content(found, viewer, b)
    return JSONResponse({"id": found.id, "kind": found.row.kind, "from": a, "to": b,
                         "changes": diff.diff_contents(found.row.kind, old, new)})


async def topics(request: Request) -> JSONResponse:
    if request.method == "POST":
        user = await require_user(request)
        return JSONResponse(await service.add_topic(user, await read_json(request)),
                            status_code=201)
    return JSONResponse({"topics": await reading.topic_counts()})


async def mine(request: Request) -> JSONResponse:
    user = await require_user(request)
    return JSONResponse({"entries": await reading.my_entries(user)})


async def queue(request: Request) -> JSONResponse:
    user = await require_user(request)
    return JSONResponse(await reading.review_queue(user))


routes = [
    Route("/api/library", entries, methods=["GET", "POST"]),
    Route("/api/library/topics", topics, methods=["GET", "POST"]),
    Route("/api/library/mine", mine, methods=["GET"]),
    Route("/api/library/queue", queue, methods=["GET"]),
    Route("/api/library/{id:id}", entry, methods=["GET", "PUT"]),
    Route("/api/library/{id:id}/submit", submit, methods=["POST"]),
    Route("/api/library/{id:id}/withdraw", withdraw, methods=["POST"]),
    Route("/api/library/{id:id}/claim", claim, methods=["POST"]),
    Route("/api/library/{id:id}/review", review, methods=["POST"]),
    Route("/api/library/{id:id}/feature", feature, methods=["POST"]),
    Route("/api/library/{id:id}/diff", entry_diff, methods=["GET"]),
]
