"""Matrix rules of the core, accounts and the forum."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx2
from support.api import DEFAULT_PASSWORD, unique_name
from websockets.sync.client import connect

from .matrix import (
    ADMINS,
    ALL,
    MEMBERS,
    MODERATORS,
    HttpRule,
    Principal,
    SendRule,
    World,
)


def _room(world: World, visibility: str) -> int:
    return int(world.api.create_room(world.admin.token, visibility=visibility)["id"])


def public_room(world: World) -> int:
    return world.once("public room", lambda w: _room(w, "public"))


def members_room(world: World) -> int:
    return world.once("members room", lambda w: _room(w, "members"))


def new_thread(world: World, room: int | None = None) -> int:
    room = room or public_room(world)
    return int(world.api.create_thread(world.admin.token, room)["id"])


def members_thread(world: World) -> int:
    return world.once("members thread", lambda w: new_thread(w, members_room(w)))


def owners_post(world: World) -> tuple[int, int]:
    """A fresh post written by `owner` (a member none of the principals is)."""
    thread = new_thread(world)
    with connect(f"{world.server.ws_url}?token={world.owner.token}", open_timeout=10) as ws:
        ws.send(json.dumps({"op": "send", "ref": "p", "channel": f"thread:{thread}",
                            "type": "post.create", "data": {"body": "The owner's post."}}))
        while True:
            frame = json.loads(ws.recv(timeout=10))
            if frame.get("ref") == "p":
                break
    assert frame["op"] == "ack", frame
    return thread, int(frame["data"]["id"])


def a_flag(world: World) -> int:
    thread, post = owners_post(world)
    with connect(f"{world.server.ws_url}?token={world.admin.token}", open_timeout=10) as ws:
        ws.send(json.dumps({"op": "send", "ref": "f", "channel": f"thread:{thread}",
                            "type": "post.flag", "data": {"post_id": post, "reason": "spam"}}))
        while True:
            frame = json.loads(ws.recv(timeout=10))
            if frame.get("ref") == "f":
                break
    assert frame["op"] == "ack", frame
    return int(frame["data"]["id"])


def form(who: Principal, path: str, data: dict[str, Any] | None = None) -> httpx2.Response:
    return who.http.post(path, data={"csrf_token": who.csrf, **(data or {})})


def api(who: Principal, method: str, path: str, body: Any = None) -> httpx2.Response:
    return who.http.request(method, path, json=body, headers=who.auth)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def own_session(world: World, who: Principal, path: str, data: dict[str, Any]
                ) -> httpx2.Response:
    """A form that changes who the session is (sign in, register, sign out): sent from a
    session of its own, signed in as `who`, so the principal's session stays as it was."""
    with httpx2.Client(base_url=world.server.base_url, trust_env=False) as client:
        token = _CSRF.search(client.get("/login").text).group(1)
        if who.user is not None:
            client.post("/login", data={"username": who.user.username,
                                        "password": who.user.password, "csrf_token": token})
            token = _CSRF.search(client.get("/rooms").text).group(1)
        return client.post(path, data={"csrf_token": token, **data})


def _spare_token(world: World, who: Principal) -> int:
    """A token of `who`'s own to revoke (anonymous: the owner's, which it may not touch)."""
    user = who.user or world.owner
    r = world.api.http.post("/api/tokens", json={"username": user.username,
                                                 "password": user.password})
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def _fresh_credentials(world: World) -> dict[str, str]:
    user = world.api.register(unique_name("creds"))
    return {"username": user.username, "password": DEFAULT_PASSWORD}


