"""Leaving a project is respected, and a member can mute one (issue 21, item 5), on SQLite and
PostgreSQL: a member who left comes back only through an invitation they accept, and a muted
project's notifications do not reach them. Every route answered for anonymous, non-member,
viewer, member and owner; the pages work without JavaScript."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest
from support.api import Api, User, assert_error_shape, hidden_inputs
from support.servers import LiveServer, ServerFactory
from support.wsclient import WSClient

from .test_boards_helpers import add_member, bearer, ok, setup_project

pytestmark = pytest.mark.anyio


async def notes(server: LiveServer, user: User) -> list[dict[str, Any]]:
    """Every notification kept on the user's channel, oldest first."""
    async with await WSClient.connect(server.ws_url, token=user.token) as ws:
        await ws.join_ok(f"user:{user.id}", since=0)
        await ws.ping()  # the replay comes before the answer to a later frame
        return [f["data"] for f in ws.buffered(lambda f: f.get("op") == "event"
                                               and f.get("type") == "notification")]


def call(api: Api, method: str, path: str, user: User | None, body: Any = None
         ) -> httpx2.Response:
    return api.http.request(method, path, json=body, headers=bearer(user) if user else None)


def expect(response: httpx2.Response, status: int, code: str | None = None) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.request.url} -> {response.status_code}, "
        f"expected {status}: {response.text[:300]}")
    if code is not None:
        assert assert_error_shape(response)["code"] == code
    return response.json() if response.content else None


def invitations(found: list[dict[str, Any]], project_id: int) -> list[dict[str, Any]]:
    return [n for n in found
            if n["kind"] == "invitation" and n["url"] == f"/projects/{project_id}"]


