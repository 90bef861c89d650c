"""Rejoining with `since` (PROTOCOL.md, "Order and completeness" and "Too far behind")."""

from __future__ import annotations

import anyio
import pytest
import redis
from support.api import Api, Forum, setup_forum
from support.servers import ServerFactory
from support.services import RedisServer
from support.wsclient import WSClient, seqs

pytestmark = pytest.mark.anyio


async def test_rejoin_with_since_gets_exactly_the_missed_posts_then_live_ones(
    forum: Forum,
) -> None:
    chan = forum.channel
    reader_user = forum.api.register()
    writer = await WSClient.connect(forum.server.ws_url, token=forum.admin.token, name="writer")
    reader = await WSClient.connect(forum.server.ws_url, token=reader_user.token, name="reader")
    try:
        await writer.join_ok(chan)
        base = int((await reader.join_ok(chan))["seq"])

        first = [await writer.post(chan, f"seen {i}") for i in range(3)]
        assert first == [base + 1, base + 2, base + 3]
        assert seqs(await reader.events(chan, 3)) == first
        last_seen = first[-1]
        await reader.close()

        missed = [await writer.post(chan, f"missed {i}") for i in range(5)]

        reader = await WSClient.connect(forum.server.ws_url, token=reader_user.token,
                                        name="reader again")
        joined = await reader.join_ok(chan, since=last_seen)
        assert joined["seq"] == missed[-1], "joined.seq must be the latest seq after the replay"
        replayed = await reader.events(chan, 5)
        assert seqs(replayed) == missed
        assert [e["type"] for e in replayed] == ["post.created"] * 5
        assert all(f"missed {i}" in e["data"]["body_html"] for i, e in enumerate(replayed))

        # Live delivery continues right after the replay: the next events are the new posts,
        # nothing replayed twice in between.
        live = [await writer.post(chan, f"live {i}") for i in range(2)]
        assert seqs(await reader.events(chan, 2)) == live
        await reader.ping()
        leftovers = reader.buffered(lambda f: f.get("op") == "event" and "seq" in f)
        assert leftovers == [], f"unexpected extra events: {leftovers}"
    finally:
        await writer.close()
        await reader.close()


async def test_replay_and_live_posts_merge_without_gaps_while_posts_keep_coming(
    forum: Forum,
) -> None:
    """A reader that keeps dropping and rejoining with `since` while a writer posts non-stop sees
    every post exactly once, in order: events published while it joins are neither lost nor
    doubled."""
    chan = forum.channel
    total = 80
    writer = await WSClient.connect(forum.server.ws_url, token=forum.admin.token, name="writer")
    base = int((await writer.join_ok(chan))["seq"])
    final = base + total
    seen: list[int] = []
    done = anyio.Event()

    async def write() -> None:
        for i in range(total):
            await writer.post(chan, f"stream {i}")
        done.set()

    async def read() -> None:
        last = base
        cycle = 0
        while last < final:
            cycle += 1
            reader = await WSClient.connect(forum.server.ws_url, name=f"reader cycle {cycle}")
            try:
                joined = await reader.join_ok(chan, since=last)
                assert joined["seq"] >= last
                # Read a few events, then drop the connection mid-stream.
                for _ in range(7):
                    if last >= final:
                        break
                    [event] = await reader.events(chan, 1, timeout=15)
                    assert event["seq"] == last + 1, (
                        f"cycle {cycle}: after seq {last} got {event['seq']}"
                    )
                    last = int(event["seq"])
                    seen.append(last)
            finally:
                await reader.close()

    try:
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(write)
                tg.start_soon(read)
    finally:
        await writer.close()
    assert done.is_set()
    assert seen == list(range(base + 1, final + 1))


