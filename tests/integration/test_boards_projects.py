"""Projects over HTTP: progress, my tasks, roles that change assignments, deleting; and the
pages without JavaScript (forms, CSRF, a stale save shown instead of overwriting)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3

import pytest
from support.api import Api, hidden_inputs
from support.servers import LiveServer, ServerFactory
from support.wsclient import WSClient

from .test_boards_helpers import add_member, bearer, get_board, ok, setup_project

pytestmark = pytest.mark.anyio
TODAY = dt.datetime.now(dt.UTC).date()


async def test_progress_counts_columns_done_and_overdue_cards(server: LiveServer) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api)
        todo, _, done = p.columns
        yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as me:
            late = (await ok(me, p.channel, "card.create", column_id=todo, title="Late",
                             due=yesterday))["data"]
            finished = (await ok(me, p.channel, "card.create", column_id=todo,
                                 title="Finished late", due=yesterday))["data"]
            for i in range(2):
                await ok(me, p.channel, "card.create", column_id=todo, title=f"Open {i}")
            await ok(me, p.channel, "card.move", card_id=finished["id"], version=1,
                     column_id=done, index=0)
        body = api.http.get(f"/api/projects/{p.project['id']}", headers=bearer(p.owner)).json()
        figures = body["progress"]
        assert [c["cards"] for c in figures["columns"]] == [3, 0, 1]
        assert (figures["total"], figures["done"], figures["share_done"]) == (4, 1, 0.25)
        assert figures["overdue"] == 1
        assert [c["id"] for c in figures["overdue_cards"]] == [late["id"]]
        assert figures["burnup"][-1] == {"date": TODAY.isoformat(), "done": 1, "total": 4}
        assert body["members"] == [{"id": p.owner.id, "username": p.owner.username,
                                    "display_name": p.owner.username, "role": "owner"}]
        # Private: without a member's session the project page is not there at all.
        assert api.http.get(f"/projects/{p.project['id']}").status_code == 404


async def test_my_tasks_by_due_date_and_a_viewer_loses_their_cards(server: LiveServer) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api)
        mate = api.register()
        project_id = int(p.project["id"])
        add_member(api, p.owner, project_id, mate, "member")
        todo, _, done = p.columns
        async with await WSClient.connect(server.ws_url, token=p.owner.token) as me:
            await me.join_ok(p.channel)
            later = (await ok(me, p.channel, "card.create", column_id=todo, title="Later",
                              assignees=[mate.username], due="2031-01-01"))["data"]
            sooner = (await ok(me, p.channel, "card.create", column_id=done, title="Sooner",
                               assignees=[mate.username.upper()], due="2030-01-01"))["data"]
            undated = (await ok(me, p.channel, "card.create", column_id=todo,
                                title="Whenever", assignees=[mate.username]))["data"]
            tasks = api.http.get("/api/me/tasks", headers=bearer(mate)).json()["tasks"]
            assert [t["id"] for t in tasks] == [sooner["id"], later["id"], undated["id"]]
            assert tasks[0]["done"] is True and tasks[0]["project"]["id"] == project_id
            assert tasks[1]["column"] == {"id": todo, "title": "To do"}
            assert api.http.get("/api/me/tasks", headers=bearer(p.owner)).json() == \
                {"tasks": []}
            # A viewer cannot be assigned: made a viewer, they come off every card, each card
            # with a new version and an event.
            await me.events(p.channel, 3)
            add_member(api, p.owner, project_id, mate, "viewer", changed=True)
            updates = await me.events(p.channel, 3, type="card.updated")
            assert sorted(e["data"]["id"] for e in updates) == \
                sorted([later["id"], sooner["id"], undated["id"]])
            assert all(e["data"]["assignees"] == [] and e["data"]["version"] == 2
                       for e in updates)
            assert api.http.get("/api/me/tasks", headers=bearer(mate)).json() == {"tasks": []}


async def test_renaming_and_deleting_a_project_reach_open_boards(server: LiveServer) -> None:
    with Api(server.base_url) as api:
        p = setup_project(api)
        mate = api.register()
        project_id = int(p.project["id"])
        add_member(api, p.owner, project_id, mate, "member")
        async with await WSClient.connect(server.ws_url, token=mate.token) as ws:
            await ws.join_ok(p.channel)
            r = api.http.patch(f"/api/projects/{project_id}", headers=bearer(p.owner),
                               json={"name": "Renamed project"})
            assert r.status_code == 200 and r.json()["name"] == "Renamed project"
            [renamed] = await ws.events(p.channel, 1)
            assert renamed["type"] == "project.updated"
            assert api.http.patch(f"/api/projects/{project_id}", headers=bearer(mate),
                                  json={"name": "Mine now"}).status_code == 403
            assert api.http.delete(f"/api/projects/{project_id}",
                                   headers=bearer(mate)).status_code == 403
            assert api.http.delete(f"/api/projects/{project_id}",
                                   headers=bearer(p.owner)).status_code == 204
            [gone] = await ws.events(p.channel, 1)
            assert gone["type"] == "board.deleted"
            await ws.wait_for(lambda f: f.get("op") == "error" and "no longer" in
                              f.get("message", ""))
        assert api.http.get(f"/api/boards/{p.board_id}",
                            headers=bearer(p.owner)).status_code == 404
        assert api.http.delete(f"/api/projects/{project_id}",
                               headers=bearer(p.owner)).status_code == 404
        # The board's stored history went with it: only the deletion's own event is left.
        url = server.env["DATABASE_URL"]
        assert url.startswith("sqlite"), url
        with sqlite3.connect(url.split("///", 1)[1]) as stored:
            kept = [r[0] for r in stored.execute(
                "SELECT type FROM rt_events WHERE channel = ?", (p.channel,))]
        assert kept == ["board.deleted"], kept


def _form(api: Api, path: str) -> dict[str, str]:
    page = api.http.get(path)
    assert page.status_code == 200, (path, page.status_code)
    return hidden_inputs(page.text)


async def test_without_javascript_the_forms_do_everything(server: LiveServer) -> None:
    with Api(server.base_url) as owner_api, Api(server.base_url) as api:
        owner = owner_api.register()
        owner_api.login_session(owner.username, owner.password)
        origin = {"Origin": server.base_url}
        # Create a project from the list page; without the CSRF token it is refused.
        r = owner_api.http.post("/projects", data={"name": "Form project"}, headers=origin)
        assert r.status_code == 403
        token = _form(owner_api, "/projects")["csrf_token"]
        r = owner_api.http.post("/projects", headers=origin, data={
            "csrf_token": token, "name": "Form project", "visibility": "private"})
        assert r.status_code == 303
        board_url = r.headers["location"]
        board_id = int(board_url.rsplit("/", 1)[1])
        board = get_board(owner_api, board_id, owner)
        todo, doing, done = [c["id"] for c in board["columns"]]
        # Add a card and move it with the "move to…" form.
        r = owner_api.http.post(f"/boards/{board_id}/cards", headers=origin, data={
            "csrf_token": token, "column_id": str(todo), "title": "From a form"})
        assert r.status_code == 303
        card = get_board(owner_api, board_id, owner)["columns"][0]["cards"][0]
        r = owner_api.http.post(f"/cards/{card['id']}/move", headers=origin, data={
            "csrf_token": token, "column_id": str(done), "version": "1", "position": ""})
        assert r.status_code == 303
        page = owner_api.http.get(board_url).text
        assert re.search(rf'id="cards-{done}"[^>]*>\s*<li id="card-{card["id"]}"', page)
        assert '<strong id="progress-done">1</strong>' in page
        # The editor with an old version is refused: both versions are shown.
        r = owner_api.http.post(f"/cards/{card['id']}", headers=origin, data={
            "csrf_token": token, "version": "1", "title": "Stale edit", "description": "",
            "labels": "", "due": ""})
        assert r.status_code == 409
        assert "changed by someone else" in r.text and 'value="Stale edit"' in r.text
        assert 'name="version" value="2"' in r.text
        r = owner_api.http.post(f"/cards/{card['id']}", headers=origin, data={
            "csrf_token": token, "version": "2", "title": "Fresh edit", "description": "Hi",
            "labels": "a, b", "due": "2030-02-03", "checklist-0-text": "step",
            "checklist-0-done": "on"})
        assert r.status_code == 303
        saved = get_board(owner_api, board_id, owner)["columns"][2]["cards"][0]
        assert (saved["title"], saved["labels"], saved["due"], saved["checklist"]) == \
            ("Fresh edit", ["a", "b"], "2030-02-03", [{"text": "step", "done": True}])
        # Comment, then the project page with its chart and members.
        r = owner_api.http.post(f"/cards/{card['id']}/comments", headers=origin,
                                data={"csrf_token": token, "body": "**Done** at last"})
        assert r.status_code == 303
        assert "<strong>Done</strong> at last" in owner_api.http.get(f"/cards/{card['id']}").text
        project_id = get_board(owner_api, board_id, owner)["project_id"]
        project_page = owner_api.http.get(f"/projects/{project_id}").text
        assert "<svg" in project_page and "1 of 1 cards done" in project_page
        mate = api.register()
        r = owner_api.http.post(f"/projects/{project_id}/members", headers=origin, data={
            "csrf_token": token, "username": mate.username, "role": "viewer"})
        assert r.status_code == 303
        assert f"@{mate.username}" in owner_api.http.get(f"/projects/{project_id}").text
        # A column with cards is deleted only after its confirmation page says so.
        confirm = owner_api.http.get(f"/columns/{done}/delete")
        assert confirm.status_code == 200 and "1 card" in confirm.text
        r = owner_api.http.post(f"/columns/{done}/delete", headers=origin,
                                data={"csrf_token": token, "confirm": "yes"})
        assert r.status_code == 303
        assert [c["id"] for c in get_board(owner_api, board_id, owner)["columns"]] == \
            [todo, doing]
        # The viewer's session sees the board but none of its forms, and cannot post them.
        api.login_session(mate.username, mate.password)
        viewer_page = api.http.get(board_url).text
        assert "kb-move-form" not in viewer_page and "New column" not in viewer_page
        mate_token = _form(api, "/projects")["csrf_token"]
        r = api.http.post(f"/boards/{board_id}/cards", headers=origin, data={
            "csrf_token": mate_token, "column_id": str(todo), "title": "Viewer card"})
        assert r.status_code == 403
        # My tasks needs a session; the delete confirmation removes the project.
        assert api.http.get("/me/tasks").status_code == 200
        r = owner_api.http.post(f"/projects/{project_id}/delete", headers=origin,
                                data={"csrf_token": token, "confirm": "yes"})
        assert r.status_code == 303
        assert owner_api.http.get(board_url).status_code == 404


async def test_my_tasks_page_groups_by_project_and_pages_fifty(
        live_server: ServerFactory, database_url: str) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        first, second = setup_project(api), None
        mate = api.register()
        second = setup_project(api, owner=first.owner)
        for p in (first, second):
            add_member(api, p.owner, int(p.project["id"]), mate, "member")
        async with await WSClient.connect(server.ws_url, token=first.owner.token) as me:
            for p, count in ((first, 45), (second, 6)):
                for i in range(count):
                    await ok(me, p.channel, "card.create", column_id=p.columns[0],
                             title=f"Task {i:02d}", assignees=[mate.username],
                             due=f"2030-01-{i % 28 + 1:02d}")
        api.login_session(mate.username, mate.password)
        names = sorted([first.project["name"], second.project["name"]], key=str.lower)
        page_one = api.http.get("/me/tasks").text
        assert "51 open, 0 done" in page_one and "Page 1 of 2" in page_one
        assert page_one.count('class="kb-task"') == 50
        # Grouped by project (by name), each group by due date.
        assert page_one.index(names[0]) < page_one.index(names[1])
        assert "Column: To do" in page_one and 'href="/me/tasks?page=2" rel="next"' in page_one
        page_two = api.http.get("/me/tasks", params={"page": "2"}).text
        assert page_two.count('class="kb-task"') == 1 and names[1] in page_two
        assert api.http.get("/me/tasks", params={"page": "3"}).status_code == 404
