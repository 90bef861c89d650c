"""Matrix rules of the webinars: schedule, registration, calendar files, pages, the live room
(`webinar:ID`) and the host's queue (`backstage:ID`) (docs/protocol.md, "Webinars").

The webinars are hosted by `host`, an expert none of the principals is: to the five roles, a
webinar is someone else's. So host-only actions (`question.answer`, `poll.create`,
`poll.close`) are the admin's alone, host-or-moderator ones (edit, console, chat.delete,
mutes, the queue) are the site moderators' and admin's, and an expert is a member there.
Members-only webinars are the default target (anonymous callers are refused by visibility);
the member-level sends use a public webinar, so their anonymous cells are refused by the
handler (`unauthenticated`), not by the join.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
from support.api import User, unique_name
from support.webinars import at, create_webinar, give_roles
from websockets.sync.client import connect

from .matrix import ADMINS, ALL, MEMBERS, MODERATORS, HttpRule, Principal, SendRule, World
from .rules_core import api, form

# Who may create webinars: experts, moderators, admins (the creator is the host).
CREATORS = frozenset({"expert", "moderator", "admin"})


# -- the host and its webinars ---------------------------------------------------------------------
def host(world: World) -> User:
    """The expert who hosts every webinar here (not one of the principals)."""
    def make(w: World) -> User:
        user = w.api.register(unique_name("host"))
        give_roles(w.api, w.admin, user, ["expert"])
        return user
    return world.once("webinar host", make)


def send_as(world: World, user: User, channel: str, type_: str, data: dict[str, Any]
            ) -> dict[str, Any]:
    """One acknowledged send by `user` (set-up, not a cell); returns the ack's data."""
    with connect(f"{world.server.ws_url}?token={user.token}", open_timeout=10) as ws:
        ws.send(json.dumps({"op": "send", "ref": "w", "channel": channel, "type": type_,
                            "data": data, "key": unique_name("setup")}))
        while True:
            frame = json.loads(ws.recv(timeout=10))
            if frame.get("ref") == "w":
                break
    assert frame["op"] == "ack", (type_, frame)
    return dict(frame.get("data") or {})


def new_webinar(world: World, visibility: str = "members", **fields: Any) -> int:
    """A webinar of the host's, live now (started a minute ago, ends in two hours)."""
    made = create_webinar(world.api, host(world).token, visibility=visibility, **fields)
    assert made["status"] == "live" and made["host"]["id"] == host(world).id, made
    return int(made["id"])


def _furnish(world: World, webinar: int) -> int:
    """Something in every part of the room, so its pages and API show them to each role."""
    room = f"webinar:{webinar}"
    send_as(world, world.owner, room, "chat.send", {"body": "A message from the floor."})
    send_as(world, world.owner, room, "question.ask", {"body": "An open question?"})
    send_as(world, host(world), room, "poll.create",
            {"question": "How did you come?", "options": ["Train", "Bike"]})
    return webinar


def public_webinar(world: World) -> int:
    return world.once("public webinar", lambda w: _furnish(w, new_webinar(w, "public")))


def members_webinar(world: World) -> int:
    return world.once("members webinar", lambda w: _furnish(w, new_webinar(w, "members")))


def premoderated_webinar(world: World) -> int:
    def make(w: World) -> int:
        webinar = _furnish(w, new_webinar(w, "members", premoderation=True))
        pending_question(w, webinar)  # the console shows the queue with one in it
        return webinar
    return world.once("premoderated webinar", make)


def owners_question(world: World, webinar: int | None = None) -> tuple[int, int]:
    """A fresh open question asked by `owner`: (webinar, question)."""
    webinar = webinar or members_webinar(world)
    ack = send_as(world, world.owner, f"webinar:{webinar}", "question.ask",
                  {"body": unique_name("Question ")})
    assert ack["state"] == "open", ack
    return webinar, int(ack["id"])


def pending_question(world: World, webinar: int | None = None) -> tuple[int, int]:
    """A fresh question of `owner`'s waiting for approval: (webinar, question)."""
    webinar = webinar or premoderated_webinar(world)
    ack = send_as(world, world.owner, f"webinar:{webinar}", "question.ask",
                  {"body": unique_name("Held question ")})
    assert ack["state"] == "pending", ack
    return webinar, int(ack["id"])


def owners_message(world: World) -> tuple[int, int]:
    webinar = members_webinar(world)
    ack = send_as(world, world.owner, f"webinar:{webinar}", "chat.send",
                  {"body": unique_name("Message ")})
    return webinar, int(ack["id"])


