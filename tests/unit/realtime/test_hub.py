"""The hub's guarantees: seq order, no duplicates, gap repair from the store, replay, reset."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from collab.errors import Forbidden, NotFound
from collab.realtime import Actor, Event, Hub

from ..conftest import FakeConnection, store_events

pytestmark = pytest.mark.anyio
ALICE = Actor(id=1, username="alice")


async def wait_for_seqs(conn: FakeConnection, channel: str, expected: list[int]) -> None:
    """Wait (bounded) until `conn` has exactly `expected`; the hub repairs in the background."""
    with anyio.fail_after(5):
        while conn.seqs(channel) != expected:
            assert len(conn.seqs(channel)) <= len(expected), conn.seqs(channel)
            await asyncio.sleep(0)  # yield to the repair task; bounded by fail_after


async def test_events_arriving_out_of_order_are_delivered_in_seq_order(hub: Hub) -> None:
    conn = FakeConnection()
    await hub.join(conn, "echo:1", ALICE, None, "j")
    events = await store_events(hub, "echo:1", 3)
    for event in (events[2], events[1], events[0]):
        hub.deliver(Event.from_frame(event.frame))
    await wait_for_seqs(conn, "echo:1", [1, 2, 3])


async def test_duplicates_from_the_bus_are_dropped(hub: Hub) -> None:
    conn = FakeConnection()
    await hub.join(conn, "echo:1", ALICE, None, "j")
    (event,) = await store_events(hub, "echo:1", 1)
    for _ in range(3):
        hub.deliver(Event.from_frame(event.frame))
    assert conn.seqs("echo:1") == [1]


async def test_a_gap_is_filled_from_the_store_before_delivery_goes_on(hub: Hub) -> None:
    conn = FakeConnection()
    await hub.join(conn, "echo:1", ALICE, None, "j")
    events = await store_events(hub, "echo:1", 6)
    # Only the last one reaches this process, as when the bus dropped five messages.
    hub.deliver(Event.from_frame(events[-1].frame))
    await wait_for_seqs(conn, "echo:1", [1, 2, 3, 4, 5, 6])


async def test_repair_all_delivers_what_was_committed_while_the_bus_was_down(hub: Hub) -> None:
    conn = FakeConnection()
    await hub.join(conn, "echo:1", ALICE, None, "j")
    await store_events(hub, "echo:1", 4)
    assert conn.seqs("echo:1") == []
    await hub.repair_all()
    await wait_for_seqs(conn, "echo:1", [1, 2, 3, 4])


async def test_join_with_since_replays_then_continues_live_exactly_once(hub: Hub) -> None:
    await store_events(hub, "echo:1", 10)
    watcher = FakeConnection()
    await hub.join(watcher, "echo:1", ALICE, None, "w")
    late = FakeConnection()

    async def publish_more() -> None:
        for n in range(5):
            await hub.kinds["echo"].handle(ALICE, "1", "note", {"n": 100 + n})

    async with anyio.create_task_group() as tg:
        tg.start_soon(publish_more)
        tg.start_soon(hub.join, late, "echo:1", ALICE, 4, "late")
    await wait_for_seqs(late, "echo:1", list(range(5, 16)))
    joined = [f for f in late.parsed() if f["op"] == "joined"]
    assert len(joined) == 1 and joined[0]["ref"] == "late"
    # Everything up to joined.seq came before the joined frame; later ones after it.
    position = late.parsed().index(joined[0])
    before = [f["seq"] for f in late.parsed()[:position] if f["op"] == "event"]
    assert before == list(range(5, joined[0]["seq"] + 1))


async def test_join_too_far_behind_gets_reset(hub: Hub) -> None:
    await store_events(hub, "echo:1", 60)  # replay_max_events is 50 in these settings
    conn = FakeConnection()
    await hub.join(conn, "echo:1", ALICE, 3, "j")
    frames = conn.parsed()
    assert frames[0] == {"op": "event", "channel": "echo:1", "type": "reset", "seq": 60}
    assert frames[1]["op"] == "joined" and frames[1]["seq"] == 60
    assert len(frames) == 2


async def test_join_is_authorised_by_the_channel_kind(hub: Hub) -> None:
    conn = FakeConnection()
    with pytest.raises(Forbidden):
        await hub.join(conn, "echo:0", ALICE, None, "j")
    with pytest.raises(NotFound):
        await hub.join(conn, "nosuchkind:1", ALICE, None, "j")
    assert conn.frames == [] and conn.channels == {}


async def test_html_subscribers_get_the_fragment_rendered_once(hub: Hub) -> None:
    renders = 0
    kind = hub.kinds["echo"]
    original = kind.render

    def counting(event: Event) -> str | None:
        nonlocal renders
        renders += 1
        return original(event)

    kind.render = counting  # type: ignore[method-assign]
    pages = [FakeConnection() for _ in range(5)]
    for page in pages:
        await hub.join(page, "echo:1", None, None, None, html=True)
    await kind.handle(ALICE, "1", "note", {"n": 7})
    assert renders == 1
    assert all(page.frames == ['<p id="n1">7</p>'] for page in pages)


async def test_presence_lists_members_once_and_announces_joins_and_leaves(hub: Hub) -> None:
    first, second, third = FakeConnection(), FakeConnection(), FakeConnection()
    await hub.join(first, "echo:1", ALICE, None, "a")
    await hub.join(second, "echo:1", ALICE, None, "b")  # same member, second socket
    bob = Actor(id=2, username="bob")
    await hub.join(third, "echo:1", bob, None, "c")
    joined = next(f for f in third.parsed() if f["op"] == "joined")
    assert [m["username"] for m in joined["presence"]] == ["alice", "bob"]
    # `first` learns of bob by a diff; its own arrival came in its `joined` frame, and
    # alice's second socket is no new member.
    presence = [f for f in first.parsed() if f["op"] == "presence"]
    assert [p["joins"][0]["username"] for p in presence] == ["bob"]
    await hub.leave(third, "echo:1")
    await hub.leave(second, "echo:1")  # alice still has `first` open: no leave announced
    leaves = [f["leaves"] for f in first.parsed() if f["op"] == "presence" and f["leaves"]]
    assert [[m["username"] for m in leave] for leave in leaves] == [["bob"]]


async def test_a_full_outbox_drops_only_that_socket(hub: Hub) -> None:
    slow, fast = FakeConnection(limit=3), FakeConnection()
    await hub.join(slow, "echo:1", None, None, "s")
    await hub.join(fast, "echo:1", None, None, "f")
    for n in range(10):
        await hub.kinds["echo"].handle(ALICE, "1", "note", {"n": n})
    assert slow.closed
    assert fast.seqs("echo:1") == list(range(1, 11))
    assert slow not in hub.channels["echo:1"].subs


async def test_listeners_hear_each_committed_event_once_and_never_a_rolled_back_one(
    hub: Hub,
) -> None:
    heard: list[tuple[str, int | None]] = []

    async def listener(event: Event) -> None:
        heard.append((event.channel, event.seq))

    hub.listen(listener)
    await hub.kinds["echo"].handle(ALICE, "1", "note", {"n": 1})
    with pytest.raises(RuntimeError):
        async with hub.transaction() as tx:
            await tx.emit("echo:1", "note", {"n": 2}, ALICE)
            raise RuntimeError("the domain write failed")
    await hub.kinds["echo"].handle(ALICE, "1", "note", {"n": 3})
    assert heard == [("echo:1", 1), ("echo:1", 2)]


async def test_one_socket_cannot_follow_unbounded_channels(hub: Hub) -> None:
    from collab.errors import Invalid
    from collab.realtime.hub import MAX_CHANNELS_PER_SOCKET

    conn = FakeConnection()
    for n in range(1, MAX_CHANNELS_PER_SOCKET + 1):
        await hub.join(conn, f"echo:{n}", None, None, None)
    with pytest.raises(Invalid):
        await hub.join(conn, "echo:999999", None, None, None)
    await hub.join(conn, "echo:1", None, None, None)  # rejoining one it follows is fine
    assert len(conn.channels) == MAX_CHANNELS_PER_SOCKET
