"""A hub in the test's own process, on a migrated database (tests that drive the door or a
domain's service directly, without a server)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from collab import db
from collab.migrations import migrate
from collab.realtime import Hub
from collab.settings import Settings, normalise_database_url


@asynccontextmanager
async def running_hub(database_url: str, secret_key: str = "test",
                      prepare: Callable[[str], Awaitable[None]] | None = None
                      ) -> AsyncIterator[Hub]:
    """Migrate the database at `database_url` (then `prepare(url)`, for a test's own tables),
    connect, start a hub on it; stop and disconnect afterwards."""
    url = normalise_database_url(database_url)
    await migrate(url)
    if prepare is not None:
        await prepare(url)
    db.configure(url)
    await db.connect()
    hub = Hub(Settings(database_url=url, secret_key=secret_key, environment="test"))
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()
        await db.disconnect()