def hosts_poll(world: World, webinar: int | None = None) -> tuple[int, int]:
    """A fresh open poll of the host's: (webinar, poll)."""
    webinar = webinar or public_webinar(world)
    ack = send_as(world, host(world), f"webinar:{webinar}", "poll.create",
                  {"question": unique_name("Poll "), "options": ["Yes", "No", "Maybe"]})
    return webinar, int(ack["id"])


# -- HTTP ------------------------------------------------------------------------------------------
def _registered(world: World, who: Principal, webinar: int) -> int:
    """Register `who` first (a cancel needs a registration of one's own to cancel)."""
    if who.user is not None:
        r = world.api.http.post(f"/api/webinars/{webinar}/register", headers=who.auth)
        assert r.status_code in (200, 201), r.text
    return webinar


def _form_fields(**fields: str) -> dict[str, str]:
    return {"title": unique_name("Workshop "), "description": "Bring a *laptop*.",
            "starts_at": "2031-05-01T14:00", "ends_at": "2031-05-01T15:30",
            "timezone": "Europe/Paris", "speakers": "Ada\nGrace", "visibility": "members",
            "capacity": "", "link": "", **fields}


def _act(who: Principal, webinar: int, type_: str, data: dict[str, Any]) -> httpx2.Response:
    """A live-room action as the page without JavaScript posts it."""
    return form(who, f"/webinars/{webinar}/act", {"type": type_, "back": "live", **data})


def _act_delete(world: World, who: Principal) -> httpx2.Response:
    webinar, message = owners_message(world)
    return _act(who, webinar, "chat.delete", {"message_id": str(message)})


HTTP = [
    # API
    HttpRule("GET", "/api/webinars", ALL,
             lambda w, p: api(p, "GET", f"/api/webinars?when=upcoming&x={public_webinar(w)}")),
    HttpRule("POST", "/api/webinars", CREATORS, lambda w, p: api(p, "POST", "/api/webinars", {
        "title": unique_name("Webinar "), "starts_at": at(60), "visibility": "members"})),
    HttpRule("GET", "/api/channels/{channel}/presence", ALL,
             lambda w, p: api(p, "GET", f"/api/channels/webinar:{public_webinar(w)}/presence")),
    HttpRule("GET", "/api/channels/{channel}/presence", MEMBERS,
             lambda w, p: api(p, "GET",
                              f"/api/channels/webinar:{members_webinar(w)}/presence")),
    HttpRule("GET", "/api/webinars/{id}", MEMBERS,
             lambda w, p: api(p, "GET", f"/api/webinars/{members_webinar(w)}")),
    # Host, site moderators and admins; an expert edits only their own.
    HttpRule("PATCH", "/api/webinars/{id}", MODERATORS,
             lambda w, p: api(p, "PATCH", f"/api/webinars/{new_webinar(w)}",
                              {"title": "Renamed"})),
    HttpRule("POST", "/api/webinars/{id}/register", MEMBERS,
             lambda w, p: api(p, "POST", f"/api/webinars/{members_webinar(w)}/register")),
    HttpRule("DELETE", "/api/webinars/{id}/register", MEMBERS, lambda w, p: api(
        p, "DELETE", f"/api/webinars/{_registered(w, p, members_webinar(w))}/register")),
    HttpRule("GET", "/api/webinars/{id}/messages", MEMBERS,
             lambda w, p: api(p, "GET", f"/api/webinars/{members_webinar(w)}/messages")),
    # calendar files: the feed lists what the caller may see; a members-only file is refused
    HttpRule("GET", "/webinars.ics", ALL, lambda w, p: p.http.get("/webinars.ics")),
    HttpRule("GET", "/webinars/{id}.ics", MEMBERS,
             lambda w, p: p.http.get(f"/webinars/{members_webinar(w)}.ics")),
    # pages
    HttpRule("GET", "/webinars", ALL, lambda w, p: p.http.get("/webinars")),
    HttpRule("GET", "/webinars/new", CREATORS, lambda w, p: p.http.get("/webinars/new")),
    HttpRule("POST", "/webinars/new", CREATORS,
             lambda w, p: form(p, "/webinars/new", _form_fields())),
    HttpRule("GET", "/webinars/{id}", MEMBERS,
             lambda w, p: p.http.get(f"/webinars/{members_webinar(w)}")),
    HttpRule("GET", "/webinars/{id}/edit", MODERATORS,
             lambda w, p: p.http.get(f"/webinars/{members_webinar(w)}/edit")),
    HttpRule("POST", "/webinars/{id}/edit", MODERATORS,
             lambda w, p: form(p, f"/webinars/{new_webinar(w)}/edit", _form_fields())),
    HttpRule("POST", "/webinars/{id}/register", MEMBERS,
             lambda w, p: form(p, f"/webinars/{members_webinar(w)}/register")),
    HttpRule("POST", "/webinars/{id}/cancel", MEMBERS, lambda w, p: form(
        p, f"/webinars/{_registered(w, p, members_webinar(w))}/cancel")),
    HttpRule("GET", "/webinars/{id}/live", MEMBERS,
             lambda w, p: p.http.get(f"/webinars/{members_webinar(w)}/live")),
    HttpRule("GET", "/webinars/{id}/console", MODERATORS,
             lambda w, p: p.http.get(f"/webinars/{premoderated_webinar(w)}/console")),
    HttpRule("GET", "/webinars/{id}/present", MODERATORS,
             lambda w, p: p.http.get(f"/webinars/{premoderated_webinar(w)}/present")),
    HttpRule("GET", "/webinars/{id}/export/{what}.{format}", MODERATORS, lambda w, p: p.http.get(
        f"/webinars/{premoderated_webinar(w)}/export/questions.csv")),
    # The room's forms without JavaScript reach the same handlers as `send`: one member
    # action, one host-or-moderator action and one host-only action through that door.
    HttpRule("POST", "/webinars/{id}/act", MEMBERS, lambda w, p: _act(
        p, members_webinar(w), "chat.send", {"body": "Hello from a form"})),
    HttpRule("POST", "/webinars/{id}/act", MODERATORS, _act_delete),
    HttpRule("POST", "/webinars/{id}/act", ADMINS, lambda w, p: _act(
        p, members_webinar(w), "poll.create",
        {"question": "Form poll?", "options": ["Yes", "No", "", ""]})),
]


