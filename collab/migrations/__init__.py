"""Schema migrations: numbered steps, each applied once, recorded in `schema_migrations`."""

from __future__ import annotations

import logging
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from . import m0001_initial

log = logging.getLogger("collab.migrations")

Step = Callable[[sa.Connection], None]
MIGRATIONS: list[tuple[str, Step]] = [
    ("0001_initial", m0001_initial.upgrade),
]

_versions = sa.Table(
    "schema_migrations",
    sa.MetaData(),
    sa.Column("version", sa.String(100), primary_key=True),
    sa.Column("applied_at", sa.DateTime, server_default=sa.func.current_timestamp()),
)


def _pending(conn: sa.Connection) -> list[str]:
    _versions.create(conn, checkfirst=True)
    done = {row[0] for row in conn.execute(sa.select(_versions.c.version))}
    applied = []
    for version, step in MIGRATIONS:
        if version in done:
            continue
        log.info("applying migration %s", version)
        step(conn)
        conn.execute(_versions.insert().values(version=version))
        applied.append(version)
    return applied


async def migrate(url: str) -> list[str]:
    """Apply every pending migration to the database at `url`; returns what was applied."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # Two releases migrating at once must not both create the same table.
                await conn.execute(sa.text("SELECT pg_advisory_xact_lock(8124550)"))
            return await conn.run_sync(_pending)
    finally:
        await engine.dispose()
