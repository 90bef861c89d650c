"""A `/ws` upgrade authenticated by the session cookie must come from our own origin, or any site a
member visits could open a socket in their name (PROTOCOL.md; DESIGN.md, Security)."""

from __future__ import annotations

import pytest
from support.api import Api, User
from support.servers import LiveServer
from support.wsclient import WSClient
from websockets.exceptions import InvalidStatus

pytestmark = pytest.mark.anyio


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


@pytest.fixture
def logged_in(server: LiveServer) -> tuple[User, dict[str, str]]:
    with Api(server.base_url) as api:
        user = api.register()
        cookies = api.login_session(user.username, user.password)
    assert cookies, "POST /login set no cookie"
    return user, cookies


async def test_cookie_socket_from_our_origin_is_signed_in(
    server: LiveServer, logged_in: tuple[User, dict[str, str]]
) -> None:
    user, cookies = logged_in
    c = await WSClient.connect(server.ws_url, headers={"Cookie": _cookie_header(cookies)},
                               origin=server.origin, name="same origin")
    try:
        # Only this member may join their own channel: proof the cookie signed the socket in.
        await c.join_ok(f"user:{user.id}")
    finally:
        await c.close()


async def test_cookie_socket_from_a_foreign_origin_is_refused(
    server: LiveServer, logged_in: tuple[User, dict[str, str]]
) -> None:
    user, cookies = logged_in
    try:
        c = await WSClient.connect(server.ws_url, headers={"Cookie": _cookie_header(cookies)},
                                   origin="https://evil.example", name="foreign origin")
    except InvalidStatus as exc:
        assert exc.response.status_code == 403, exc
        return
    # Accepted at first: then it must be closed with 1008, or at least not be signed in.
    try:
        reply = await c.join(f"user:{user.id}")
    except AssertionError:
        assert c.ws.close_code == 1008, f"closed with {c.ws.close_code}, expected 1008"
        return
    finally:
        await c.close()
    assert reply.get("op") == "error" and reply.get("code") in ("unauthenticated", "forbidden"), (
        f"a foreign-origin cookie socket acted as the member: {reply}"
    )