# -- sends -----------------------------------------------------------------------------------------
def _room(webinar: int) -> str:
    return f"webinar:{webinar}"


def _on_question(world: World, channel: str = "webinar", pending: bool = False,
                 webinar: int | None = None) -> tuple[str, dict[str, Any]]:
    """A fresh question of `owner`'s (open, or pending approval) to act on."""
    webinar, question = (pending_question(world, webinar) if pending
                         else owners_question(world, webinar))
    return f"{channel}:{webinar}", {"question_id": question}


def _on_poll(world: World, **data: Any) -> tuple[str, dict[str, Any]]:
    webinar, poll = hosts_poll(world)
    return _room(webinar), {"poll_id": poll, **data}


def _on_message(world: World) -> tuple[str, dict[str, Any]]:
    webinar, message = owners_message(world)
    return _room(webinar), {"message_id": message}


SENDS = [
    # webinar:ID — anyone signed in who may see it speaks; anonymous readers only read
    SendRule("webinar", "chat.send", MEMBERS,
             lambda w, p: (_room(public_webinar(w)), {"body": "Hello, room"})),
    SendRule("webinar", "question.ask", MEMBERS,
             lambda w, p: (_room(public_webinar(w)), {"body": "May I ask?"})),
    SendRule("webinar", "question.upvote", MEMBERS,
             lambda w, p: _on_question(w, webinar=public_webinar(w))),
    SendRule("webinar", "poll.vote", MEMBERS, lambda w, p: _on_poll(w, option=1)),
    # host and moderators (site moderators and admins)
    SendRule("webinar", "chat.delete", MODERATORS, lambda w, p: _on_message(w)),
    SendRule("webinar", "chat.slow_mode", MODERATORS,
             lambda w, p: (_room(new_webinar(w)), {"seconds": 30})),
    SendRule("webinar", "question.dismiss", MODERATORS, lambda w, p: _on_question(w)),
    SendRule("webinar", "question.approve", MODERATORS,
             lambda w, p: _on_question(w, pending=True)),
    SendRule("webinar", "question.premoderation", MODERATORS,
             lambda w, p: (_room(new_webinar(w)), {"enabled": True})),
    SendRule("webinar", "member.mute", MODERATORS,
             lambda w, p: (_room(new_webinar(w)), {"user_id": w.owner.id})),
    # the host's alone (and admins'): a site moderator is not the speaker
    SendRule("webinar", "question.answer", ADMINS, lambda w, p: _on_question(w)),
    SendRule("webinar", "poll.create", ADMINS, lambda w, p: (
        _room(members_webinar(w)), {"question": "Which day?", "options": ["Mon", "Tue"]})),
    SendRule("webinar", "poll.close", ADMINS, lambda w, p: _on_poll(w)),
    # backstage:ID — the queue, host and moderators only (anonymous: unauthenticated)
    SendRule("backstage", "question.approve", MODERATORS,
             lambda w, p: _on_question(w, channel="backstage", pending=True)),
    SendRule("backstage", "question.dismiss", MODERATORS,
             lambda w, p: _on_question(w, channel="backstage", pending=True)),
]
