"""JSON API of the boards: projects and members over HTTP; board changes go over the socket."""

from __future__ import annotations

import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collab.accounts.auth import current_user, require_user
from collab.errors import NotFound
from collab.realtime import Hub
from collab.web import hub_of, read_json

from . import invitations, progress, reads, service
from .access import Access, board_access, project_access


class FastJSON(Response):
    """orjson: a board of 1,000 cards is about 0.5 MB of JSON; the stdlib encoder took 3x as long."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)



async def board_body(hub: Hub, access: Access) -> dict[str, Any]:
    """The board as `GET /api/boards/{id}` answers it, with the seq to follow it from."""
    # Head first: a change made while the board is read is then also replayed from `seq`,
    # never missed (clients apply events by id and rank, so seeing it twice is harmless).
    head = await hub.head(f"board:{access.board_id}")
    columns = await reads.board(access.board_id)
    return {"id": access.board_id, "project_id": access.project_id,
            "project": {"id": access.project_id, "name": access.name,
                        "visibility": access.visibility},
            "role": access.role, "seq": head.seq, "epoch": head.epoch, "columns": columns}


async def project_body(access: Access, viewer: Any = None) -> dict[str, Any]:
    project = await service.Project.objects.get(id=access.project_id)
    body = service.project_dict(project, access.board_id, access.role)
    body["members"] = await reads.members(access.project_id)
    body["progress"] = await progress.progress(access.board_id)
    body["muted"] = viewer is not None and await invitations.is_muted(access.project_id,
                                                                       viewer.id)
    return body


async def projects(request: Request) -> Response:
    if request.method == "POST":
        user = await require_user(request)
        created = await service.create_project(hub_of(request), user, await read_json(request))
        return JSONResponse(created, status_code=201)
    viewer = await current_user(request)
    return JSONResponse({"projects": await reads.visible_projects(viewer)})


async def project(request: Request) -> Response:
    project_id = request.path_params["id"]
    if request.method == "GET":
        viewer = await current_user(request)
        return FastJSON(await project_body(await project_access(project_id, viewer), viewer))
    user = await require_user(request)
    if request.method == "DELETE":
        await service.delete_project(hub_of(request), user, project_id)
        return Response(status_code=204)
    await service.update_project(hub_of(request), user, project_id, await read_json(request))
    return FastJSON(await project_body(await project_access(project_id, user), user))


async def members(request: Request) -> Response:
    user = await require_user(request)
    member, state = await service.set_member(hub_of(request), user, request.path_params["id"],
                                             await read_json(request))
    return JSONResponse(member, status_code={"added": 201, "invited": 202}.get(state, 200))


async def member(request: Request) -> Response:
    user = await require_user(request)
    await service.remove_member(hub_of(request), user, request.path_params["id"],
                                request.path_params["user_id"])
    return Response(status_code=204)


async def leave(request: Request) -> Response:
    """`DELETE /api/projects/{id}/members/me`: the caller leaves the project."""
    user = await require_user(request)
    await service.remove_member(hub_of(request), user, request.path_params["id"], user.id)
    return Response(status_code=204)


async def invitation(request: Request) -> Response:
    user = await require_user(request)
    return JSONResponse(await invitations.answer(hub_of(request), user, request.path_params["id"],
                                                 await read_json(request)))


async def mute(request: Request) -> Response:
    user = await require_user(request)
    muted = await invitations.set_muted(hub_of(request), user, request.path_params["id"],
                                        await read_json(request))
    return JSONResponse({"project_id": request.path_params["id"], "muted": muted})


def server_timing(response: Response, started: float) -> Response:
    """`Server-Timing: app;dur=MS`: the handler's time (bench/boards.py reads it)."""
    response.headers["server-timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
    return response


async def board(request: Request) -> Response:
    started = time.perf_counter()
    access = await board_access(request.path_params["id"], await current_user(request))
    return server_timing(FastJSON(await board_body(hub_of(request), access)), started)


async def card(request: Request) -> Response:
    viewer = await current_user(request)
    card_id = request.path_params["id"]
    board_id = await reads.card_board(card_id)
    if board_id is None:
        raise NotFound(f"no card {card_id}")
    access = await board_access(board_id, viewer, f"card {card_id}")
    found = await reads.card(board_id, card_id)
    if found is None:
        raise NotFound(f"no card {card_id}")
    found.update(board_id=board_id, project_id=access.project_id,
                 comment_list=await reads.comments(card_id))
    return FastJSON(found)


async def my_tasks(request: Request) -> Response:
    user = await require_user(request)
    return FastJSON({"tasks": await reads.tasks(user.id)})


routes = [
    Route("/api/projects", projects, methods=["GET", "POST"]),
    Route("/api/projects/{id:id}", project, methods=["GET", "PATCH", "DELETE"]),
    Route("/api/projects/{id:id}/members", members, methods=["POST"]),
    Route("/api/projects/{id:id}/members/me", leave, methods=["DELETE"]),
    Route("/api/projects/{id:id}/members/{user_id:id}", member, methods=["DELETE"]),
    Route("/api/projects/{id:id}/invitation", invitation, methods=["POST"]),
    Route("/api/projects/{id:id}/mute", mute, methods=["PUT"]),
    Route("/api/boards/{id:id}", board, methods=["GET"]),
    Route("/api/cards/{id:id}", card, methods=["GET"]),
    Route("/api/me/tasks", my_tasks, methods=["GET"]),
]
