"""The hub's newer guarantees, end to end over real sockets (PROTOCOL.md, Guarantees):
redaction in replay, epoch and reset, send keys, coalesced presence, and `collab.client`'s
reconnect-and-resume."""

from __future__ import annotations

import asyncio
import json

import anyio
import pytest
from support.api import Forum
from support.relay import Relay
from support.wsclient import WSClient

from collab.client import Client, ClientError

pytestmark = pytest.mark.anyio


async def test_a_deleted_or_edited_post_never_comes_back_in_replay(forum: Forum) -> None:
    chan = forum.channel
    secret, old = "the launch code is 0000", "first draft wording"
    async with Client(forum.server.ws_url, token=forum.admin.token) as writer:
        base = (await writer.join(chan))["seq"]
        doomed = (await writer.send(chan, "post.create", {"body": secret}))["data"]["id"]
        edited = (await writer.send(chan, "post.create", {"body": old}))["data"]["id"]
        await writer.send(chan, "post.delete", {"post_id": doomed})
        await writer.send(chan, "post.edit", {"post_id": edited, "body": "final wording"})

    # A JSON client replaying from before the posts.
    async with Client(forum.server.ws_url) as reader:
        await reader.join(chan, since=base)
        frames = [await reader.next(timeout=10) for _ in range(4)]
    text = json.dumps(frames)
    assert [f["type"] for f in frames] == ["post.created", "post.created", "post.deleted",
                                           "post.edited"]
    assert secret not in text and old not in text
    assert "final wording" in text

    # A page replaying the same over /ws/html.
    url = f"{forum.server.ws_url}/html?channel={chan}&since={base}"
    page = await WSClient.connect(url, origin=forum.server.origin, name="page")
    try:
        html = []
        with anyio.fail_after(10):
            while not any("final wording" in h for h in html):
                html.append(await page.ws.recv())
    finally:
        await page.close()
    assert all(secret not in h and old not in h for h in html), html


async def test_a_stale_or_foreign_position_gets_reset(forum: Forum) -> None:
    chan = forum.channel
    async with Client(forum.server.ws_url, token=forum.admin.token) as client:
        joined = await client.join(chan)
        head, epoch = joined["seq"], joined["epoch"]
        assert epoch
    async with Client(forum.server.ws_url) as beyond:
        # A page that saw a seq this history never reached (a restored backup).
        await beyond.join(chan, since=head + 50, epoch=epoch)
        reset = await beyond.next(timeout=10)
        assert reset["type"] == "reset" and reset["seq"] == head
    async with Client(forum.server.ws_url) as foreign:
        await foreign.join(chan, since=max(head - 1, 0), epoch="not-this-history")
        reset = await foreign.next(timeout=10)
        assert reset["type"] == "reset" and reset["seq"] == head


async def test_a_repeated_send_key_is_done_once_and_answered_the_same(forum: Forum) -> None:
    chan = forum.channel
    async with Client(forum.server.ws_url, token=forum.admin.token) as client:
        await client.join(chan)
        first = await client.send(chan, "post.create", {"body": "once"}, key="retry-me-1")
        again = await client.send(chan, "post.create", {"body": "once"}, key="retry-me-1")
        assert again["seq"] == first["seq"] and again["data"] == first["data"]
        other = await client.send(chan, "post.create", {"body": "twice"}, key="retry-me-2")
        assert other["seq"] == first["seq"] + 1
    thread = forum.api.get_thread(forum.thread_id)
    assert [p["body"] for p in thread["posts"]].count("once") == 1


async def test_a_thread_created_with_a_key_is_acked_with_its_seq_both_times(
        forum: Forum) -> None:
    # The first ack of thread.create had no seq while its retry (the kept ack) had one.
    room = forum.room_channel
    async with Client(forum.server.ws_url, token=forum.admin.token) as client:
        first = await client.send(room, "thread.create", {"title": "Keyed", "body": "b"},
                                  key="thread-key-1")
        again = await client.send(room, "thread.create", {"title": "Keyed", "body": "b"},
                                  key="thread-key-1")
        assert isinstance(first.get("seq"), int)
        assert (again["seq"], again["data"]) == (first["seq"], first["data"])


