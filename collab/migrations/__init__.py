"""Schema migrations: numbered steps, each applied once, recorded in `schema_migrations`.

The core's steps come first, then each domain's (`Domain.migrations`), in the order of the
domain list. `0001_initial` predates the plug and also holds the forum's tables.

One layout everywhere: a step is `upgrade(conn)` in `<package>/migrations/mNNNN_name.py`, and
the package's `migrations/__init__.py` lists its steps with their versions (the names recorded
in `schema_migrations`: a recorded name never changes, or the step would run again).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from . import m0001_initial, m0002_realtime, m0003_sqlite_ids

log = logging.getLogger("collab.migrations")

Step = Callable[[sa.Connection], None]
CORE: list[tuple[str, Step]] = [
    ("0001_initial", m0001_initial.upgrade),
    ("0002_realtime", m0002_realtime.upgrade),
    ("0003_sqlite_ids", m0003_sqlite_ids.upgrade),
]

_versions = sa.Table(
    "schema_migrations",
    sa.MetaData(),
    sa.Column("version", sa.String(100), primary_key=True),
    sa.Column("applied_at", sa.DateTime, server_default=sa.func.current_timestamp()),
)


def all_migrations() -> list[tuple[str, Step]]:
    """The core's steps, then every domain's, in order."""
    from collab.domains import DOMAINS

    steps = list(CORE)
    for domain in DOMAINS:
        steps.extend(domain.migrations)
    versions = [version for version, _ in steps]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a version: {versions}")
    return steps


def _pending(conn: sa.Connection, steps: list[tuple[str, Step]]) -> list[str]:
    _versions.create(conn, checkfirst=True)
    done = {row[0] for row in conn.execute(sa.select(_versions.c.version))}
    applied = []
    for version, step in steps:
        if version in done:
            continue
        log.info("applying migration %s", version)
        step(conn)
        conn.execute(_versions.insert().values(version=version))
        applied.append(version)
    return applied


async def migrate(url: str, steps: list[tuple[str, Step]] | None = None) -> list[str]:
    """Apply every pending migration to the database at `url`; returns what was applied."""
    steps = all_migrations() if steps is None else steps
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # Two releases migrating at once must not both create the same table.
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(8124550)"))
            return await conn.run_sync(_pending, steps)
    finally:
        await engine.dispose()


def __getattr__(name: str) -> object:
    if name == "MIGRATIONS":
        return all_migrations()
    raise AttributeError(name)
