"""Suspending a member (issue 20, PROTOCOL.md "Community"): their sockets close and their
token and sessions stop at once on every process, signing in is refused with a reason, and
lifting the suspension lets them sign in again. Two processes on one Redis and one database."""

from __future__ import annotations

import httpx2
import pytest
from support.api import Api, User, create_admin, hidden_inputs, setup_forum
from support.servers import LiveServer, ServerFactory
from support.services import RedisServer
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio
SOCKET_CLOSED_FOR_POLICY = 1008


def browser_of(server: LiveServer, user: User) -> httpx2.Client:
    client = httpx2.Client(base_url=server.base_url, timeout=10, trust_env=False)
    form = hidden_inputs(client.get("/login").text)
    form.update({"username": user.username, "password": user.password})
    r = client.post("/login", data=form)
    assert r.status_code == 303, r.text[:300]
    return client


def signed_in_as(client: httpx2.Client) -> str:
    text = client.get("/rooms").text
    marker = 'data-user-id="'
    start = text.index(marker) + len(marker)
    return text[start:text.index('"', start)]


async def test_a_suspended_member_is_cut_off_at_once_on_two_processes(
    live_server: ServerFactory, redis_server: RedisServer, database_url: str
) -> None:
    a = live_server(database_url=database_url, broadcast_url=redis_server.url, name="A")
    b = live_server(database_url=database_url, broadcast_url=redis_server.url, name="B")
    admin = create_admin(a, display_name="Ada Admin")
    api_a, api_b = Api(a.base_url), Api(b.base_url)
    browser = browser_of(b, admin)  # the admin's own page session, on B
    session_b: httpx2.Client | None = None
    try:
        forum = setup_forum(api_a, admin)
        member, bystander = api_a.register(), api_b.register()
        session_b = browser_of(b, member)
        assert signed_in_as(session_b) == str(member.id)
        on_b = await WSClient.connect(b.ws_url, token=member.token, name="token socket on B")
        on_a = await WSClient.connect(
            a.ws_url, headers={"Cookie": f"collab={session_b.cookies['collab']}"},
            origin=a.origin, name="session socket on A")
        other = await WSClient.connect(b.ws_url, token=bystander.token, name="bystander on B")
        try:
            for sock in (on_b, on_a, other):
                await sock.join_ok(forum.channel)
            await on_b.post(forum.channel, "before the suspension")

            # Only admins suspend, never themselves; an unknown name is 404.
            assert api_b.http.post(f"/api/users/{member.username}/suspend",
                                   headers=bystander.auth).status_code == 403
            assert api_b.http.post(f"/api/users/{admin.username}/suspend",
                                   headers=admin.auth).status_code == 409
            assert api_b.http.post("/api/users/nobody-at-all/suspend",
                                   headers=admin.auth).status_code == 404

            done = api_a.http.post(f"/api/users/{member.username}/suspend", headers=admin.auth)
            assert done.status_code == 200, done.text
            assert done.json()["suspended"] is True
            # Both sockets close, the one on the other process too, without a frame from them.
            assert await on_b.closed_code() == SOCKET_CLOSED_FOR_POLICY
            assert await on_a.closed_code() == SOCKET_CLOSED_FOR_POLICY
            # The token and the session stop at once on both processes.
            for api in (api_a, api_b):
                assert api.http.get("/api/me", headers=member.auth).status_code == 401
            assert signed_in_as(session_b) == ""
            with pytest.raises(Exception, match="403|401"):
                await WSClient.connect(a.ws_url, token=member.token)
            # Everyone else goes on.
            await other.post(forum.channel, "still here")
        finally:
            for sock in (on_b, on_a, other):
                await sock.close()

        # Signing in is refused with the reason, to someone who knows the password only.
        refused = api_b.token_raw(member.username, member.password)
        assert refused.status_code == 403, refused.text
        assert "suspended" in refused.json()["error"]["message"]
        assert api_b.token_raw(member.username, "not the password").status_code == 401
        with httpx2.Client(base_url=a.base_url, timeout=10, trust_env=False) as page:
            form = hidden_inputs(page.get("/login").text)
            form.update({"username": member.username, "password": member.password})
            login = page.post("/login", data=form)
        assert login.status_code == 403 and "This account is suspended" in login.text
        # Suspended members are not in the directory.
        found = api_a.http.get("/api/members", params={"q": member.username},
                               headers=bystander.auth).json()
        assert found["total"] == 0

        audit = browser.get("/admin/audit").text
        assert f"suspended {member.username}</a>" in audit

        lifted = api_b.http.post(f"/api/users/{member.username}/unsuspend", headers=admin.auth)
        assert lifted.status_code == 200 and lifted.json()["suspended"] is False
        fresh = api_a.token(member.username, member.password)
        assert api_b.me(fresh)["id"] == member.id
        # What ended stays ended.
        assert api_a.http.get("/api/me", headers=member.auth).status_code == 401
        sock = await WSClient.connect(b.ws_url, token=fresh)
        try:
            await sock.join_ok(forum.channel)
            await sock.post(forum.channel, "back again")
        finally:
            await sock.close()
        assert f"lifted the suspension of {member.username}</a>" in \
            browser.get("/admin/audit").text
    finally:
        api_a.close()
        api_b.close()
        browser.close()
        if session_b is not None:
            session_b.close()


