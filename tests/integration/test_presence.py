"""Presence lists members, not sockets, and every process sees the same list (Redis)."""

from __future__ import annotations

import pytest
from support.api import Api, setup_forum
from support.servers import ServerFactory
from support.services import RedisServer
from support.wsclient import WSClient

pytestmark = pytest.mark.anyio


def names(members: list[dict]) -> list[str]:
    return sorted(m["username"] for m in members)


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
