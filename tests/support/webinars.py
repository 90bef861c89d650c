"""Helpers for the webinars' tests: a webinar on a server, its members, the room channel."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from .api import Api, User
from .members import make_members
from .servers import LiveServer

_prefixes = itertools.count(1)


def at(minutes: float) -> str:
    """An ISO UTC time `minutes` from now."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def create_webinar(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    """A webinar live now (started a minute ago, ends in two hours) unless fields say otherwise."""
    body: dict[str, Any] = {"title": f"Webinar {uuid.uuid4().hex[:6]}", "visibility": "public"}
    if "starts_at" not in fields:
        body.update(starts_at=at(-1), ends_at=at(120))
    body.update(fields)
    r = api.http.post("/api/webinars", json=body, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 201, f"POST /api/webinars -> {r.status_code}: {r.text[:300]}"
    return dict(r.json())


def members(server: LiveServer, count: int) -> list[User]:
    """`count` new members of `server` with tokens (straight into its database: fast)."""
    prefix = f"wm{next(_prefixes)}x{uuid.uuid4().hex[:6]}n"
    made = make_members(server.env["DATABASE_URL"], count, prefix)
    return [User(id=m["id"], username=m["username"], password="correct horse battery staple",
                 token=m["token"], roles=["member"]) for m in made]


def give_roles(api: Api, admin: User, user: User, roles: list[str]) -> None:
    r = api.http.put(f"/api/users/{user.username}/roles", json={"roles": roles},
                     headers=admin.auth)
    assert r.status_code == 200, r.text
    user.roles = list(r.json().get("roles", roles))


@dataclass
class Webinar:
    id: int
    host: User

    @property
    def channel(self) -> str:
        return f"webinar:{self.id}"

    @property
    def backstage(self) -> str:
        return f"backstage:{self.id}"


def host_webinar(api: Api, admin: User, **fields: Any) -> Webinar:
    """A webinar whose host is the (admin) user given."""
    created = create_webinar(api, admin.token, **fields)
    return Webinar(int(created["id"]), admin)
