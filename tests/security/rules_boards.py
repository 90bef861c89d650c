"""Matrix rules of the boards (issue 8): projects, boards, columns and cards.

Projects are `World.owner`'s (a member none of the principals is), and site roles give no
standing in a project, so every cell asks: may someone who is not in this project do this? What
the code and docs/protocol.md (Boards) decide:

- a private project, its board, cards and pages answer 404 to everyone who is not a member,
  site admins included: its rows below are NOBODY;
- a public one is read by anyone, but changed only by its owners and members and managed only
  by its owners: its write rows are NOBODY too (403 for a signed-in stranger, 401 or the
  sign-in page for anonymous);
- anyone signed in may start a project and see their own tasks;
- leaving (`members/me`) needs membership and answering an invitation needs one (none of the
  principals is invited): NOBODY; muting needs to see the project: NOBODY on a private one,
  every signed-in principal on a public one. Viewers, members, owners and invitees of a
  project are tried route by route in tests/integration/test_boards_invitations.py.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
from support.api import unique_name
from websockets.sync.client import connect

from .matrix import ALL, MEMBERS, NOBODY, HttpRule, Principal, SendRule, World


def _owner_api(world: World, method: str, path: str, body: Any = None,
               status: int = 200) -> dict[str, Any]:
    r = world.api.http.request(method, path, json=body, headers=world.owner.auth)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text[:300]}"
    return dict(r.json()) if r.content else {}


def _project(world: World, visibility: str) -> dict[str, Any]:
    made = _owner_api(world, "POST", "/api/projects",
                      {"name": unique_name("Matrix project "), "visibility": visibility}, 201)
    board = _owner_api(world, "GET", f"/api/boards/{made['board_id']}")
    with connect(f"{world.server.ws_url}?token={world.owner.token}", open_timeout=10) as ws:
        ws.send(json.dumps({"op": "send", "ref": "c", "channel": f"board:{made['board_id']}",
                            "type": "card.create",
                            "data": {"column_id": board["columns"][0]["id"],
                                     "title": "The owner's card"}}))
        while True:
            frame = json.loads(ws.recv(timeout=10))
            if frame.get("ref") == "c":
                break
    assert frame["op"] == "ack", frame
    return {"id": made["id"], "board": made["board_id"],
            "columns": [c["id"] for c in board["columns"]], "card": frame["data"]["id"]}


def private(world: World) -> dict[str, Any]:
    return world.once("private project", lambda w: _project(w, "private"))


def public(world: World) -> dict[str, Any]:
    return world.once("public project", lambda w: _project(w, "public"))


def with_mate(world: World) -> tuple[dict[str, Any], int]:
    """A public project with a member besides its owner (someone to try to remove)."""
    def make(w: World) -> tuple[dict[str, Any], int]:
        project = _project(w, "public")
        mate = w.api.register(unique_name("mate"))
        _owner_api(w, "POST", f"/api/projects/{project['id']}/members",
                   {"username": mate.username, "role": "member"}, 201)
        return project, mate.id
    return world.once("project with a mate", make)


def form(who: Principal, path: str, data: dict[str, Any] | None = None) -> httpx2.Response:
    return who.http.post(path, data={"csrf_token": who.csrf, **(data or {})})


def api(who: Principal, method: str, path: str, body: Any = None) -> httpx2.Response:
    return who.http.request(method, path, json=body, headers=who.auth)


HTTP: list[HttpRule] = [
    # -- the API ---------------------------------------------------------------------------------
    HttpRule("GET", "/api/projects", ALL, lambda w, p: api(p, "GET", "/api/projects")),
    HttpRule("POST", "/api/projects", MEMBERS, lambda w, p: api(p, "POST", "/api/projects", {
        "name": unique_name("Own project "), "visibility": "private"})),
    HttpRule("GET", "/api/projects/{id}", NOBODY,
             lambda w, p: api(p, "GET", f"/api/projects/{private(w)['id']}")),
    HttpRule("PATCH", "/api/projects/{id}", NOBODY,
             lambda w, p: api(p, "PATCH", f"/api/projects/{public(w)['id']}",
                              {"name": "Taken over"})),
    HttpRule("DELETE", "/api/projects/{id}", NOBODY,
             lambda w, p: api(p, "DELETE", f"/api/projects/{public(w)['id']}")),
    HttpRule("POST", "/api/projects/{id}/members", NOBODY,
             lambda w, p: api(p, "POST", f"/api/projects/{public(w)['id']}/members",
                              {"username": p.user.username if p.user else "nobody",
                               "role": "owner"})),
    HttpRule("DELETE", "/api/projects/{id}/members/{user_id}", NOBODY,
             lambda w, p: api(p, "DELETE", f"/api/projects/{with_mate(w)[0]['id']}/members/"
                                           f"{with_mate(w)[1]}")),
    HttpRule("GET", "/api/channels/{channel}/presence", NOBODY,
             lambda w, p: api(p, "GET", f"/api/channels/board:{private(w)['board']}/presence")),
    HttpRule("DELETE", "/api/projects/{id}/members/me", NOBODY,
             lambda w, p: api(p, "DELETE", f"/api/projects/{public(w)['id']}/members/me")),
    HttpRule("POST", "/api/projects/{id}/invitation", NOBODY,
             lambda w, p: api(p, "POST", f"/api/projects/{public(w)['id']}/invitation",
                              {"accept": True})),
    HttpRule("PUT", "/api/projects/{id}/mute", NOBODY,
             lambda w, p: api(p, "PUT", f"/api/projects/{private(w)['id']}/mute",
                              {"muted": True})),
    HttpRule("PUT", "/api/projects/{id}/mute", MEMBERS,
             lambda w, p: api(p, "PUT", f"/api/projects/{public(w)['id']}/mute",
                              {"muted": True})),
    HttpRule("GET", "/api/boards/{id}", NOBODY,
             lambda w, p: api(p, "GET", f"/api/boards/{private(w)['board']}")),
    HttpRule("GET", "/api/cards/{id}", NOBODY,
             lambda w, p: api(p, "GET", f"/api/cards/{private(w)['card']}")),
    HttpRule("GET", "/api/me/tasks", MEMBERS, lambda w, p: api(p, "GET", "/api/me/tasks")),
    # -- pages -----------------------------------------------------------------------------------
    HttpRule("GET", "/projects", ALL, lambda w, p: p.http.get("/projects")),
    HttpRule("POST", "/projects", MEMBERS, lambda w, p: form(p, "/projects", {
        "name": unique_name("Form project "), "visibility": "private"})),
    HttpRule("GET", "/projects/{id}", NOBODY,
             lambda w, p: p.http.get(f"/projects/{private(w)['id']}")),
    HttpRule("POST", "/projects/{id}/settings", NOBODY,
             lambda w, p: form(p, f"/projects/{public(w)['id']}/settings", {"name": "Mine"})),
    HttpRule("POST", "/projects/{id}/members", NOBODY,
             lambda w, p: form(p, f"/projects/{public(w)['id']}/members", {
                 "username": p.user.username if p.user else "nobody", "role": "owner"})),
    HttpRule("POST", "/projects/{id}/members/{user_id}/remove", NOBODY,
             lambda w, p: form(p, f"/projects/{with_mate(w)[0]['id']}/members/"
                                  f"{with_mate(w)[1]}/remove")),
    HttpRule("POST", "/projects/{id}/invitation", NOBODY,
             lambda w, p: form(p, f"/projects/{public(w)['id']}/invitation", {"accept": "true"})),
    HttpRule("POST", "/projects/{id}/mute", NOBODY,
             lambda w, p: form(p, f"/projects/{private(w)['id']}/mute", {"muted": "true"})),
    HttpRule("POST", "/projects/{id}/mute", MEMBERS,
             lambda w, p: form(p, f"/projects/{public(w)['id']}/mute", {"muted": "true"})),
    HttpRule("GET", "/projects/{id}/delete", NOBODY,
             lambda w, p: p.http.get(f"/projects/{public(w)['id']}/delete")),
    HttpRule("POST", "/projects/{id}/delete", NOBODY,
             lambda w, p: form(p, f"/projects/{public(w)['id']}/delete", {"confirm": "yes"})),
    HttpRule("GET", "/me/tasks", MEMBERS, lambda w, p: p.http.get("/me/tasks")),
    HttpRule("GET", "/boards/{id}", NOBODY,
             lambda w, p: p.http.get(f"/boards/{private(w)['board']}")),
    HttpRule("POST", "/boards/{id}/cards", NOBODY,
             lambda w, p: form(p, f"/boards/{public(w)['board']}/cards", {
                 "column_id": str(public(w)["columns"][0]), "title": "Stranger's card"})),
    HttpRule("POST", "/boards/{id}/columns", NOBODY,
             lambda w, p: form(p, f"/boards/{public(w)['board']}/columns", {"title": "Mine"})),
    HttpRule("POST", "/columns/{id}/rename", NOBODY,
             lambda w, p: form(p, f"/columns/{public(w)['columns'][0]}/rename",
                               {"title": "Mine"})),
    HttpRule("POST", "/columns/{id}/move", NOBODY,
             lambda w, p: form(p, f"/columns/{public(w)['columns'][0]}/move", {"index": "1"})),
    HttpRule("GET", "/columns/{id}/delete", NOBODY,
             lambda w, p: p.http.get(f"/columns/{public(w)['columns'][0]}/delete")),
    HttpRule("POST", "/columns/{id}/delete", NOBODY,
             lambda w, p: form(p, f"/columns/{public(w)['columns'][0]}/delete",
                               {"confirm": "yes"})),
    HttpRule("GET", "/cards/{id}", NOBODY,
             lambda w, p: p.http.get(f"/cards/{private(w)['card']}")),
    HttpRule("POST", "/cards/{id}", NOBODY,
             lambda w, p: form(p, f"/cards/{public(w)['card']}", {
                 "version": "1", "title": "Overwritten", "description": "", "labels": "",
                 "due": ""})),
    HttpRule("POST", "/cards/{id}/move", NOBODY,
             lambda w, p: form(p, f"/cards/{public(w)['card']}/move", {
                 "version": "1", "column_id": str(public(w)["columns"][2]), "position": ""})),
    HttpRule("POST", "/cards/{id}/comments", NOBODY,
             lambda w, p: form(p, f"/cards/{public(w)['card']}/comments", {"body": "Hi"})),
    HttpRule("GET", "/cards/{id}/delete", NOBODY,
             lambda w, p: p.http.get(f"/cards/{public(w)['card']}/delete")),
    HttpRule("POST", "/cards/{id}/delete", NOBODY,
             lambda w, p: form(p, f"/cards/{public(w)['card']}/delete",
                               {"confirm": "yes", "version": "1"})),
]


def _on_public(data: dict[str, Any]) -> Any:
    """A send on the public board (readable by all, changeable by none of the principals)."""
    def target(world: World, who: Principal) -> tuple[str, dict[str, Any]]:
        project = public(world)
        values = {k: (v(project) if callable(v) else v) for k, v in data.items()}
        return f"board:{project['board']}", values
    return target


def _card(p: dict[str, Any]) -> int:
    return int(p["card"])


def _column(p: dict[str, Any]) -> int:
    return int(p["columns"][0])


SENDS: list[SendRule] = [
    SendRule("board", "card.create", NOBODY, _on_public({"column_id": _column, "title": "x"})),
    SendRule("board", "card.move", NOBODY, _on_public({
        "card_id": _card, "version": 1, "column_id": _column, "index": 0})),
    SendRule("board", "card.update", NOBODY, _on_public({
        "card_id": _card, "version": 1, "title": "x"})),
    SendRule("board", "card.delete", NOBODY, _on_public({"card_id": _card, "version": 1})),
    SendRule("board", "card.comment", NOBODY, _on_public({"card_id": _card, "body": "x"})),
    SendRule("board", "column.create", NOBODY, _on_public({"title": "x"})),
    SendRule("board", "column.rename", NOBODY, _on_public({"column_id": _column, "title": "x"})),
    SendRule("board", "column.move", NOBODY, _on_public({"column_id": _column, "index": 1})),
    SendRule("board", "column.delete", NOBODY, _on_public({"column_id": _column,
                                                           "force": True})),
]
