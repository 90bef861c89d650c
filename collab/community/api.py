"""`PUT /api/me/profile`, `GET /api/members`, `GET /api/members/{username}`."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from collab.accounts.auth import require_user
from collab.accounts.service import user_by_name
from collab.errors import NotFound
from collab.web import int_param, read_json
from collab.web.toolkit import MAX_PAGE

from . import profiles


async def contributions(request: Request, user_id: int, viewer: Any) -> list[dict[str, Any]]:
    """What the member did in every product that tells (`Domain.contributions`)."""
    out: list[dict[str, Any]] = []
    for domain in request.app.state.domains:
        if domain.contributions is not None:
            for item in await domain.contributions(user_id, viewer):
                out.append({"label": item.label, "count": item.count, "url": item.url})
    return out


async def member_profile(request: Request, username: Any, viewer: Any) -> dict[str, Any]:
    user = await user_by_name(username)
    found = await profiles.profile(user.id) if user is not None else None
    if user is None or found is None:
        raise NotFound("no such member")
    return {**found, "contributions": await contributions(request, user.id, viewer)}


async def put_profile(request: Request) -> JSONResponse:
    user = await require_user(request)
    data = await read_json(request)
    await profiles.save(user.id, await profiles.validate(data))
    return JSONResponse(await member_profile(request, user.username, user))


async def members(request: Request) -> JSONResponse:
    await require_user(request)
    search = profiles.search_of(request.query_params)
    page = int_param(request, "page", 1, minimum=1, maximum=MAX_PAGE) or 1
    total, results = await profiles.directory(
        profiles.Search(**{**search.__dict__, "page": page}))
    return JSONResponse({"total": total, "page": page, "per_page": profiles.PER_PAGE,
                         "results": results})


async def member(request: Request) -> JSONResponse:
    viewer = await require_user(request)
    return JSONResponse(await member_profile(request, request.path_params["username"], viewer))


routes = [
    Route("/api/me/profile", put_profile, methods=["PUT"]),
    Route("/api/members", members, methods=["GET"]),
    Route("/api/members/{username}", member, methods=["GET"]),
]