async def test_since_further_back_than_replay_limit_gets_reset(live_server: ServerFactory) -> None:
    server = live_server(env={"REPLAY_MAX_EVENTS": "5"})
    with Api(server.base_url) as api:
        forum = setup_forum(api)
    chan = forum.channel
    writer = await WSClient.connect(server.ws_url, token=forum.admin.token, name="writer")
    reader = await WSClient.connect(server.ws_url, token=forum.admin.token, name="reader")
    try:
        base = int((await writer.join_ok(chan))["seq"])
        posted = [await writer.post(chan, f"post {i}") for i in range(12)]
        latest = posted[-1]

        # 12 behind with a limit of 5: no replay, a reset carrying the latest seq instead.
        joined = await reader.join_ok(chan, since=base)
        assert joined["seq"] == latest
        reset = await reader.wait_for(
            lambda f: f.get("op") == "event" and f.get("channel") == chan, timeout=10,
            what="the reset event",
        )
        assert reset["type"] == "reset", f"expected a reset, got {reset}"
        assert reset["seq"] == latest
        await reader.ping()
        replayed = reader.buffered(lambda f: f.get("op") == "event" and f.get("type") != "reset")
        assert replayed == [], "a reset replaces the replay"
        left = await reader.leave(chan)
        assert left == {"op": "left", "ref": left["ref"], "channel": chan}, left

        # Within the limit: an ordinary replay.
        rejoined = await reader.join_ok(chan, since=latest - 3)
        assert rejoined["seq"] == latest
        assert seqs(await reader.events(chan, 3)) == posted[-3:]
    finally:
        await writer.close()
        await reader.close()


async def test_replay_longer_than_the_outbox_bound_is_delivered_not_cut_off(
    live_server: ServerFactory,
) -> None:
    """A reader closed with 4008 rejoins with `since` and "misses nothing" (PROTOCOL.md, Slow
    clients): a replay larger than WS_OUTBOX_FRAMES, read promptly, must arrive in full, or a
    client that fell that far behind could never recover."""
    server = live_server(env={"WS_OUTBOX_FRAMES": "20", "REPLAY_MAX_EVENTS": "1000"})
    with Api(server.base_url) as api:
        forum = setup_forum(api)
    chan = forum.channel
    writer = await WSClient.connect(server.ws_url, token=forum.admin.token, name="writer")
    reader = await WSClient.connect(server.ws_url, token=forum.admin.token, name="reader")
    try:
        base = int((await writer.join_ok(chan))["seq"])
        posted = [await writer.post(chan, f"post {i}") for i in range(100)]
        joined = await reader.join_ok(chan, since=base)
        assert joined["seq"] == posted[-1]
        assert seqs(await reader.events(chan, 100, timeout=30)) == posted
    finally:
        await writer.close()
        await reader.close()


async def test_rejoining_a_process_that_has_not_heard_the_last_event_is_not_reset(
    live_server: ServerFactory, redis_server: RedisServer, postgres_db: str
) -> None:
    """A reader that saw seq s on one process and rejoins another whose bus message for s is
    late got a false `reset`, then s again (issue 22, 2): the join compared `since` with that
    process's in-memory head, not with the store's."""
    a = live_server(database_url=postgres_db, broadcast_url=redis_server.url, name="A")
    b = live_server(database_url=postgres_db, broadcast_url=redis_server.url, name="B")
    with Api(a.base_url) as api:
        forum = setup_forum(api)
        reader_user = api.register()
    chan = forum.channel
    async with await WSClient.connect(a.ws_url, token=forum.admin.token, name="writer") as writer, \
            await WSClient.connect(b.ws_url, token=reader_user.token, name="B's follower") \
            as follower, \
            await WSClient.connect(b.ws_url, token=reader_user.token, name="rejoiner") \
            as rejoiner:
        await writer.join_ok(chan)
        joined = await follower.join_ok(chan)  # B follows the channel: it has a head in memory
        epoch = joined["epoch"]
        broker = redis.Redis.from_url(redis_server.url)
        try:
            # Redis holds every write (PUBLISH included) for 3 s: B hears nothing meanwhile.
            broker.execute_command("CLIENT", "PAUSE", "3000", "WRITE")
            seen = await writer.post(chan, "seen on A")
            reply = await rejoiner.request("join", channel=chan, since=seen, epoch=epoch)
        finally:
            broker.close()
        assert reply["op"] == "joined" and reply["seq"] >= seen, reply
        resets = [f for f in rejoiner.history if f.get("op") == "event"
                  and f.get("type") == "reset"]
        assert resets == [], f"a false reset: {resets}"
        later = await writer.post(chan, "after the pause")
        assert seqs(await rejoiner.events(chan, 1)) == [later], "the seen event came again"
        assert seqs(await follower.events(chan, 2)) == [seen, later]
