"""Unit fixtures: a migrated SQLite file and a hub on memory://, no services, no server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from collab import db
from collab.errors import Forbidden
from collab.migrations import migrate
from collab.realtime import Ack, Actor, Call, ChannelKind, Event, Hub, Present, handles
from collab.realtime.encoders import JSON, HtmlEncoder
from collab.settings import Settings


class EchoKind(ChannelKind):
    """A test channel kind: `note` stores an event; joining `echo:0` is refused."""

    kind = "echo"

    async def join(self, actor: Actor | None, id: int) -> str:
        if id == 0:
            raise Forbidden("not this one")
        return "reader"

    @handles("note", anonymous=True)
    async def note(self, call: Call) -> Ack:
        async with self.hub.transaction() as tx:
            event = await tx.emit(call.channel, "note", call.data, call.actor)
        return Ack(seq=event.seq)


class EchoRenderer:
    """The web layer's part for unit tests: one paragraph per note."""

    renders = 0

    def event(self, kind: ChannelKind, event: Event) -> str | None:
        EchoRenderer.renders += 1
        return f'<p id="n{event.seq}">{event.data.get("n")}</p>'

    def presence(self, kind: ChannelKind, channel: str, present: Present) -> str:
        return f'<ul id="presence">{present.count}</ul>'

    def joined(self, kind: ChannelKind, channel: str, seq: int, epoch: str,
               present: Present) -> str | None:
        return None

    def reset(self, channel: str, seq: int, epoch: str) -> str:
        return f'<div id="collab-reset" data-reset="{seq}"></div>'

    def error(self, code: str, message: str, ref: str | None) -> str:
        return f'<div id="ws-error">{message}</div>'

    def ack(self, ref: str) -> str:
        return f'<div id="ws-ack" data-ref="{ref}"></div>'


class FakeConnection:
    """Stands in for a socket: records what the hub queues for it."""

    def __init__(self, limit: int = 10_000, actor: Actor | None = None,
                 encoder: Any = JSON) -> None:
        self.frames: list[str] = []
        self.channels: dict[str, Any] = {}
        self.limit = limit
        self.closed = False
        self.actor = actor
        self.encoder = encoder

    def push(self, text: str, wire: bytes | None) -> bool:
        return self.enqueue(text)

    def enqueue(self, text: str) -> bool:
        if self.closed:
            return False
        if len(self.frames) >= self.limit:
            self.closed = True
            return False
        self.frames.append(text)
        return True

    async def room(self) -> None:
        return None

    def close(self, code: int) -> None:
        self.closed = True

    def parsed(self) -> list[dict[str, Any]]:
        return [orjson.loads(f) for f in self.frames]

    def seqs(self, channel: str) -> list[int]:
        return [f["seq"] for f in self.parsed()
                if f.get("op") == "event" and f.get("channel") == channel]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'unit.db'}",
                    broadcast_url="memory://", secret_key="unit", environment="test",
                    replay_max_events=50)


@pytest.fixture
async def hub(settings: Settings) -> AsyncIterator[Hub]:
    await migrate(settings.database_url)
    db.configure(settings.database_url)
    await db.connect()
    hub = Hub(settings, renderer=EchoRenderer())
    hub.register(EchoKind)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()
        await db.disconnect()


async def store_events(hub: Hub, channel: str, count: int) -> list[Event]:
    """Commit `count` events to the store without delivering them (as another process would)."""
    from collab.realtime import store

    events = []
    async with db.write_transaction():
        conn = db.database.get_transaction_connection()
        for n in range(count):
            events.append(await store.append(conn, Event(channel, "note", {"n": n}), hub.epoch))
    return events


def html_connection(hub: Hub, actor: Actor | None = None) -> FakeConnection:
    assert isinstance(hub.html, HtmlEncoder)
    return FakeConnection(actor=actor, encoder=hub.html)


async def join(hub: Hub, conn: FakeConnection, channel: str, since: int | None = None,
               ref: str | None = "j", epoch: str | None = None) -> None:
    await hub.joins.join(conn, channel, since, epoch, ref)  # type: ignore[arg-type]


async def note(hub: Hub, channel: str, n: int, actor: Actor | None = None) -> Ack:
    kind, id = hub.kind_for(channel)
    return await kind.perform(Call(actor, channel, id, "note", {"n": n}))
