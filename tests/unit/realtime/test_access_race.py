"""Access taken away while a socket is between its access check and storing the grant.

A join (or a send to a channel not joined) checks access, then awaits: the check itself, the
bus SUBSCRIBE, the store's head, presence. An access change landing in that window used to be
missed, since `access_changed` re-checks only the grants a socket has stored: a removed member
kept a private board, a demoted moderator kept the moderator's grant (issue 21, 1). Each test
holds the channel kind's `join` right after its check, changes access inside the window, and
then looks at what the socket is told and sent, through a real `Connection` on a real hub.
"""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import orjson
import pytest

from collab.errors import Forbidden
from collab.realtime import Ack, Actor, Call, ChannelKind, Hub, handles
from collab.realtime.connection import Connection

pytestmark = pytest.mark.anyio
ALICE = Actor(id=1, username="alice")
BOB = Actor(id=2, username="bob")


class GatedKind(ChannelKind):
    """`gated:ID`: who may follow it is the `roles` table; `hold()` stops the next join's
    check just after it has read the table, as a real join stands in its awaits
    (`hold(before=True)`: just before, as a check stands in its query)."""

    kind = "gated"

    def __init__(self, hub: Hub) -> None:
        super().__init__(hub)
        self.roles: dict[tuple[int, int], str] = {}
        self._gate: asyncio.Event | None = None
        self._before = False
        self.reached = asyncio.Event()

    def hold(self, before: bool = False) -> asyncio.Event:
        self._gate = asyncio.Event()
        self._before = before
        self.reached = asyncio.Event()
        return self._gate

    async def join(self, actor: Actor | None, id: int) -> str:
        if self._before and self._gate is not None:
            gate, self._gate = self._gate, None
            self.reached.set()
            await gate.wait()
        role = self.roles.get((actor.id if actor else 0, id))
        if role is None:
            raise Forbidden(f"not a member of gated:{id}")
        gate, self._gate = self._gate, None
        if gate is not None:
            self.reached.set()
            await gate.wait()
        return role

    @handles("note")
    async def note(self, call: Call) -> Ack:
        async with self.hub.transaction() as tx:
            event = await tx.emit(call.channel, "note", call.data, call.actor)
        return Ack(seq=event.seq)

    @handles("whoami")
    async def whoami(self, call: Call) -> Ack:
        return Ack(data={"role": call.grant})


class Socket:
    """A real hub `Connection` whose ASGI send records the frames the client would read."""

    def __init__(self, hub: Hub, actor: Actor) -> None:
        self.frames: list[dict[str, Any]] = []
        self.conn = Connection(hub, self._send, actor)
        hub.track(self.conn)
        self._refs = 0

    async def _send(self, message: dict[str, Any]) -> None:
        if message.get("type") == "websocket.send":
            self.frames.append(orjson.loads(message["text"]))

    def frame(self, op: str, **fields: Any) -> tuple[str, str]:
        self._refs += 1
        ref = f"r{self._refs}"
        return ref, orjson.dumps({"op": op, "ref": ref, **fields}).decode()

    async def request(self, op: str, **fields: Any) -> dict[str, Any]:
        ref, text = self.frame(op, **fields)
        await self.conn.handle_text(text)
        return await self.reply(ref)

    async def reply(self, ref: str) -> dict[str, Any]:
        return await self.first(lambda f: f.get("ref") == ref, f"the reply to {ref}")

    async def first(self, wanted: Any, what: str) -> dict[str, Any]:
        with anyio.fail_after(5, shield=False):
            while True:
                for frame in self.frames:
                    if wanted(frame):
                        return frame
                await asyncio.sleep(0.001)  # the writer task sends; bounded by fail_after

    async def settled(self) -> None:
        """Everything queued before now has been written (a pong comes after it, in order)."""
        assert (await self.request("ping"))["op"] == "pong"

    def events(self, channel: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("op") == "event" and f["channel"] == channel]


@pytest.fixture
def gated(hub: Hub) -> GatedKind:
    kind = hub.register(GatedKind)
    assert isinstance(kind, GatedKind)
    return kind


async def _note(hub: Hub, channel: str, n: int) -> None:
    kind, id = hub.kind_for(channel)
    await kind.perform(Call(BOB, channel, id, "note", {"n": n}, "owner"))


async def test_a_member_removed_while_joining_does_not_keep_the_channel(
        hub: Hub, gated: GatedKind) -> None:
    gated.roles[(ALICE.id, 5)] = "member"
    alice = Socket(hub, ALICE)
    gate = gated.hold()
    ref, text = alice.frame("join", channel="gated:5")
    joining = asyncio.create_task(alice.conn.handle_text(text))
    await gated.reached.wait()
    del gated.roles[(ALICE.id, 5)]  # the owner removes her, then tells the hub
    await hub.access_changed(ALICE.id)
    gate.set()
    await joining
    reply = await alice.reply(ref)
    assert reply["op"] == "error" and reply["code"] == "forbidden", reply
    await _note(hub, "gated:5", 1)
    await alice.settled()
    assert alice.events("gated:5") == []
    assert "gated:5" not in alice.conn.channels
    refused = await alice.request("send", channel="gated:5", type="note", data={"n": 2})
    assert refused["op"] == "error" and refused["code"] == "forbidden", refused