HTTP = [
    HttpRule("GET", "/healthz", ALL, lambda w, p: p.http.get("/healthz")),
    # Served by client address (METRICS_ALLOW), not by role: the matrix runs on loopback.
    HttpRule("GET", "/metrics", ALL, lambda w, p: p.http.get("/metrics")),
    HttpRule("GET", "/api/openapi.json", ALL, lambda w, p: p.http.get("/api/openapi.json")),
    HttpRule("GET", "/static/{path}", ALL, lambda w, p: p.http.get("/static/live.js")),
    # accounts
    HttpRule("POST", "/api/users", ALL, lambda w, p: api(p, "POST", "/api/users", {
        "username": unique_name("reg"), "password": DEFAULT_PASSWORD})),
    HttpRule("POST", "/api/tokens", ALL,
             lambda w, p: api(p, "POST", "/api/tokens", _fresh_credentials(w))),
    HttpRule("GET", "/api/me", MEMBERS, lambda w, p: api(p, "GET", "/api/me")),
    HttpRule("GET", "/api/me/preferences", MEMBERS,
             lambda w, p: api(p, "GET", "/api/me/preferences")),
    HttpRule("PUT", "/api/me/preferences", MEMBERS,
             lambda w, p: api(p, "PUT", "/api/me/preferences", {"time_zone": None})),
    HttpRule("GET", "/settings", MEMBERS, lambda w, p: p.http.get("/settings")),
    HttpRule("POST", "/settings", MEMBERS, lambda w, p: p.http.post(
        "/settings", data={"csrf_token": p.csrf, "time_zone": ""})),
    HttpRule("GET", "/api/tokens", MEMBERS, lambda w, p: api(p, "GET", "/api/tokens")),
    HttpRule("DELETE", "/api/tokens/{id}", MEMBERS,
             lambda w, p: api(p, "DELETE", f"/api/tokens/{_spare_token(w, p)}")),
    HttpRule("PUT", "/api/users/{username}/roles", ADMINS, lambda w, p: api(
        p, "PUT", f"/api/users/{w.api.register(unique_name('promoted')).username}/roles",
        {"roles": ["expert"]})),
    HttpRule("GET", "/login", ALL, lambda w, p: p.http.get("/login")),
    HttpRule("POST", "/login", ALL,
             lambda w, p: own_session(w, p, "/login", _fresh_credentials(w))),
    HttpRule("GET", "/register", ALL, lambda w, p: p.http.get("/register")),
    HttpRule("POST", "/register", ALL, lambda w, p: own_session(w, p, "/register", {
        "username": unique_name("page"), "password": DEFAULT_PASSWORD,
        "password_confirm": DEFAULT_PASSWORD, "display_name": "New member"})),
    HttpRule("POST", "/logout", ALL, lambda w, p: own_session(w, p, "/logout", {})),
    HttpRule("GET", "/notifications", MEMBERS, lambda w, p: p.http.get("/notifications")),
    HttpRule("POST", "/notifications/read", MEMBERS,
             lambda w, p: p.http.post("/notifications/read", data={"csrf_token": p.csrf})),
    HttpRule("GET", "/api/notifications", MEMBERS,
             lambda w, p: api(p, "GET", "/api/notifications")),
    HttpRule("POST", "/api/notifications/read", MEMBERS,
             lambda w, p: api(p, "POST", "/api/notifications/read", {"all": True})),
    # forum API
    HttpRule("GET", "/api/rooms", ALL, lambda w, p: api(p, "GET", "/api/rooms")),
    HttpRule("POST", "/api/rooms", MODERATORS, lambda w, p: api(
        p, "POST", "/api/rooms", {"name": unique_name("Room "), "visibility": "public"})),
    HttpRule("GET", "/api/rooms/{id}", MEMBERS,
             lambda w, p: api(p, "GET", f"/api/rooms/{members_room(w)}")),
    HttpRule("GET", "/api/rooms/{id}/threads", MEMBERS,
             lambda w, p: api(p, "GET", f"/api/rooms/{members_room(w)}/threads")),
    HttpRule("POST", "/api/rooms/{id}/threads", MEMBERS, lambda w, p: api(
        p, "POST", f"/api/rooms/{public_room(w)}/threads", {"title": "T", "body": "B"})),
    HttpRule("GET", "/api/threads/{id}", MEMBERS,
             lambda w, p: api(p, "GET", f"/api/threads/{members_thread(w)}")),
    HttpRule("POST", "/api/threads/{id}/read", MEMBERS,
             lambda w, p: api(p, "POST", f"/api/threads/{members_thread(w)}/read", {"seq": 0})),
    HttpRule("GET", "/api/flags", MODERATORS, lambda w, p: api(p, "GET", "/api/flags")),
    HttpRule("POST", "/api/flags/{id}", MODERATORS, lambda w, p: api(
        p, "POST", f"/api/flags/{a_flag(w)}", {"action": "dismiss"})),
    # forum pages
    HttpRule("GET", "/rooms", ALL, lambda w, p: p.http.get("/rooms")),
    HttpRule("POST", "/rooms", MODERATORS, lambda w, p: form(p, "/rooms", {
        "name": unique_name("Room "), "visibility": "public", "description": ""})),
    HttpRule("GET", "/rooms/{id}", MEMBERS, lambda w, p: p.http.get(f"/rooms/{members_room(w)}")),
    HttpRule("POST", "/rooms/{id}/threads", MEMBERS, lambda w, p: form(
        p, f"/rooms/{public_room(w)}/threads", {"title": "T", "body": "B"})),
    HttpRule("GET", "/threads/{id}", MEMBERS,
             lambda w, p: p.http.get(f"/threads/{members_thread(w)}")),
    HttpRule("POST", "/threads/{id}/posts", MEMBERS,
             lambda w, p: form(p, f"/threads/{new_thread(w)}/posts", {"body": "Hi"})),
    HttpRule("POST", "/threads/{id}/lock", MODERATORS,
             lambda w, p: form(p, f"/threads/{new_thread(w)}/lock", {"locked": "true"})),
    HttpRule("POST", "/threads/{id}/pin", MODERATORS,
             lambda w, p: form(p, f"/threads/{new_thread(w)}/pin", {"pinned": "true"})),
    HttpRule("GET", "/posts/{id}/edit", MODERATORS,
             lambda w, p: p.http.get(f"/posts/{owners_post(w)[1]}/edit")),
    HttpRule("POST", "/posts/{id}/edit", MODERATORS,
             lambda w, p: form(p, f"/posts/{owners_post(w)[1]}/edit", {"body": "Edited"})),
    HttpRule("GET", "/posts/{id}/delete", MODERATORS,
             lambda w, p: p.http.get(f"/posts/{owners_post(w)[1]}/delete")),
    HttpRule("POST", "/posts/{id}/delete", MODERATORS,
             lambda w, p: form(p, f"/posts/{owners_post(w)[1]}/delete", {"confirm": "yes"})),
    HttpRule("GET", "/posts/{id}/flag", MEMBERS,
             lambda w, p: p.http.get(f"/posts/{owners_post(w)[1]}/flag")),
    HttpRule("POST", "/posts/{id}/flag", MEMBERS,
             lambda w, p: form(p, f"/posts/{owners_post(w)[1]}/flag", {"reason": "spam"})),
    HttpRule("GET", "/moderation/flags", MODERATORS, lambda w, p: p.http.get("/moderation/flags")),
    HttpRule("POST", "/moderation/flags/{id}", MODERATORS,
             lambda w, p: form(p, f"/moderation/flags/{a_flag(w)}", {"action": "dismiss"})),
]


