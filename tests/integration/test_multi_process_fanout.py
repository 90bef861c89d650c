"""Two uvicorn processes on one Redis and one database behave as one server (PROTOCOL.md,
"Many processes"): a client never needs to know which process it is on."""

from __future__ import annotations

import pytest
from support.api import Api, setup_forum
from support.servers import ServerFactory
from support.services import RedisServer
from support.wsclient import WSClient, seqs

pytestmark = pytest.mark.anyio


async def test_posts_cross_between_two_processes_on_one_redis(
    live_server: ServerFactory, redis_server: RedisServer, database_url: str
) -> None:
    a = live_server(database_url=database_url, broadcast_url=redis_server.url, name="A")
    b = live_server(database_url=database_url, broadcast_url=redis_server.url, name="B")
    with Api(a.base_url) as api_a:
        forum = setup_forum(api_a)
        other = api_a.register()
    chan = forum.channel

    on_a = await WSClient.connect(a.ws_url, token=forum.admin.token, name="client on A")
    on_b = await WSClient.connect(b.ws_url, token=other.token, via="header", name="client on B")
    try:
        joined_a = await on_a.join_ok(chan)
        joined_b = await on_b.join_ok(chan)
        # Both processes read the same store: the same latest seq whichever process answers.
        assert joined_a["seq"] == joined_b["seq"]
        base = int(joined_a["seq"])

        # B -> A
        seq = await on_b.post(chan, "Hello from **process B**")
        assert seq == base + 1
        [event] = await on_a.events(chan, 1)
        assert event["type"] == "post.created"
        assert event["seq"] == seq
        assert "<strong>process B</strong>" in event["data"]["body_html"]
        if "actor" in event:
            assert event["actor"]["username"] == other.username
        [own] = await on_b.events(chan, 1)  # the sender's own process delivers it too
        assert own["seq"] == seq

        # A -> B
        seq2 = await on_a.post(chan, "Reply from _process A_")
        assert seq2 == seq + 1
        [event2] = await on_b.events(chan, 1)
        assert (event2["type"], event2["seq"]) == ("post.created", seq2)
        assert "<em>process A</em>" in event2["data"]["body_html"]
        await on_a.events(chan, 1)

        # A burst through both processes at once: everyone sees one gapless order.
        sent = []
        for i in range(10):
            sent.append(await on_a.post(chan, f"burst a{i}"))
            sent.append(await on_b.post(chan, f"burst b{i}"))
        assert sent == list(range(seq2 + 1, seq2 + 21))
        assert seqs(await on_a.events(chan, 20)) == sent
        assert seqs(await on_b.events(chan, 20)) == sent
    finally:
        await on_a.close()
        await on_b.close()

    # The store agrees with what the sockets saw.
    with Api(b.base_url) as api_b:
        thread = api_b.get_thread(forum.thread_id, token=other.token)
    post_seqs = [p["seq"] for p in thread["posts"]]
    assert post_seqs == sorted(post_seqs)
    assert set(sent) | {seq, seq2} <= set(post_seqs)