async def test_a_moderator_demoted_while_joining_gets_the_new_grant(
        hub: Hub, gated: GatedKind) -> None:
    gated.roles[(ALICE.id, 6)] = "moderator"
    alice = Socket(hub, ALICE)
    gate = gated.hold()
    ref, text = alice.frame("join", channel="gated:6")
    joining = asyncio.create_task(alice.conn.handle_text(text))
    await gated.reached.wait()
    gated.roles[(ALICE.id, 6)] = "reader"
    await hub.access_changed(ALICE.id)
    gate.set()
    await joining
    assert (await alice.reply(ref))["op"] == "joined"
    ack = await alice.request("send", channel="gated:6", type="whoami", data={})
    assert ack["op"] == "ack" and ack["data"] == {"role": "reader"}, ack


async def test_a_channel_closed_to_everyone_while_joining_is_not_joined(
        hub: Hub, gated: GatedKind) -> None:
    gated.roles[(ALICE.id, 7)] = "reader"
    alice = Socket(hub, ALICE)
    gate = gated.hold()
    ref, text = alice.frame("join", channel="gated:7")
    joining = asyncio.create_task(alice.conn.handle_text(text))
    await gated.reached.wait()
    gated.roles.clear()  # e.g. a public board made private
    await hub.channel_access_changed("gated:7")
    gate.set()
    await joining
    reply = await alice.reply(ref)
    assert reply["op"] == "error" and reply["code"] == "forbidden", reply
    await _note(hub, "gated:7", 1)
    await alice.settled()
    assert alice.events("gated:7") == []


async def test_a_send_authorised_while_access_is_removed_is_not_remembered(
        hub: Hub, gated: GatedKind) -> None:
    """A send to a channel not joined passes join's check once and remembers the grant: a
    grant checked just before the removal must not be remembered."""
    gated.roles[(ALICE.id, 8)] = "moderator"
    alice = Socket(hub, ALICE)
    gate = gated.hold()
    ref, text = alice.frame("send", channel="gated:8", type="whoami", data={})
    sending = asyncio.create_task(alice.conn.handle_text(text))
    await gated.reached.wait()
    gated.roles[(ALICE.id, 8)] = "reader"
    await hub.access_changed(ALICE.id)
    gate.set()
    await sending
    first = await alice.reply(ref)
    assert first["op"] == "ack" and first["data"] == {"role": "reader"}, first
    del gated.roles[(ALICE.id, 8)]
    await hub.access_changed(ALICE.id)
    again = await alice.request("send", channel="gated:8", type="whoami", data={})
    assert again["op"] == "error" and again["code"] == "forbidden", again


async def test_access_changed_again_during_a_recheck_is_checked_again_at_once(
        hub: Hub, gated: GatedKind) -> None:
    """A second change landing while the socket's grants are being checked again used to wait
    for the socket's next frame: a reader that sends nothing kept receiving."""
    gated.roles[(ALICE.id, 9)] = "member"
    alice = Socket(hub, ALICE)
    assert (await alice.request("join", channel="gated:9"))["op"] == "joined"
    gate = gated.hold()
    gated.roles[(ALICE.id, 9)] = "viewer"
    await hub.access_changed(ALICE.id)  # the recheck reads "viewer" and stands in the gate
    await gated.reached.wait()
    del gated.roles[(ALICE.id, 9)]  # ... when she is removed altogether
    await hub.access_changed(ALICE.id)
    gate.set()
    await alice.first(lambda f: f.get("op") == "error"
                      and "no longer have access to gated:9" in f.get("message", ""),
                      "the socket to be told it lost gated:9")
    await _note(hub, "gated:9", 1)
    await alice.settled()
    assert alice.events("gated:9") == []


async def test_events_after_an_access_change_wait_for_the_recheck(
        hub: Hub, gated: GatedKind) -> None:
    """Events committed after a member was removed must not reach their socket while its
    grants are being checked again; a socket that keeps its channel gets them after, in
    order."""
    gated.roles[(ALICE.id, 10)] = "member"
    gated.roles[(ALICE.id, 11)] = "member"
    alice = Socket(hub, ALICE)
    assert (await alice.request("join", channel="gated:10"))["op"] == "joined"
    assert (await alice.request("join", channel="gated:11"))["op"] == "joined"
    gate = gated.hold(before=True)
    del gated.roles[(ALICE.id, 10)]  # removed from 10, still in 11
    await hub.access_changed(ALICE.id)
    await gated.reached.wait()  # the re-check of gated:10 stands in its query
    await _note(hub, "gated:10", 1)
    await _note(hub, "gated:11", 1)
    await _note(hub, "gated:11", 2)
    await alice.settled()
    assert alice.events("gated:10") == [] and alice.events("gated:11") == []
    gate.set()
    await alice.first(lambda f: f.get("op") == "error"
                      and "no longer have access to gated:10" in f.get("message", ""),
                      "the socket to be told it lost gated:10")
    await alice.first(lambda f: len(alice.events("gated:11")) == 2, "gated:11's two events")
    await alice.settled()
    assert alice.events("gated:10") == []
    assert [e["seq"] for e in alice.events("gated:11")] == [1, 2]
