"""The small stand-ins `wire.slim` gives uvicorn's socket protocol behave as the asyncio Queue and
Event they replace, for the calls uvicorn makes, and hold no deque while idle."""

from __future__ import annotations

import asyncio

import pytest

from collab.realtime.wire import Flag, Inbox, slim

pytestmark = pytest.mark.anyio


async def test_the_inbox_hands_frames_over_in_order_and_wakes_its_reader() -> None:
    inbox = Inbox([{"n": 0}])
    assert not inbox.empty() and inbox.qsize() == 1
    assert await inbox.get() == {"n": 0}
    assert inbox.empty() and inbox._items is None, "an idle inbox holds no deque"
    reader = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()
    for n in range(1, 4):
        inbox.put_nowait({"n": n})
    assert await asyncio.wait_for(reader, 1) == {"n": 1}
    assert [await inbox.get(), await inbox.get()] == [{"n": 2}, {"n": 3}]
    # A reader that gives up (the socket's task cancelled) leaves the inbox usable.
    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    inbox.put_nowait("after")
    assert await asyncio.wait_for(inbox.get(), 1) == "after"


async def test_the_flag_pauses_and_resumes_writers() -> None:
    flag = Flag(True)
    assert flag.is_set() and await flag.wait()
    flag.clear()
    writers = [asyncio.create_task(flag.wait()) for _ in range(3)]
    await asyncio.sleep(0)
    assert not any(w.done() for w in writers)
    flag.set()
    assert await asyncio.wait_for(asyncio.gather(*writers), 1) == [True, True, True]
    assert flag._waiters is None


async def test_slim_leaves_anything_but_uvicorns_sansio_protocol_alone() -> None:
    async def send(message: dict[str, object]) -> None:
        return None

    assert slim(send) is False
