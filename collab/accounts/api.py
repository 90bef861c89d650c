"""/api/users, /api/tokens, /api/me."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from collab.errors import NotFound, RateLimited
from collab.web import read_json

from .auth import require_user
from .models import User
from .service import (
    check_credentials,
    create_user,
    issue_token,
    set_roles,
    validate_registration,
)


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def register(request: Request) -> JSONResponse:
    username, password, display_name = validate_registration(await read_json(request))
    user = await create_user(username, password, display_name)
    return JSONResponse(user.public(), status_code=201)


async def tokens(request: Request) -> JSONResponse:
    data = await read_json(request)
    key = f"{client_key(request)}:{str(data.get('username'))[:40].lower()}"
    limiter = request.app.state.login_limiter
    if not limiter.hit(key):
        wait = limiter.retry_after(key)
        raise RateLimited(f"too many sign-in attempts; retry in {wait} s", retry_after=wait)
    user = await check_credentials(data.get("username"), data.get("password"))
    return JSONResponse({"token": await issue_token(user)}, status_code=201)


async def me(request: Request) -> JSONResponse:
    user = await require_user(request)
    return JSONResponse(user.me())


async def user_roles(request: Request) -> JSONResponse:
    """`PUT /api/users/{username}/roles` `{"roles": [...]}`: admins only, audited."""
    actor = await require_user(request)
    user = await User.objects.get_or_none(username=request.path_params["username"])
    if user is None:
        raise NotFound("no such user")
    data = await read_json(request)
    user = await set_roles(actor, user, data.get("roles"))
    await request.app.state.hub.access_changed(user.id)
    return JSONResponse(user.me())


routes = [
    Route("/api/users", register, methods=["POST"]),
    Route("/api/tokens", tokens, methods=["POST"]),
    Route("/api/me", me, methods=["GET"]),
    Route("/api/users/{username}/roles", user_roles, methods=["PUT"]),
]
