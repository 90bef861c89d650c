"""The migrated schema is the schema the models describe, on a fresh SQLite database."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

import collab.app  # noqa: F401  (imports every model onto the metadata)
from collab.db import metadata
from collab.migrations import MIGRATIONS, migrate


async def _migrated_columns(url: str) -> dict[str, set[str]]:
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    async with engine.connect() as conn:
        def read(sync_conn: sa.Connection) -> dict[str, set[str]]:
            inspector = sa.inspect(sync_conn)
            return {t: {c["name"] for c in inspector.get_columns(t)}
                    for t in inspector.get_table_names()}
        columns = await conn.run_sync(read)
    await engine.dispose()
    return columns


pytestmark = pytest.mark.anyio


async def test_migrations_create_every_model_table_and_column(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    assert await migrate(url) == [version for version, _ in MIGRATIONS]
    migrated = await _migrated_columns(url)
    for table in metadata.sorted_tables:
        assert table.name in migrated, f"no migration creates {table.name}"
        assert {c.name for c in table.columns} == migrated[table.name], table.name


async def test_migrating_twice_applies_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    await migrate(url)
    assert await migrate(url) == []
