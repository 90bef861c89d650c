"""Who may see and change a board: roles, private projects, access taken away, mentions."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest
from support.api import Api, assert_error_shape, hidden_inputs
from support.servers import LiveServer
from support.wsclient import WSClient

from .test_boards_helpers import (
    act,
    add_member,
    bearer,
    get_board,
    ok,
    refused,
    setup_project,
)

pytestmark = pytest.mark.anyio


def _status(api: Api, method: str, path: str, token_of: Any = None, **kw: Any) -> int:
    headers = bearer(token_of) if token_of is not None else None
    return api.http.request(method, path, headers=headers, **kw).status_code


async def test_a_viewers_sends_are_refused_and_change_nothing(server: LiveServer) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api)
        viewer = api.register()
        add_member(api, p.owner, int(p.project["id"]), viewer, "viewer")
        todo = p.columns[0]
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as owner, \
                await WSClient.connect(server.ws_url, token=viewer.token) as reader:
            card = (await ok(owner, p.channel, "card.create", column_id=todo,
                             title="Read me"))["data"]
            joined = await reader.join_ok(p.channel)
            before = get_board(api, p.board_id, viewer)
            assert before["role"] == "viewer"
            for type_, data in [
                ("card.create", {"column_id": todo, "title": "x"}),
                ("card.move", {"card_id": card["id"], "version": 1, "column_id": todo,
                               "index": 0}),
                ("card.update", {"card_id": card["id"], "version": 1, "title": "y"}),
                ("card.delete", {"card_id": card["id"], "version": 1}),
                ("card.comment", {"card_id": card["id"], "body": "z"}),
                ("column.create", {"title": "c"}),
                ("column.rename", {"column_id": todo, "title": "c"}),
                ("column.move", {"column_id": todo, "index": 1}),
                ("column.delete", {"column_id": todo, "force": True}),
            ]:
                refused(await act(reader, p.channel, type_, **data), "forbidden")
            after = get_board(api, p.board_id, viewer)
            assert after["columns"] == before["columns"] and after["seq"] == joined["seq"]


async def test_a_private_board_is_invisible_to_non_members_everywhere(server: LiveServer) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api, visibility="private")
        stranger = api.register()
        project_id = int(p.project["id"])
        card_id = None
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as owner:
            card_id = (await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                                title="Secret"))["data"]["id"]
        for who in (stranger, None):
            for path in (f"/api/projects/{project_id}", f"/api/boards/{p.board_id}",
                         f"/api/cards/{card_id}"):
                r = api.http.get(path, headers=bearer(who) if who else None)
                assert r.status_code == 404, (path, r.text)
                assert assert_error_shape(r)["code"] == "not_found"
            listed = api.http.get("/api/projects", headers=bearer(who) if who else None).json()
            assert project_id not in [x["id"] for x in listed["projects"]]
            # Not even a different message: "no board N" told a card was there, and where.
            missing = api.http.get("/api/cards/999999999",
                                   headers=bearer(who) if who else None).json()["error"]
            hidden = api.http.get(f"/api/cards/{card_id}",
                                  headers=bearer(who) if who else None).json()["error"]
            assert hidden["message"] == missing["message"].replace("999999999", str(card_id))
        # The same answer as for a board that does not exist, over the socket too.
        async with await WSClient.connect(server.ws_url, token=stranger.token) as ws:
            assert refused(await ws.join(p.channel), "not_found")
            assert refused(await ws.join("board:999999999"), "not_found")
            refused(await act(ws, p.channel, "card.create", column_id=p.columns[0], title="x"),
                    "not_found")
        async with await WSClient.connect(server.ws_url) as anon:
            assert refused(await anon.join(p.channel), "not_found")
        # Pages too.
        assert _status(api, "GET", f"/boards/{p.board_id}") == 404
        assert _status(api, "GET", f"/projects/{project_id}") == 404
        assert _status(api, "GET", f"/cards/{card_id}") == 404
        # Managing it is not possible either.
        assert _status(api, "POST", f"/api/projects/{project_id}/members", stranger,
                       json={"username": stranger.username, "role": "owner"}) == 404
        assert _status(api, "DELETE", f"/api/projects/{project_id}", stranger) == 404


async def test_a_public_board_is_read_by_anyone_and_changed_by_members_only(
    server: LiveServer,
) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api, visibility="public")
        stranger = api.register()
        board = get_board(api, p.board_id)
        assert board["role"] is None and len(board["columns"]) == 3
        async with await WSClient.connect(server.ws_url) as anon, \
                await WSClient.connect(server.ws_url, token=stranger.token) as other, \
                await WSClient.connect(server.ws_url, token=p.owner.token) as owner:
            await anon.join_ok(p.channel)
            await other.join_ok(p.channel)
            refused(await act(anon, p.channel, "card.create", column_id=p.columns[0], title="x"),
                    "unauthenticated")
            refused(await act(other, p.channel, "card.create", column_id=p.columns[0],
                              title="x"), "forbidden")
            await ok(owner, p.channel, "card.create", column_id=p.columns[0], title="Public")
            [event] = await anon.events(p.channel, 1)
            assert event["data"]["title"] == "Public"
            # Made private: the anonymous reader and the stranger leave the board at once.
            r = api.http.patch(f"/api/projects/{p.project['id']}", headers=bearer(p.owner),
                               json={"visibility": "private"})
            assert r.status_code == 200 and r.json()["visibility"] == "private", r.text
            for ws in (anon, other):
                await ws.wait_for(lambda f: f.get("op") == "error"
                                  and p.channel in f.get("message", ""))
                refused(await ws.join(p.channel), "not_found")
            await ok(owner, p.channel, "card.create", column_id=p.columns[0], title="Secret")
            await owner.ping()
            for ws in (anon, other):
                await ws.ping()
                assert not [f for f in ws.buffered() if f.get("op") == "event"
                            and f["data"].get("title") == "Secret"]
        assert get_board(api, p.board_id, p.owner)["project"]["visibility"] == "private"
        assert api.http.get(f"/api/boards/{p.board_id}").status_code == 404


async def test_removing_a_member_or_demoting_them_takes_effect_on_open_sockets(
    server: LiveServer,
) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api)
        project_id = int(p.project["id"])
        member, other = api.register(), api.register()
        add_member(api, p.owner, project_id, member, "member")
        add_member(api, p.owner, project_id, other, "member")
        async with await WSClient.connect(server.ws_url, token=member.token) as ws, \
                await WSClient.connect(server.ws_url, token=other.token) as ws2:
            await ws.join_ok(p.channel)
            await ws2.join_ok(p.channel)
            await ok(ws2, p.channel, "card.create", column_id=p.columns[0], title="ok")
            # Demoted to viewer: the next send is refused.
            add_member(api, p.owner, project_id, other, "viewer", changed=True)
            refused(await act(ws2, p.channel, "card.create", column_id=p.columns[0], title="no"),
                    "forbidden")
            # Removed: the socket is told and the private board is gone for it.
            r = api.http.delete(f"/api/projects/{project_id}/members/{member.id}",
                                headers=bearer(p.owner))
            assert r.status_code == 204, r.text
            notice = await ws.wait_for(lambda f: f.get("op") == "error"
                                       and p.channel in f.get("message", ""))
            assert "no longer" in notice["message"]
            refused(await act(ws, p.channel, "card.create", column_id=p.columns[0], title="x"),
                    "not_found")
        assert _status(api, "GET", f"/api/boards/{p.board_id}", member) == 404
        # The last owner stays.
        r = api.http.delete(f"/api/projects/{project_id}/members/{p.owner.id}",
                            headers=bearer(p.owner))
        assert r.status_code == 409, r.text
        r = api.http.post(f"/api/projects/{project_id}/members", headers=bearer(p.owner),
                          json={"username": p.owner.username, "role": "viewer"})
        assert r.status_code == 409, r.text
        # Members may not manage members; unknown people are named as such.
        assert _status(api, "POST", f"/api/projects/{project_id}/members", other,
                       json={"username": member.username}) == 403
        r = api.http.post(f"/api/projects/{project_id}/members", headers=bearer(p.owner),
                          json={"username": "nobody-by-this-name"})
        assert r.status_code == 404 and assert_error_shape(r)["code"] == "not_found"


async def test_an_at_mention_of_a_member_notifies_them_and_nobody_else(
    server: LiveServer,
) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api)
        project_id = int(p.project["id"])
        mate, outsider = api.register(), api.register()
        add_member(api, p.owner, project_id, mate, "viewer")
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as owner, \
                await WSClient.connect(server.ws_url, token=mate.token) as inbox, \
                await WSClient.connect(server.ws_url, token=outsider.token) as other_inbox:
            await inbox.join_ok(f"user:{mate.id}")
            await other_inbox.join_ok(f"user:{outsider.id}")
            card = (await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                             title="Mentions"))["data"]
            await ok(owner, p.channel, "card.comment", card_id=card["id"],
                     body=f"@{mate.username} and @{outsider.username}, please look.")
            [note] = await inbox.events(f"user:{mate.id}", 1)
            assert note["type"] == "notification"
            assert note["data"]["url"] == f"/cards/{card['id']}"
            assert p.owner.username in str(note["actor"])
            assert f"card #{card['id']}" in note["data"]["text"]
            # No card text: replay must not bring it back once it is edited or deleted.
            assert "Mentions" not in note["data"]["text"]
            # A description naming them again does not notify twice; a new name does.
            await ok(owner, p.channel, "card.update", card_id=card["id"], version=1,
                     description=f"Owner: @{mate.username}.")
            [again] = await inbox.events(f"user:{mate.id}", 1)
            assert f"on card #{card['id']}" in again["data"]["text"]
            await ok(owner, p.channel, "card.update", card_id=card["id"], version=2,
                     description=f"Owner: @{mate.username}. Done.")
            await owner.ping()
            await inbox.ping()
            assert not inbox.buffered(lambda f: f.get("op") == "event")
            await other_inbox.ping()
            assert not other_inbox.buffered(lambda f: f.get("op") == "event")


async def test_ids_of_deleted_projects_and_cards_are_never_given_again(
        server: LiveServer) -> None:
    # SQLite gave the newest row's id to the next row once it was deleted: a new public
    # project got a deleted private one's board, whose replay still held the private cards,
    # and a client holding a deleted card moved the new card that took its id.
    with Api(server.base_url) as api:
        p = setup_project(api, visibility="private")
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as owner:
            gone = (await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                             title="Deleted secret"))["data"]
            await ok(owner, p.channel, "card.delete", card_id=gone["id"], version=1)
            again = (await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                              title="New card"))["data"]
            assert again["id"] != gone["id"]
            stale = await act(owner, p.channel, "card.move", card_id=gone["id"], version=1,
                              column_id=p.columns[1], index=0)
            refused(stale, "not_found")
            await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                     title="Private secret")
        r = api.http.delete(f"/api/projects/{p.project['id']}", headers=bearer(p.owner))
        assert r.status_code == 204, r.text
        other = setup_project(api, visibility="public")
        assert other.project["id"] != p.project["id"] and other.board_id != p.board_id
        async with await WSClient.connect(server.ws_url) as anonymous:
            joined = await anonymous.join_ok(other.channel, since=0)
            assert joined["seq"] == get_board(api, other.board_id)["seq"]
            await anonymous.ping()  # the replay comes before the answer to a later frame
            assert "secret" not in str(anonymous.buffered()).lower()


async def test_the_notifications_page_lists_a_members_own_newest_first(
    server: LiveServer,
) -> None:
    from .test_library_forms import Browser

    with Api(server.base_url) as api:
        p = setup_project(api)
        mate, other = api.register(), api.register()
        add_member(api, p.owner, int(p.project["id"]), mate, "member")
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as owner:
            card = (await ok(owner, p.channel, "card.create", column_id=p.columns[0],
                             title="Paged"))["data"]
            for n in range(55):
                await ok(owner, p.channel, "card.comment", card_id=card["id"],
                         body=f"@{mate.username} number {n}")
        reader, stranger, anonymous = Browser(server, mate), Browser(server, other), \
            Browser(server)
        try:
            first = reader.get("/notifications")
            assert first.status_code == 200
            links = first.text.count(f'href="/cards/{card["id"]}"')
            assert links == 50, "fifty a page"
            older = re.search(r'href="/notifications\?before=(\d+)"', first.text)
            assert older, "a link to older ones"
            second = reader.get(f"/notifications?before={older.group(1)}")
            assert second.text.count(f'href="/cards/{card["id"]}"') == 5
            assert f"card #{card['id']}" not in stranger.get("/notifications").text
            # A malformed or out-of-range `before` is the first page, never an error.
            for bad in ("0", "-1", "abc", "1.5", "9" * 40, "\x00", "\u0661", ""):
                page = reader.get("/notifications", params={"before": bad})
                assert page.status_code == 200
                assert page.text.count(f'href="/cards/{card["id"]}"') == 50, bad
            assert "No older notifications" in reader.get("/notifications?before=1").text
            signin = anonymous.get("/notifications")
            assert signin.status_code == 303 and "/login" in signin.headers["location"]
        finally:
            for b in (reader, stranger, anonymous):
                b.close()


def test_unstorable_usernames_are_invalid_and_hidden_columns_look_missing(
        server: LiveServer) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api, visibility="private")
        path = f"/api/projects/{p.project['id']}/members"
        for raw in (b'{"username":"a\\u0000","role":"member"}',
                    b'{"username":"a\\ud800","role":"member"}'):
            r = api.http.post(path, content=raw, headers={**bearer(p.owner),
                                                          "Content-Type": "application/json"})
            assert r.status_code == 422, r.text
        # An anonymous visitor gets one answer for a private board's column and a missing one.
        anonymous = httpx2.Client(base_url=server.base_url, timeout=10, trust_env=False,
                                  headers={"Origin": server.base_url})
        try:
            form = hidden_inputs(anonymous.get("/login").text)
            answers = {anonymous.post(f"/columns/{column}/{action}",
                                      data={**form, "title": "x", "index": "0"}).status_code
                       for column in (p.columns[0], 999_999_999)
                       for action in ("rename", "move")}
            assert len(answers) == 1, answers
        finally:
            anonymous.close()