async def test_keys_belong_to_their_member(forum: Forum) -> None:
    chan = forum.channel
    other = forum.api.register()
    async with Client(forum.server.ws_url, token=forum.admin.token) as a, \
            Client(forum.server.ws_url, token=other.token) as b:
        first = await a.send(chan, "post.create", {"body": "from a"}, key="shared-key")
        second = await b.send(chan, "post.create", {"body": "from b"}, key="shared-key")
        assert second["seq"] != first["seq"]


async def test_the_client_resumes_after_a_drop_without_loss_or_duplicates(forum: Forum) -> None:
    chan = forum.channel
    async with Client(forum.server.ws_url, token=forum.admin.token) as writer, \
            Client(forum.server.ws_url, min_delay=0.05) as reader:
        base = (await reader.join(chan))["seq"]
        seqs = [(await writer.send(chan, "post.create", {"body": f"a{i}"}))["seq"]
                for i in range(3)]
        await reader._ws.close()  # the connection drops
        seqs += [(await writer.send(chan, "post.create", {"body": f"b{i}"}))["seq"]
                 for i in range(3)]
        got = []
        while len(got) < 6:
            frame = await reader.next(timeout=10)
            if frame.get("op") == "event":
                got.append(frame["seq"])
        assert got == seqs == list(range(base + 1, base + 7))
        assert reader.reconnects >= 1


async def test_the_client_resends_an_unanswered_send_as_soon_as_it_reconnects(
        forum: Forum) -> None:
    """The post is done but its ack is lost with the connection: the client must send the
    frame again (same key) right after rejoining, not wait out its per-try timeout first
    (issue 22, 3); the server answers from the key, and the post exists once."""
    chan = forum.channel
    relay = await Relay.start(forum.server.port)
    watcher = await WSClient.connect(forum.server.ws_url, name="watcher")
    try:
        await watcher.join_ok(chan)
        async with Client(relay.ws_url, token=forum.admin.token, min_delay=0.05) as client:
            await client.join(chan)
            relay.deaf = True  # what the server answers from now on is lost
            sending = asyncio.create_task(client.send(
                chan, "post.create", {"body": "sent once"}, key="lost-ack",
                attempt_timeout=30, timeout=60))
            [done] = await watcher.events(chan, 1)  # the server did it; the ack is lost
            relay.cut()
            with anyio.fail_after(8):
                ack = await sending
            assert ack["seq"] == done["seq"]
            assert client.reconnects == 1
        bodies = [p["body"] for p in forum.api.get_thread(forum.thread_id)["posts"]]
        assert bodies.count("sent once") == 1
    finally:
        await watcher.close()
        await relay.stop()


async def test_refusals_reach_the_client_as_errors(forum: Forum) -> None:
    async with Client(forum.server.ws_url) as anonymous:
        with pytest.raises(ClientError) as refused:
            await anonymous.send(forum.channel, "post.create", {"body": "hi"})
        assert refused.value.code == "unauthenticated"


async def test_a_crowd_joining_costs_each_socket_a_few_presence_frames(forum: Forum) -> None:
    """300 members joining one thread within a second: every socket gets a handful of
    coalesced presence frames, not one per arrival (PROTOCOL.md: presence stays cheap)."""
    tokens = [forum.api.register().token for _ in range(30)]
    sockets = [await WSClient.connect(forum.server.ws_url, token=tokens[i % len(tokens)],
                                      name=f"s{i}") for i in range(300)]
    watcher = await WSClient.connect(forum.server.ws_url, token=forum.admin.token)
    try:
        await watcher.join_ok(forum.channel)
        await asyncio.gather(*(s.join_ok(forum.channel) for s in sockets))
        with anyio.fail_after(10):
            seen: set[str] = set()
            while len(seen) < 30:
                frame = await watcher.wait_for(lambda f: f.get("op") == "presence")
                seen |= {u["username"] for u in frame["joins"]}
        await watcher.ping()
        frames = [f for f in watcher.history if f.get("op") == "presence"]
        assert len(frames) <= 8, f"{len(frames)} presence frames for 300 joins"
    finally:
        for s in [*sockets, watcher]:
            await s.close()
