"""Presence lists members, not sockets, and every process sees the same list (Redis)."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx2
import pytest
import redis
from support.api import Api, setup_forum
from support.servers import ServerFactory
from support.services import RedisServer
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio


def names(members: list[Any]) -> list[str]:
    return sorted(m["username"] if isinstance(m, dict) else m.username for m in members)


def wait_bus_up(base_url: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while httpx2.get(f"{base_url}/healthz", timeout=5, trust_env=False).json()["bus"] != "up":
        assert time.monotonic() < deadline, f"{base_url}: the bus was not up in {seconds} s"
        time.sleep(0.1)  # polling interval, bounded by the deadline


async def test_presence_is_shared_between_processes_and_counts_members_once(
    live_server: ServerFactory, redis_server: RedisServer
) -> None:
    database_url = live_server.new_sqlite_url()
    a = live_server(database_url=database_url, broadcast_url=redis_server.url, name="A")
    b = live_server(database_url=database_url, broadcast_url=redis_server.url, name="B")
    with Api(a.base_url) as api:
        forum = setup_forum(api)
        bob = api.register()
    chan, alice = forum.channel, forum.admin

    alice_on_a = await WSClient.connect(a.ws_url, token=alice.token, name="alice on A")
    bob_on_b = await WSClient.connect(b.ws_url, token=bob.token, name="bob on B")
    bob_again_on_a = await WSClient.connect(a.ws_url, token=bob.token, name="bob's 2nd tab on A")
    anonymous = await WSClient.connect(b.ws_url, name="anonymous reader on B")
    try:
        assert names((await alice_on_a.join_ok(chan))["presence"]) == [alice.username]
        joined_bob = await bob_on_b.join_ok(chan)
        assert names(joined_bob["presence"]) == sorted([alice.username, bob.username])
        # Presence is coalesced (one frame per channel and window), and joins are a set: a
        # frame may also name alice, whose own `joined` frame already listed her.
        arrival = await alice_on_a.wait_for(
            lambda f: f.get("op") == "presence" and bob.username in names(f["joins"]),
            what="bob joins")
        assert arrival["leaves"] == []

        # A second socket of a member already present is no new member, on either process.
        joined_again = await bob_again_on_a.join_ok(chan)
        assert names(joined_again["presence"]) == sorted([alice.username, bob.username])
        # Anonymous readers are not members.
        assert names((await anonymous.join_ok(chan))["presence"]) == sorted(
            [alice.username, bob.username])

        # Bob closes one tab: still present. He closes the other: alice sees him leave, once.
        await bob_again_on_a.leave(chan)
        await bob_on_b.leave(chan)
        gone = await alice_on_a.wait_for(
            lambda f: f.get("op") == "presence" and f.get("leaves"), what="bob leaves")
        assert names(gone["leaves"]) == [bob.username]
        presence_frames = [f for f in alice_on_a.buffered() if f.get("op") == "presence"]
        assert all(bob.username not in names(f["joins"]) for f in presence_frames), \
            presence_frames
        # A fresh join sees only alice now.
        late = await WSClient.connect(b.ws_url, name="late reader on B")
        try:
            assert names((await late.join_ok(chan))["presence"]) == [alice.username]
        finally:
            await late.close()
    finally:
        for client in (alice_on_a, bob_on_b, bob_again_on_a, anonymous):
            await client.close()


async def test_presence_after_a_redis_restart_lists_every_process_at_once(
    live_server: ServerFactory, redis_server: RedisServer
) -> None:
    """After Redis restarted, each process's first presence command failed ("Connection
    closed by server"): a member then joining was counted locally only and saw only local
    members (issue 22, 4). And collab's own log lines had no time or level."""
    database_url = live_server.new_sqlite_url()
    # Heartbeats far apart: what is checked is the joins' own presence commands.
    env = {"PRESENCE_TTL_SECONDS": "600"}
    a = live_server(database_url=database_url, broadcast_url=redis_server.url, name="A",
                    env=env)
    b = live_server(database_url=database_url, broadcast_url=redis_server.url, name="B",
                    env=env)
    with Api(a.base_url) as api:
        forum = setup_forum(api)
        bob, carol, dave = api.register(), api.register(), api.register()
    chan, alice = forum.channel, forum.admin
    async with await WSClient.connect(a.ws_url, token=alice.token, name="alice on A") as _a, \
            await WSClient.connect(b.ws_url, token=bob.token, name="bob on B") as _b:
        await _a.join_ok(chan)
        await _b.join_ok(chan)
        broker = redis.Redis.from_url(redis_server.url)
        try:
            broker.save()  # the restarted Redis loads the presence hash again
        finally:
            broker.close()
        redis_server.stop()
        redis_server.start()
        for server in (a, b):
            wait_bus_up(server.base_url)
        async with await WSClient.connect(a.ws_url, token=carol.token, name="carol on A") \
                as _c, \
                await WSClient.connect(b.ws_url, token=dave.token, name="dave on B") as _d:
            on_a = await _c.join_ok(chan)
            assert names(on_a["presence"]) == names([alice, bob, carol]), on_a["presence"]
            on_b = await _d.join_ok(chan)
            assert names(on_b["presence"]) == names([alice, bob, carol, dave]), on_b["presence"]
    for server in (a, b):
        log = server.stderr_path.read_text()
        assert "presence add failed" not in log and "presence list failed" not in log, log
        lost = [line for line in log.splitlines() if "bus connection lost" in line]
        assert lost, log
        # A time and a level, as every operator's log reader expects.
        assert all(re.match(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\S* WARNING ", line)
                   for line in lost), lost
