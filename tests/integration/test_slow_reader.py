"""A reader that stops reading is cut off with 4008; fast readers are unaffected (PROTOCOL.md,
"Slow clients")."""

from __future__ import annotations

import os

import anyio
import pytest
from support.api import Api, setup_forum
from support.rawws import SlowRawClient
from support.servers import ServerFactory
from support.wsclient import Frame, WSClient, seqs

pytestmark = pytest.mark.anyio

POSTS = 1000
# Random text does not compress, and ~16 MB in total outgrows every kernel buffer on the way
# (the server's send buffer autotunes up to 4 MB), so the server's per-socket outbox must fill.
BODY_BYTES = 8000
WINDOW = 50  # posts in flight at once, to keep the test quick


# Both ways the server writes frames (docs/protocol.md, WS_DIRECT_WRITES) must honour the bound.
@pytest.mark.parametrize("direct_writes", ["1", "0"], ids=["direct-writes", "asgi-writes"])
async def test_slow_reader_is_closed_with_4008_and_fast_reader_gets_everything(
    live_server: ServerFactory, direct_writes: str
) -> None:
    server = live_server(env={"WS_OUTBOX_FRAMES": "20", "WS_DIRECT_WRITES": direct_writes})
    with Api(server.base_url) as api:
        forum = setup_forum(api)
        slow_user = api.register()
    got: list[int] = []
    chan = forum.channel

    slow = SlowRawClient(server.ws_url, token=slow_user.token, rcvbuf=4096)
    await anyio.to_thread.run_sync(slow.connect)
    slow.send_json({"op": "join", "ref": "slow-join", "channel": chan})
    [*_, slow_joined] = await anyio.to_thread.run_sync(slow.recv_until, "slow-join")
    assert slow_joined["op"] == "joined", slow_joined
    base = int(slow_joined["seq"])
    # From here on the slow client reads nothing until every post is out.

    writer = await WSClient.connect(server.ws_url, token=forum.admin.token, name="writer")
    fast = await WSClient.connect(server.ws_url, token=forum.admin.token, name="fast reader")
    fast_events: list[Frame] = []
    acked: list[int] = []
    try:
        await writer.join_ok(chan)
        assert (await fast.join_ok(chan))["seq"] == base

        async def read_fast() -> None:
            fast_events.extend(await fast.events(chan, POSTS, timeout=120))

        async def write() -> None:
            ref = 0
            for start in range(0, POSTS, WINDOW):
                refs = []
                for i in range(start, min(start + WINDOW, POSTS)):
                    ref += 1
                    refs.append(f"w{ref}")
                    body = f"post {i}\n\n" + os.urandom(BODY_BYTES // 2).hex()
                    await writer.send({"op": "send", "ref": refs[-1], "channel": chan,
                                       "type": "post.create", "data": {"body": body}})
                for r in refs:
                    reply = await writer.wait_for(lambda f, r=r: f.get("ref") == r, timeout=30,
                                                  what=f"ack {r}")
                    assert reply["op"] == "ack", reply
                    acked.append(int(reply["seq"]))
                # The writer is joined too; its own events are not what this test is about.
                writer.buffer.clear()

        with anyio.fail_after(150):
            async with anyio.create_task_group() as tg:
                tg.start_soon(read_fast)
                tg.start_soon(write)

        assert sorted(acked) == list(range(base + 1, base + POSTS + 1))
        assert seqs(fast_events) == list(range(base + 1, base + POSTS + 1))
        await fast.ping()  # the fast reader's socket is still open and answering

        drained = await anyio.to_thread.run_sync(slow.drain, 30.0)
        got = [int(f["seq"]) for f in drained.frames
               if f.get("op") == "event" and f.get("channel") == chan and "seq" in f]
        assert drained.close_code == 4008, (
            f"slow reader ended with close {drained.close_code} (eof={drained.eof}, "
            f"timed_out={drained.timed_out}) after {len(got)} of {POSTS} events; "
            f"last frames {[{k: f.get(k) for k in ('op', 'seq', 'code')} for f in drained.frames[-3:]]}"
        )
        assert len(got) < POSTS, "the slow reader was cut off before the end"
        # What it did get is an in-order prefix, so a rejoin with since= can resume.
        assert got == list(range(base + 1, base + 1 + len(got)))
    finally:
        slow.close()
        await writer.close()
        await fast.close()
    # Recovering the rest with `since` is test_replay_since.py's
    # test_replay_longer_than_the_outbox_bound_is_delivered_not_cut_off: a replay of many
    # events through a small outbox is exactly what this reader would ask for next.
