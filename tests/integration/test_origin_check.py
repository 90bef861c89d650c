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
    _, cookies = logged_in
    # docs/protocol.md: refused before the handshake completes, with HTTP 403.
    for origin in ("https://evil.example", f"http://127.0.0.1:{server.port + 1}", "null"):
        with pytest.raises(InvalidStatus) as refused:
            c = await WSClient.connect(server.ws_url, headers={"Cookie": _cookie_header(cookies)},
                                       origin=origin, name="foreign origin")
            await c.close()
        assert refused.value.response.status_code == 403, (origin, refused.value)


async def test_foreign_origin_may_still_use_a_token(
    server: LiveServer, logged_in: tuple[User, dict[str, str]]
) -> None:
    """A token is not ambient authority (a page cannot steal it by being visited), so the
    Origin check applies to the cookie only: bots and other sites' apps use tokens."""
    user, _ = logged_in
    c = await WSClient.connect(server.ws_url, token=user.token, origin="https://app.example",
                               name="token from another origin")
    try:
        await c.join_ok(f"user:{user.id}")
    finally:
        await c.close()