def test_admins_manage_members_from_a_page_without_javascript(
    live_server: ServerFactory,
) -> None:
    server = live_server()
    admin = create_admin(server)
    api = Api(server.base_url)
    member = api.register(display_name="Mo Member")
    bystander = api.register()
    admin_page, member_page = browser_of(server, admin), browser_of(server, bystander)
    try:
        # Only admins: a member is refused, a visitor sent to sign in.
        assert member_page.get("/admin/members").status_code == 403
        with httpx2.Client(base_url=server.base_url, trust_env=False) as visitor:
            assert visitor.get("/admin/members").status_code == 303
        found = admin_page.get("/admin/members", params={"q": "mo memb"})
        assert found.status_code == 200 and member.username in found.text
        assert bystander.username not in found.text
        csrf = hidden_inputs(found.text)["csrf_token"]
        path = f"/admin/members/{member.username}"

        r = admin_page.post(path, data={"csrf_token": csrf, "action": "roles",
                                        "expert": "on", "moderator": "on", "q": "mo memb"})
        assert r.status_code == 303 and "done=" in r.headers["location"]
        assert api.me(member.token)["roles"] == ["member", "expert", "moderator"]
        shown = admin_page.get(r.headers["location"]).text
        assert f"Roles of {member.username} saved." in shown
        r = admin_page.post(path, data={"csrf_token": csrf, "action": "roles", "expert": "on"})
        assert api.me(member.token)["roles"] == ["member", "expert"]

        r = admin_page.post(path, data={"csrf_token": csrf, "action": "suspend"})
        assert r.status_code == 303
        assert api.http.get("/api/me", headers=member.auth).status_code == 401
        assert "Suspended</span>" in admin_page.get("/admin/members?q=mo+memb").text
        assert api.token_raw(member.username, member.password).status_code == 403
        r = admin_page.post(path, data={"csrf_token": csrf, "action": "unsuspend"})
        assert r.status_code == 303
        assert api.token_raw(member.username, member.password).status_code == 201

        # An admin cannot suspend themself here either; a form without its token is refused.
        own = admin_page.post(f"/admin/members/{admin.username}",
                              data={"csrf_token": csrf, "action": "suspend"})
        assert own.status_code == 409 and "cannot suspend themselves" in own.text
        assert admin_page.post(path, data={"action": "suspend"}).status_code == 403
        assert member_page.post(path, data={
            "csrf_token": hidden_inputs(member_page.get("/rooms").text)["csrf_token"],
            "action": "suspend"}).status_code == 403
        assert api.token_raw(member.username, member.password).status_code == 201
    finally:
        api.close()
        admin_page.close()
        member_page.close()