def _post_target(world: World, who: Principal, data: dict[str, Any]
                 ) -> tuple[str, dict[str, Any]]:
    thread, post = owners_post(world)
    return f"thread:{thread}", {"post_id": post, **data}


SENDS = [
    SendRule("room", "thread.create", MEMBERS, lambda w, p: (
        f"room:{public_room(w)}", {"title": "Over the socket", "body": "Hello"})),
    SendRule("thread", "post.create", MEMBERS,
             lambda w, p: (f"thread:{new_thread(w)}", {"body": "Hello"})),
    SendRule("thread", "post.edit", MODERATORS,
             lambda w, p: _post_target(w, p, {"body": "Edited"})),
    SendRule("thread", "post.delete", MODERATORS, lambda w, p: _post_target(w, p, {})),
    SendRule("thread", "post.flag", MEMBERS,
             lambda w, p: _post_target(w, p, {"reason": "off topic"})),
    SendRule("thread", "thread.lock", MODERATORS,
             lambda w, p: (f"thread:{new_thread(w)}", {"locked": True})),
    SendRule("thread", "thread.pin", MODERATORS,
             lambda w, p: (f"thread:{new_thread(w)}", {"pinned": True})),
    SendRule("thread", "typing", MEMBERS, lambda w, p: (f"thread:{new_thread(w)}", {})),
]

