"""Presence in a crowd (PROTOCOL.md, Operations): `joined` carries the first 100 members and the
count, `presence` frames carry changes and the count, and the rest is paged over HTTP, on one
process and across two sharing Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx2
import pytest
from support.api import Api, User
from support.servers import LiveServer, ServerFactory
from support.services import RedisServer
from support.webinars import host_webinar, members
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio

CROWD = 130
HEAD = 100


def names(people: list[dict[str, Any]]) -> list[str]:
    return [m["username"] for m in people]


def view(frames: list[dict[str, Any]]) -> tuple[list[str], int]:
    """A client's list and count: `joined`, then each `presence` frame applied by id."""
    shown: dict[int, str] = {}
    count = 0
    for f in frames:
        if f.get("op") == "joined":
            shown = {m["id"]: m["username"] for m in f["presence"]}
            count = f["present_count"]
        elif f.get("op") == "presence":
            shown.update({m["id"]: m["username"] for m in f["joins"]})
            for m in f["leaves"]:
                shown.pop(m["id"], None)
            count = f["present_count"]
    return sorted(shown.values()), count


def page(base_url: str, channel: str, token: str | None = None, **params: Any) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.get(f"{base_url}/api/channels/{channel}/presence", params=params,
                      headers=headers, timeout=10)


def whole_list(base_url: str, channel: str, token: str | None) -> tuple[list[str], int]:
    """Every member, following `next` page by page."""
    seen: list[str] = []
    after: str | None = None
    count = -1
    while True:
        r = page(base_url, channel, token, **({"after": after} if after else {}))
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["members"]) <= HEAD
        count = body["present_count"]
        seen += names(body["members"])
        after = body["next"]
        if after is None:
            return seen, count


async def _crowd_joins(servers: list[LiveServer], channel: str, people: list[User]
                       ) -> list[WSClient]:
    clients = await asyncio.gather(*[
        WSClient.connect(servers[i % len(servers)].ws_url, token=p.token, name=p.username)
        for i, p in enumerate(people)])
    await asyncio.gather(*[c.join_ok(channel, timeout=30) for c in clients])
    return list(clients)


async def _check_crowd(servers: list[LiveServer], api: Api, admin: User) -> None:
    web = host_webinar(api, admin)
    people = members(servers[0], CROWD)
    everyone = sorted(p.username for p in people)
    clients = await _crowd_joins(servers, web.channel, people)
    try:
        # Every process lists the same members (Redis is shared; it may take a heartbeat).
        for server in servers:
            listed, count = whole_list(server.base_url, web.channel, admin.token)
            assert (listed, count) == (everyone, CROWD)

        late = await WSClient.connect(servers[-1].ws_url, name="anonymous late reader")
        clients.append(late)
        joined = await late.join_ok(web.channel)
        assert joined["present_count"] == CROWD, "an anonymous reader is not a member"
        assert names(joined["presence"]) == everyone[:HEAD]

        # Paging: `after` is the last username of the page before; anonymous readers of a
        # public webinar may page too.
        first = page(servers[0].base_url, web.channel).json()
        assert names(first["members"]) == everyone[:HEAD]
        assert first["next"] == everyone[HEAD - 1]
        rest = page(servers[0].base_url, web.channel, after=first["next"]).json()
        assert names(rest["members"]) == everyone[HEAD:]
        assert rest["next"] is None and rest["present_count"] == CROWD

        # A member of the first hundred leaves: the reader's list, as the frames change it
        # (set operations by id, as the protocol says), is the next hundred, with the new
        # count. Frames are coalesced, so the crowd's last one may come in the same frame.
        leaver = next(c for c in clients if c.name == everyone[0])
        await leaver.close()
        clients.remove(leaver)
        moved = await late.wait_for(
            lambda f: f.get("op") == "presence" and f.get("present_count") == CROWD - 1,
            timeout=15, what="the first member leaves")
        assert everyone[0] in names(moved["leaves"]) and everyone[HEAD] in names(moved["joins"])
        assert view(late.history) == (everyone[1:HEAD + 1], CROWD - 1)
        after_leave = page(servers[0].base_url, web.channel).json()
        assert names(after_leave["members"]) == everyone[1:HEAD + 1]

        # Someone past the first hundred leaves: only the count changes.
        tail = next(c for c in clients if c.name == everyone[-1])
        await tail.close()
        clients.remove(tail)
        counted = await late.wait_for(
            lambda f: f.get("op") == "presence" and f.get("present_count") == CROWD - 2,
            timeout=15, what="a member past the first hundred leaves")
        assert counted["joins"] == [] and counted["leaves"] == []
        assert view(late.history) == (everyone[1:HEAD + 1], CROWD - 2)
    finally:
        await asyncio.gather(*[c.close() for c in clients], return_exceptions=True)


async def test_a_crowd_gets_the_first_hundred_and_the_count_on_one_process(
    server: LiveServer, api: Api, admin: User
) -> None:
    await _check_crowd([server], api, admin)


async def test_a_crowd_over_two_processes_sees_one_list(
    live_server: ServerFactory, redis_server: RedisServer
) -> None:
    database_url = live_server.new_sqlite_url()
    a = live_server(database_url=database_url, broadcast_url=redis_server.url, name="A")
    b = live_server(database_url=database_url, broadcast_url=redis_server.url, name="B")
    with Api(a.base_url) as api:
        admin = api.register()
        a.cli("createuser", "--username", "crowdhost", "--password", admin.password,
              "--role", "admin")
        host = User(id=0, username="crowdhost", password=admin.password,
                    token=api.token("crowdhost", admin.password), roles=["admin"])
        await _check_crowd([a, b], api, host)


async def test_presence_pages_only_to_those_who_may_join(
    server: LiveServer, api: Api, admin: User
) -> None:
    closed = host_webinar(api, admin, visibility="members")
    r = page(server.base_url, closed.channel)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthenticated"
    assert page(server.base_url, closed.channel, admin.token).status_code == 200
    # A channel kind without presence, one that does not exist, and a bad cursor.
    me = api.me(admin.token)
    r = page(server.base_url, f"user:{me['id']}", admin.token)
    assert r.status_code == 200 and r.json() == {"members": [], "present_count": 0,
                                                 "next": None}
    assert page(server.base_url, "nosuch:1", admin.token).status_code == 404
    assert page(server.base_url, "webinar:99999999", admin.token).status_code == 404
    r = page(server.base_url, closed.channel, admin.token, after="x" * 500)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"