async def test_a_member_who_left_comes_back_only_by_accepting_an_invitation(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        p = setup_project(api)
        pid = int(p.project["id"])
        path = f"/api/projects/{pid}"
        mate = api.register()
        # A first add is direct.
        added = expect(call(api, "POST", f"{path}/members", p.owner,
                            {"username": mate.username, "role": "member"}), 201)
        assert added["role"] == "member"
        expect(call(api, "DELETE", f"{path}/members/me", mate), 204)
        expect(call(api, "GET", path, mate), 404, "not_found")

        # Added again: only invited, and told once however often the owner adds them.
        for role in ("member", "viewer"):
            invited = expect(call(api, "POST", f"{path}/members", p.owner,
                                  {"username": mate.username.upper(), "role": role}), 202)
            assert invited["state"] == "invited" and invited["username"] == mate.username
        expect(call(api, "GET", path, mate), 404, "not_found")
        expect(call(api, "GET", f"/api/boards/{p.board_id}", mate), 404, "not_found")
        assert mate.username not in str(expect(call(api, "GET", path, p.owner), 200)["members"])
        [note] = invitations(await notes(server, mate), pid)
        assert note["url"] == f"/projects/{pid}" and p.project["name"] in note["text"]
        assert note["actor"]["username"] == p.owner.username

        # Declined: still not a member, the invitation is gone, and a new one tells again.
        declined = expect(call(api, "POST", f"{path}/invitation", mate, {"accept": False}), 200)
        assert declined["state"] == "declined"
        expect(call(api, "POST", f"{path}/invitation", mate, {"accept": True}), 404,
               "not_found")
        expect(call(api, "GET", path, mate), 404, "not_found")
        expect(call(api, "POST", f"{path}/members", p.owner,
                    {"username": mate.username, "role": "member"}), 202)
        assert len(invitations(await notes(server, mate), pid)) == 2

        # Accepted: a member with the invited role, and a board they may change again.
        joined = expect(call(api, "POST", f"{path}/invitation", mate, {"accept": True}), 200)
        assert (joined["state"], joined["role"]) == ("member", "member")
        assert expect(call(api, "GET", path, mate), 200)["role"] == "member"
        async with await WSClient.connect(server.ws_url, token=mate.token) as ws:
            await ok(ws, p.channel, "card.create", column_id=p.columns[0], title="Back")
        expect(call(api, "POST", f"{path}/invitation", mate, {"accept": True}), 404,
               "not_found")
        # Someone the owner removed (who did not leave) is added directly, as before.
        expect(call(api, "DELETE", f"{path}/members/{mate.id}", p.owner), 204)
        expect(call(api, "POST", f"{path}/members", p.owner,
                    {"username": mate.username, "role": "viewer"}), 201)
        for bad in ({}, {"accept": "maybe"}, {"accept": None}):
            expect(call(api, "POST", f"{path}/invitation", mate, bad), 422, "invalid")


async def test_a_muted_project_notifies_nothing_not_even_an_invitation_back(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        p = setup_project(api)
        pid = int(p.project["id"])
        path = f"/api/projects/{pid}"
        quiet, loud = api.register(), api.register()
        for user in (quiet, loud):
            add_member(api, p.owner, pid, user)
        assert expect(call(api, "GET", path, quiet), 200)["muted"] is False
        for muted in (True, True):  # twice is the same
            answer = expect(call(api, "PUT", f"{path}/mute", quiet, {"muted": muted}), 200)
            assert answer == {"project_id": pid, "muted": True}
        assert expect(call(api, "GET", path, quiet), 200)["muted"] is True
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as owner:
            card = (await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                             title="Muted"))["data"]
            await ok(owner, p.channel, "card.comment", card_id=card["id"],
                     body=f"@{quiet.username} and @{loud.username}, look")
            assert [n["kind"] for n in await notes(server, quiet)] == []
            assert [n["kind"] for n in await notes(server, loud)] == ["mention"]
            expect(call(api, "PUT", f"{path}/mute", quiet, {"muted": False}), 200)
            await ok(owner, p.channel, "card.comment", card_id=card["id"],
                     body=f"@{quiet.username} now?")
            assert [n["kind"] for n in await notes(server, quiet)] == ["mention"]

        # A mute outlives membership: leaving a muted project, no invitation back arrives,
        # but the invitation is there to accept.
        expect(call(api, "PUT", f"{path}/mute", quiet, {"muted": True}), 200)
        expect(call(api, "DELETE", f"{path}/members/me", quiet), 204)
        expect(call(api, "POST", f"{path}/members", p.owner,
                    {"username": quiet.username, "role": "member"}), 202)
        assert invitations(await notes(server, quiet), pid) == []
        expect(call(api, "POST", f"{path}/invitation", quiet, {"accept": True}), 200)
        for bad in ({}, {"muted": "loud"}):
            expect(call(api, "PUT", f"{path}/mute", quiet, bad), 422, "invalid")


async def test_who_may_leave_answer_and_mute(
    live_server: ServerFactory, database_url: str
) -> None:
    """Each new route for anonymous, non-member, viewer, member and owner of a private
    project (one who is not invited sees nothing, as for any private project)."""
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        p = setup_project(api, visibility="private")
        pid = int(p.project["id"])
        path = f"/api/projects/{pid}"
        viewer, member, stranger = api.register(), api.register(), api.register()
        add_member(api, p.owner, pid, viewer, "viewer")
        add_member(api, p.owner, pid, member, "member")
        routes = [("PUT", f"{path}/mute", {"muted": True}),
                  ("POST", f"{path}/invitation", {"accept": True}),
                  ("DELETE", f"{path}/members/me", None)]
        expected: list[tuple[User | None, list[tuple[int, str | None]]]] = [
            (None, [(401, "unauthenticated")] * 3),
            (stranger, [(404, "not_found")] * 3),
            (viewer, [(200, None), (404, "not_found"), (204, None)]),
            (member, [(200, None), (404, "not_found"), (204, None)]),
            # The last owner cannot leave.
            (p.owner, [(200, None), (404, "not_found"), (409, "conflict")]),
        ]
        for who, answers in expected:
            for (method, route, body), (status, code) in zip(routes, answers, strict=True):
                expect(call(api, method, route, who, body), status, code)
        # An invitee of a private project may answer and mute it, and see nothing else.
        expect(call(api, "POST", f"{path}/members", p.owner,
                    {"username": viewer.username, "role": "viewer"}), 202)
        expect(call(api, "PUT", f"{path}/mute", viewer, {"muted": False}), 200)
        expect(call(api, "GET", path, viewer), 404, "not_found")
        # Not invited, a project that does not exist and one that does answer alike.
        for who in (stranger, member):
            missing = expect(call(api, "POST", "/api/projects/999999/invitation", who,
                                  {"accept": True}), 404, "not_found")
            hidden = expect(call(api, "POST", f"{path}/invitation", who, {"accept": True}),
                            404, "not_found")
            assert missing["error"]["message"].replace("999999", "N") \
                == hidden["error"]["message"].replace(str(pid), "N")
        expect(call(api, "POST", f"{path}/invitation", viewer, {"accept": True}), 200)
        assert expect(call(api, "GET", path, viewer), 200)["role"] == "viewer"


class Browser:
    """A signed-in browser without JavaScript: cookies and plain forms."""

    def __init__(self, server: LiveServer, user: User) -> None:
        self.http = httpx2.Client(base_url=server.base_url, timeout=10, trust_env=False,
                                  headers={"Origin": server.base_url})
        form = hidden_inputs(self.http.get("/login").text)
        form.update(username=user.username, password=user.password)
        assert self.http.post("/login", data=form).status_code in (302, 303)

    def submit(self, page: str, action: str, **fields: str) -> httpx2.Response:
        """Post the form on `page` that posts to `action` and carries `fields` as hidden
        inputs (as a click on its button does)."""
        html = self.http.get(page).text
        for match in re.finditer(rf'<form[^>]*action="{re.escape(action)}"[^>]*>(.*?)</form>',
                                 html, re.DOTALL):
            data = hidden_inputs(match.group(1))
            if all(data.get(k) == v for k, v in fields.items()):
                return self.http.post(action, data=data)
        raise AssertionError(f"no form to {action} with {fields} on {page}")


def test_the_pages_answer_an_invitation_and_mute_without_javascript(
    server: LiveServer, api: Api
) -> None:
    p = setup_project(api, visibility="private")
    pid = int(p.project["id"])
    mate = api.register()
    add_member(api, p.owner, pid, mate)
    page = Browser(server, mate)
    owner = Browser(server, p.owner)
    try:
        # Mute is a toggle on the project page.
        r = page.submit(f"/projects/{pid}", f"/projects/{pid}/mute", muted="true")
        assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}?done=muted"
        shown = page.http.get(r.headers["location"]).text
        assert "Unmute this project" in shown and "Muted:" in shown
        assert page.submit(f"/projects/{pid}", f"/projects/{pid}/mute",
                           muted="false").status_code == 303
        assert "Mute this project" in page.http.get(f"/projects/{pid}").text

        # Leaving, then the owner's form adds them again: an invitation.
        r = page.submit(f"/projects/{pid}", f"/projects/{pid}/members/{mate.id}/remove")
        assert r.status_code == 303 and r.headers["location"] == "/projects"
        r = owner.http.post(f"/projects/{pid}/members", data={
            **hidden_inputs(owner.http.get(f"/projects/{pid}").text),
            "username": mate.username, "role": "member"})
        assert r.status_code == 303 and "done=invited" in r.headers["location"]
        assert "invited back" in owner.http.get(r.headers["location"]).text

        # The private project shows the invitee only the invitation; declined from the
        # notifications page, it is gone.
        invite = page.http.get(f"/projects/{pid}")
        assert invite.status_code == 200 and "invited back" in invite.text
        assert "Open the board" not in invite.text
        listed = page.http.get("/notifications").text
        assert f'action="/projects/{pid}/invitation"' in listed
        r = page.submit("/notifications", f"/projects/{pid}/invitation", accept="false")
        assert r.status_code == 303
        assert page.http.get(f"/projects/{pid}").status_code == 404
        # Invited again, accepted from the project page: a member, the board open to them.
        owner.http.post(f"/projects/{pid}/members", data={
            **hidden_inputs(owner.http.get(f"/projects/{pid}").text),
            "username": mate.username, "role": "member"})
        r = page.submit(f"/projects/{pid}", f"/projects/{pid}/invitation", accept="true")
        assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}?done=joined"
        assert "Open the board" in page.http.get(r.headers["location"]).text
        # The notification's form used again lands on the project.
        again = page.submit("/notifications", f"/projects/{pid}/invitation", accept="true")
        assert again.status_code == 303 and again.headers["location"] == f"/projects/{pid}"
        # A form without its CSRF token changes nothing.
        assert page.http.post(f"/projects/{pid}/mute", data={"muted": "true"}).status_code \
            in (400, 403)
    finally:
        page.http.close()
        owner.http.close()
