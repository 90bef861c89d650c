"""The authorisation matrix's machinery: who is who, how a cell is tried, what allow and deny mean.

Each domain's rules live in `rules_<domain>.py`: for every HTTP route of the app and every
`send` type of every channel kind, which roles may, and how to try it. test_authz_matrix.py
fails when a route or send type has no rule, so the matrix grows with the app.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2
from support.api import Api, User, unique_name
from support.servers import LiveServer
from websockets.sync.client import connect

ROLES = ("anonymous", "member", "expert", "moderator", "admin")
ALL = frozenset(ROLES)
MEMBERS = frozenset(ROLES[1:])
MODERATORS = frozenset({"moderator", "admin"})
ADMINS = frozenset({"admin"})
NOBODY: frozenset[str] = frozenset()
DENIED_CODES = {"unauthenticated", "forbidden", "not_found"}


@dataclass
class Principal:
    role: str
    user: User | None
    http: httpx2.Client  # with the session cookie of a signed-in page, when a member
    csrf: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.user.token}"} if self.user else {}


@dataclass
class World:
    """The objects the cells act on, made by the admin (and `owner`, a member) up front."""

    server: LiveServer
    api: Api
    admin: User
    owner: User
    principals: dict[str, Principal] = field(default_factory=dict)
    made: dict[str, Any] = field(default_factory=dict)

    def fresh(self, what: str, make: Callable[[World], Any]) -> Any:
        """A new object per call (for cells that destroy or change what they act on)."""
        return make(self)

    def once(self, what: str, make: Callable[[World], Any]) -> Any:
        if what not in self.made:
            self.made[what] = make(self)
        return self.made[what]


@dataclass(frozen=True)
class HttpRule:
    """`call(world, principal) -> response`; `allowed`: the roles that get through."""

    method: str
    path: str
    allowed: frozenset[str]
    call: Callable[[World, Principal], httpx2.Response]


@dataclass(frozen=True)
class SendRule:
    kind: str
    type: str
    allowed: frozenset[str]
    # (channel, data) to try, made fresh for each role.
    target: Callable[[World, Principal], tuple[str, dict[str, Any]]]


def outcome(response: httpx2.Response) -> str:
    """allow, or deny: refused for who asked (401/403/404, or sent to the sign-in page)."""
    if response.status_code in (401, 403, 404):
        return "deny"
    if response.status_code in (302, 303) and "/login" in response.headers.get("location", ""):
        return "deny"
    assert response.status_code < 500, f"{response.request.url}: {response.text[:300]}"
    return "allow"


def send_outcome(world: World, who: Principal, channel: str, type_: str,
                 data: dict[str, Any]) -> str:
    url = world.server.ws_url + (f"?token={who.user.token}" if who.user else "")
    with connect(url, open_timeout=10) as ws:
        ws.send(json.dumps({"op": "send", "ref": "cell", "channel": channel, "type": type_,
                            "data": data, "key": unique_name("k")}))
        while True:
            frame = json.loads(ws.recv(timeout=10))
            if frame.get("ref") == "cell":
                break
    if frame["op"] == "ack":
        return "allow"
    assert frame["op"] == "error", frame
    return "deny" if frame["code"] in DENIED_CODES else "allow"


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def principals(server: LiveServer, api: Api, admin: User) -> dict[str, Principal]:
    """One of each role, each with a token and a signed-in page session (anonymous: neither)."""
    made: dict[str, Principal] = {}
    for role in ROLES:
        client = httpx2.Client(base_url=server.base_url, timeout=15, trust_env=False,
                               follow_redirects=False)
        if role == "anonymous":
            page = client.get("/login")
            made[role] = Principal(role, None, client, _CSRF.search(page.text).group(1))
            continue
        if role == "admin":
            user = admin
        else:
            user = api.register(unique_name(role))
            if role != "member":
                r = api.http.put(f"/api/users/{user.username}/roles", json={"roles": [role]},
                                 headers={"Authorization": f"Bearer {admin.token}"})
                assert r.status_code == 200, r.text
        page = client.get("/login")
        token = _CSRF.search(page.text).group(1)
        r = client.post("/login", data={"username": user.username, "password": user.password,
                                        "csrf_token": token})
        assert r.status_code == 303, r.text[:300]
        csrf = _CSRF.search(client.get("/rooms").text)
        made[role] = Principal(role, user, client, html.unescape(csrf.group(1)) if csrf else "")
    return made
