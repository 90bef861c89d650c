"""/api/users, /api/tokens, /api/me."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collab.errors import Forbidden, NotFound
from collab.fields import text_field
from collab.web import hub_of, read_json
from collab.web.writelimit import client_address

from .auth import require_user
from .credentials import end_everything, issue_token, list_tokens, revoke_token
from .service import (
    check_credentials,
    check_sign_in_input,
    create_user,
    set_roles,
    set_suspended,
    user_by_name,
    validate_registration,
)
from .signin import SignInLimiter


def client_key(request: Request) -> str:
    """The client's address (from a trusted proxy's X-Forwarded-For when there is one)."""
    return client_address(request.scope)


def sign_in_limiter(request: Request) -> SignInLimiter:
    return request.app.state.login_limiter  # type: ignore[no-any-return]


async def register(request: Request) -> JSONResponse:
    username, password, display_name = validate_registration(await read_json(request))
    user = await create_user(username, password, display_name)
    return JSONResponse(user.public(), status_code=201)


async def tokens(request: Request) -> JSONResponse:
    """`POST /api/tokens` signs in and issues a token; `GET` lists the caller's tokens."""
    if request.method == "GET":
        user = await require_user(request)
        return JSONResponse({"tokens": [row.public() for row in await list_tokens(user)]})
    data = await read_json(request)
    username, password = data.get("username"), data.get("password")
    check_sign_in_input(username, password)
    name = text_field(data, "name", 80, required=False) or None
    limiter, address = sign_in_limiter(request), client_key(request)
    limiter.attempt(address, username)
    user = await check_credentials(username, password)
    limiter.succeeded(address, username)
    ttl = request.app.state.settings.token_ttl_days
    token, row = await issue_token(user, ttl, name)
    return JSONResponse({"token": token, **row.public()}, status_code=201)


async def revoke(request: Request) -> Response:
    """`DELETE /api/tokens/{id}`: the token stops working at once, on HTTP and on every socket
    it opened (they are checked again before their next action)."""
    user = await require_user(request)
    await revoke_token(user, request.path_params["id"])
    await hub_of(request).access_changed(user.id)
    return Response(status_code=204)


async def me(request: Request) -> JSONResponse:
    user = await require_user(request)
    return JSONResponse(user.me())


async def user_roles(request: Request) -> JSONResponse:
    """`PUT /api/users/{username}/roles` `{"roles": [...]}`: admins only, audited."""
    actor = await require_user(request)
    user = await user_by_name(request.path_params["username"])
    if user is None:
        raise NotFound("no such user")
    data = await read_json(request)
    user = await set_roles(actor, user, data.get("roles"))
    await hub_of(request).access_changed(user.id)
    return JSONResponse(user.me())


async def suspension(request: Request) -> JSONResponse:
    """`POST /api/users/{username}/suspend` and `/unsuspend`: admins only, audited. A suspended
    member's sessions and tokens end and their sockets close at once, in every process."""
    actor = await require_user(request)
    user = await user_by_name(request.path_params["username"])
    if user is None:
        if not actor.has_role("admin"):
            raise Forbidden("only admins suspend members")
        raise NotFound("no such user")
    suspend = request.url.path.endswith("/suspend")
    user = await set_suspended(actor, user, suspend)
    if suspend:
        await end_everything(user)
        await hub_of(request).access_changed(user.id)
    return JSONResponse({**user.me(), "suspended": user.suspended_at is not None})


routes = [
    Route("/api/users", register, methods=["POST"]),
    Route("/api/tokens", tokens, methods=["GET", "POST"]),
    Route("/api/tokens/{id:id}", revoke, methods=["DELETE"]),
    Route("/api/me", me, methods=["GET"]),
    Route("/api/users/{username}/roles", user_roles, methods=["PUT"]),
    Route("/api/users/{username}/suspend", suspension, methods=["POST"]),
    Route("/api/users/{username}/unsuspend", suspension, methods=["POST"]),
]
