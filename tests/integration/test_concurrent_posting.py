"""Many writers at once on one thread: posts commit in groups (rooms/posting.py) yet each
keeps its own seq, acknowledgement and refusal, on SQLite and on PostgreSQL."""

from __future__ import annotations

import anyio
import pytest
from support.api import Api, setup_forum
from support.servers import ServerFactory
from support.wsclient import WSClient, seqs

pytestmark = pytest.mark.anyio
WRITERS = 10
POSTS_EACH = 20


async def test_concurrent_writers_get_distinct_gapless_seqs(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        forum = setup_forum(api)
        users = [api.register() for _ in range(WRITERS)]
    chan = forum.channel
    acked: dict[int, str] = {}
    async with await WSClient.connect(server.ws_url, name="watcher") as watcher:
        base = int((await watcher.join_ok(chan))["seq"])

        async def write(user_index: int) -> None:
            user = users[user_index]
            async with await WSClient.connect(server.ws_url, token=user.token) as client:
                pending = []
                for i in range(POSTS_EACH):
                    body = f"{user.username} #{i}"
                    pending.append((body, f"p{i}"))
                    await client.send({"op": "send", "ref": f"p{i}", "channel": chan,
                                       "type": "post.create", "data": {"body": body}})
                for body, ref in pending:
                    reply = await client.wait_for(lambda f, r=ref: f.get("ref") == r,
                                                  what=f"ack {ref}")
                    assert reply["op"] == "ack", reply
                    acked[int(reply["seq"])] = body

        async with anyio.create_task_group() as tg:
            for index in range(WRITERS):
                tg.start_soon(write, index)
        total = WRITERS * POSTS_EACH
        assert sorted(acked) == list(range(base + 1, base + total + 1))
        events = await watcher.events(chan, total, timeout=30)
    assert seqs(events) == list(range(base + 1, base + total + 1))
    assert all(acked[e["seq"]] in e["data"]["body_html"] for e in events)
    with Api(server.base_url) as api:
        thread = api.get_thread(forum.thread_id)
    stored = {p["seq"]: p for p in thread["posts"]}
    assert all(stored[seq]["body"] == body for seq, body in acked.items())
    assert thread["post_count"] == total + 1


async def test_a_locked_thread_refuses_members_but_not_moderators_in_the_same_burst(
    live_server: ServerFactory, database_url: str
) -> None:
    server = live_server(database_url=database_url)
    with Api(server.base_url) as api:
        forum = setup_forum(api)
        member = api.register()
    chan = forum.channel
    async with (
        await WSClient.connect(server.ws_url, token=forum.admin.token, name="mod") as mod,
        await WSClient.connect(server.ws_url, token=member.token, name="member") as mem,
    ):
        assert (await mod.send_action(chan, "thread.lock", {}))["op"] == "ack"
        for i in range(10):
            await mod.send({"op": "send", "ref": f"m{i}", "channel": chan,
                            "type": "post.create", "data": {"body": f"mod {i}"}})
            await mem.send({"op": "send", "ref": f"x{i}", "channel": chan,
                            "type": "post.create", "data": {"body": f"member {i}"}})
        for i in range(10):
            ok = await mod.wait_for(lambda f, r=f"m{i}": f.get("ref") == r, what="mod ack")
            no = await mem.wait_for(lambda f, r=f"x{i}": f.get("ref") == r, what="refusal")
            assert ok["op"] == "ack", ok
            assert (no["op"], no["code"]) == ("error", "forbidden"), no
