"""The hub's guarantees: seq order, no duplicates, gap repair, replay, reset, epoch, presence."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from collab.errors import Forbidden, NotFound
from collab.realtime import Actor, Event, Hub, store

from ..conftest import EchoRenderer, FakeConnection, html_connection, join, note, store_events

pytestmark = pytest.mark.anyio
ALICE = Actor(id=1, username="alice")
BOB = Actor(id=2, username="bob")


async def wait_for_seqs(conn: FakeConnection, channel: str, expected: list[int]) -> None:
    """Wait (bounded) until `conn` has exactly `expected`; the hub repairs in the background."""
    with anyio.fail_after(5):
        while conn.seqs(channel) != expected:
            assert len(conn.seqs(channel)) <= len(expected), conn.seqs(channel)
            await asyncio.sleep(0)  # yield to the repair task; bounded by fail_after


async def test_events_arriving_out_of_order_are_delivered_in_seq_order(hub: Hub) -> None:
    conn = FakeConnection(actor=ALICE)
    await join(hub, conn, "echo:1")
    events = await store_events(hub, "echo:1", 3)
    for event in (events[2], events[1], events[0]):
        hub.delivery.deliver(Event.from_frame(event.frame))
    await wait_for_seqs(conn, "echo:1", [1, 2, 3])


async def test_duplicates_from_the_bus_are_dropped(hub: Hub) -> None:
    conn = FakeConnection(actor=ALICE)
    await join(hub, conn, "echo:1")
    (event,) = await store_events(hub, "echo:1", 1)
    for _ in range(3):
        hub.delivery.deliver(Event.from_frame(event.frame))
    assert conn.seqs("echo:1") == [1]


async def test_a_gap_is_filled_from_the_store_before_delivery_goes_on(hub: Hub) -> None:
    conn = FakeConnection(actor=ALICE)
    await join(hub, conn, "echo:1")
    events = await store_events(hub, "echo:1", 6)
    # Only the last one reaches this process, as when the bus dropped five messages.
    hub.delivery.deliver(Event.from_frame(events[-1].frame))
    await wait_for_seqs(conn, "echo:1", [1, 2, 3, 4, 5, 6])


async def test_repair_all_delivers_what_was_committed_while_the_bus_was_down(hub: Hub) -> None:
    conn = FakeConnection(actor=ALICE)
    await join(hub, conn, "echo:1")
    await store_events(hub, "echo:1", 4)
    assert conn.seqs("echo:1") == []
    await hub.delivery.repair_all()
    await wait_for_seqs(conn, "echo:1", [1, 2, 3, 4])


async def test_join_with_since_replays_then_continues_live_exactly_once(hub: Hub) -> None:
    await store_events(hub, "echo:1", 10)
    watcher = FakeConnection(actor=ALICE)
    await join(hub, watcher, "echo:1")
    late = FakeConnection(actor=BOB)

    async def publish_more() -> None:
        for n in range(5):
            await note(hub, "echo:1", 100 + n, ALICE)

    async with anyio.create_task_group() as tg:
        tg.start_soon(publish_more)
        tg.start_soon(join, hub, late, "echo:1", 4, "late")
    await wait_for_seqs(late, "echo:1", list(range(5, 16)))
    joined = [f for f in late.parsed() if f["op"] == "joined"]
    assert len(joined) == 1 and joined[0]["ref"] == "late"
    assert joined[0]["epoch"] == hub.epoch and hub.epoch
    # Everything up to joined.seq came before the joined frame; later ones after it.
    position = late.parsed().index(joined[0])
    before = [f["seq"] for f in late.parsed()[:position] if f["op"] == "event"]
    assert before == list(range(5, joined[0]["seq"] + 1))


def _reset_then_joined(conn: FakeConnection, head: int) -> None:
    frames = conn.parsed()
    assert frames[0]["op"] == "event" and frames[0]["type"] == "reset", frames
    assert frames[0]["seq"] == head
    assert frames[1]["op"] == "joined" and frames[1]["seq"] == head
    assert len(frames) == 2, frames


async def test_join_too_far_behind_gets_reset(hub: Hub) -> None:
    await store_events(hub, "echo:1", 60)  # replay_max_events is 50 in these settings
    conn = FakeConnection(actor=ALICE)
    await join(hub, conn, "echo:1", since=3)
    _reset_then_joined(conn, 60)


async def test_a_since_beyond_the_head_gets_reset_not_silence(hub: Hub) -> None:
    # A page that saw seq 40 of a database since restored to seq 5 must reload, or it would
    # drop every event up to 40 as "already seen".
    await store_events(hub, "echo:1", 5)
    conn = FakeConnection(actor=ALICE)
    await join(hub, conn, "echo:1", since=40)
    _reset_then_joined(conn, 5)


async def test_a_since_from_another_epoch_gets_reset(hub: Hub) -> None:
    await store_events(hub, "echo:1", 5)
    conn = FakeConnection(actor=ALICE)
    await join(hub, conn, "echo:1", since=2, epoch="another-history")
    _reset_then_joined(conn, 5)
    same = FakeConnection(actor=ALICE)
    await join(hub, same, "echo:1", since=2, epoch=hub.epoch)
    assert same.seqs("echo:1") == [3, 4, 5]


async def test_join_is_authorised_by_the_channel_kind(hub: Hub) -> None:
    conn = FakeConnection(actor=ALICE)
    with pytest.raises(Forbidden):
        await join(hub, conn, "echo:0")
    with pytest.raises(NotFound):
        await join(hub, conn, "nosuchkind:1")
    assert conn.frames == [] and conn.channels == {}


@pytest.mark.parametrize("channel", ["echo:¹", "echo:١", "echo:-1", "echo:1.0", "echo:",
                                     "echo:99999999999999999999", "echo: 1"])
async def test_channel_ids_are_ascii_digits_within_range(hub: Hub, channel: str) -> None:
    conn = FakeConnection(actor=ALICE)
    with pytest.raises(NotFound):
        await join(hub, conn, channel)


async def test_the_grant_join_returns_is_kept_for_the_subscription(hub: Hub) -> None:
    conn = FakeConnection(actor=ALICE)
    await join(hub, conn, "echo:3")
    assert conn.channels == {"echo:3": "reader"}


async def test_html_subscribers_get_the_fragment_rendered_once(hub: Hub) -> None:
    pages = [html_connection(hub) for _ in range(5)]
    for page in pages:
        await join(hub, page, "echo:1", ref=None)
    before = EchoRenderer.renders
    await note(hub, "echo:1", 7, ALICE)
    assert EchoRenderer.renders == before + 1
    assert all(page.frames[-1] == '<p id="n1">7</p>' for page in pages)


async def test_a_socket_that_joins_twice_is_present_once_and_leaves_once(hub: Hub) -> None:
    conn = FakeConnection(actor=ALICE)
    await join(hub, conn, "echo:1")
    await join(hub, conn, "echo:1")
    assert [m["id"] for m in await hub.members("echo:1")] == [1]
    await hub.joins.leave(conn, "echo:1")  # type: ignore[arg-type]
    assert await hub.members("echo:1") == []


async def test_pruning_keeps_the_last_replay_window(hub: Hub) -> None:
    await store_events(hub, "echo:1", 120)
    removed = await store.prune(keep=50, retention_days=0)
    assert removed == 70
    kept = await store.read("echo:1", 0)
    assert [e.seq for e in kept] == list(range(71, 121))
    # A join inside the window still replays; one behind it is reset.
    inside = FakeConnection(actor=ALICE)
    await join(hub, inside, "echo:1", since=100)
    assert inside.seqs("echo:1") == list(range(101, 121))


async def test_a_thousand_joins_within_a_second_cost_each_socket_a_few_presence_frames(
        hub: Hub) -> None:
    sockets = [FakeConnection(actor=Actor(id=1000 + n, username=f"m{n}")) for n in range(1000)]
    with anyio.fail_after(1):
        for conn in sockets:
            await join(hub, conn, "echo:7")
    # Let the coalescing windows that are open close (each flush is one frame per socket).
    with anyio.fail_after(5):
        while hub.crowd._batches:
            await asyncio.sleep(0.05)  # polling the flush, bounded by fail_after
    counts = [sum(1 for f in conn.parsed() if f["op"] == "presence") for conn in sockets]
    assert max(counts) <= 6, f"up to {max(counts)} presence frames for 1,000 arrivals"
    # Nobody missed anybody: the first socket has seen every arrival.
    first = sockets[0]
    seen = {m["id"] for f in first.parsed() if f["op"] == "joined" for m in f["presence"]}
    seen |= {m["id"] for f in first.parsed() if f["op"] == "presence" for m in f["joins"]}
    assert seen == {1000 + n for n in range(1000)}


async def test_a_since_this_process_has_not_heard_yet_is_caught_up_not_reset(hub: Hub) -> None:
    """Events another process committed whose bus messages have not come yet: a rejoin that
    saw them elsewhere is behind nothing (issue 22, 2); every socket here gets them once."""
    watcher = FakeConnection(actor=ALICE)
    await join(hub, watcher, "echo:1")
    await store_events(hub, "echo:1", 3)
    rejoiner = FakeConnection(actor=BOB)
    await join(hub, rejoiner, "echo:1", since=3, epoch=hub.epoch)
    frames = rejoiner.parsed()
    assert [f["op"] for f in frames] == ["joined"], frames
    assert frames[0]["seq"] == 3
    assert watcher.seqs("echo:1") == [1, 2, 3]
    await note(hub, "echo:1", 4, ALICE)
    assert rejoiner.seqs("echo:1") == [4] and watcher.seqs("echo:1") == [1, 2, 3, 4]
