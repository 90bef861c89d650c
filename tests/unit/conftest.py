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
from collab.realtime import Ack, Actor, ChannelKind, Event, Hub
from collab.settings import Settings


class EchoKind(ChannelKind):
    """A test channel kind: `note` stores an event; joining `echo:0` is refused."""

    kind = "echo"

    async def join(self, actor: Actor | None, id: str) -> None:
        if id == "0":
            raise Forbidden("not this one")

    async def handle(self, actor: Actor | None, id: str, type: str, data: dict[str, Any]) -> Ack:
        async with self.hub.transaction() as tx:
            event = await tx.emit(f"echo:{id}", "note", data, actor)
        return Ack(seq=event.seq)

    def render(self, event: Event) -> str | None:
        return f'<p id="n{event.seq}">{event.data.get("n")}</p>'


class FakeConnection:
    """Stands in for a socket: records what the hub queues for it."""

    def __init__(self, limit: int = 10_000) -> None:
        self.frames: list[str] = []
        self.channels: dict[str, Actor | None] = {}
        self.limit = limit
        self.closed = False

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
    hub = Hub(settings)
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
            events.append(await store.append(conn, Event(channel, "note", {"n": n})))
    return events
