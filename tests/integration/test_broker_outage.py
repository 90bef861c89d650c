"""Redis goes away and comes back while posts are sent (PROTOCOL.md, "Durability first"; issue 2:
"the server reconnects by itself, resubscribes and repairs gaps; it never needs a restart")."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from support.api import Api, setup_forum
from support.servers import ServerFactory
from support.services import RedisServer
from support.wsclient import WSClient, seqs

pytestmark = pytest.mark.anyio

RECOVERY_TIMEOUT = 30.0


async def test_redis_restart_loses_no_acknowledged_post(
    live_server: ServerFactory, redis_server: RedisServer
) -> None:
    database_url = live_server.new_sqlite_url()
    a = live_server(database_url=database_url, broadcast_url=redis_server.url, name="A")
    b = live_server(database_url=database_url, broadcast_url=redis_server.url, name="B")
    with Api(a.base_url) as api:
        forum = setup_forum(api)
        member = api.register()
    chan = forum.channel

    writer = await WSClient.connect(a.ws_url, token=forum.admin.token, name="writer on A")
    subscribers = [
        await WSClient.connect(a.ws_url, token=member.token, name="subscriber on A"),
        await WSClient.connect(b.ws_url, token=member.token, name="subscriber 1 on B"),
        await WSClient.connect(b.ws_url, name="anonymous subscriber 2 on B"),
    ]
    acked: list[int] = []
    refused: list[dict[str, Any]] = []

    async def post_some(phase: str, n: int, outage: bool) -> None:
        for i in range(n):
            # A send may be slower while the broker is down, but it must be answered.
            reply = await writer.send_action(
                chan, "post.create", {"body": f"{phase} {i}"}, timeout=20
            )
            if reply["op"] == "ack":
                acked.append(int(reply["seq"]))
            elif outage:
                # Refusing a write during the outage is allowed; losing an acked one is not.
                refused.append(reply)
            else:
                raise AssertionError(f"{phase} post {i} answered {reply}")

    try:
        base = int((await writer.join_ok(chan))["seq"])
        for sub in subscribers:
            assert (await sub.join_ok(chan))["seq"] == base

        await post_some("before", 15, outage=False)
        redis_server.stop()
        await post_some("during", 15, outage=True)
        redis_server.start()
        await post_some("after", 15, outage=False)

        with Api(b.base_url) as api_b:
            stored = [int(p["seq"]) for p in api_b.get_thread(forum.thread_id)["posts"]]
        final = max(acked + stored)
        assert acked == sorted(acked) and len(set(acked)) == len(acked), acked
        assert set(acked) <= set(stored), "every acknowledged post is in the store"

        received: dict[str, list[int]] = {}

        async def collect(client: WSClient) -> None:
            received[client.name] = seqs(
                await client.events_until(chan, final, timeout=RECOVERY_TIMEOUT)
            )

        with anyio.fail_after(RECOVERY_TIMEOUT + 5):
            async with anyio.create_task_group() as tg:
                for client in [writer, *subscribers]:
                    tg.start_soon(collect, client)

        expected = list(range(base + 1, final + 1))
        for name, got in received.items():
            assert got == expected, (
                f"{name}: missing {sorted(set(expected) - set(got))}, "
                f"duplicates {sorted({s for s in got if got.count(s) > 1})}, order {got}"
            )

        # Nothing arrives twice later (a late gap repair racing the bus): the very next event
        # everyone sees is a new post.
        marker = await writer.post(chan, "after recovery")
        assert marker == final + 1
        for client in [writer, *subscribers]:
            [event] = await client.events(chan, 1, timeout=RECOVERY_TIMEOUT)
            assert event["seq"] == marker, f"{client.name}: after {final} got {event['seq']}"
    finally:
        for client in [writer, *subscribers]:
            await client.close()
    # Reported for context when the test passes with refusals.
    print(f"acked {len(acked)} posts, {len(refused)} refused during the outage: {refused[:3]}")


async def test_while_redis_is_down_a_process_still_serves_its_own_sockets(
    live_server: ServerFactory, redis_server: RedisServer
) -> None:
    server = live_server(broadcast_url=redis_server.url)
    with Api(server.base_url) as api:
        forum = setup_forum(api)
    chan = forum.channel
    async with (
        await WSClient.connect(server.ws_url, token=forum.admin.token, name="writer") as writer,
        await WSClient.connect(server.ws_url, name="reader on the same process") as reader,
    ):
        await writer.join_ok(chan)
        base = int((await reader.join_ok(chan))["seq"])
        redis_server.stop()
        try:
            # Acknowledged and delivered without the broker, well before it returns.
            sent = [await writer.post(chan, f"during the outage {i}", timeout=5)
                    for i in range(5)]
            assert sent == list(range(base + 1, base + 6))
            assert seqs(await reader.events(chan, 5, timeout=5)) == sent
        finally:
            redis_server.start()
