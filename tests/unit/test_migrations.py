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


# The versions databases migrated before every domain kept its steps in `<domain>/migrations/`
# recorded in `schema_migrations`, in order. A renamed version would run its step again on
# those databases (and fail on a table that exists), a dropped one would never run.
RECORDED = [
    "0001_initial", "0002_realtime", "0003_sqlite_ids",
    "accounts_0002_username_key", "accounts_0003_token_expiry", "accounts_0004_sessions",
    "boards_0001_initial", "boards_0002_rank_sql", "boards_0003_card_key_index",
    "boards_0004_sqlite_ids",
    "webinars_0001_initial", "webinars_0002_sqlite_ids",
    "library_0001_initial", "library_0002_prefix_index", "library_0003_generation",
    "library_0004_pg_matches", "library_0005_rank_index", "library_0006_sqlite_ids",
    "library_0007_typed_prefix", "library_0008_pg_plain", "library_0009_pg_words",
]


def test_every_version_an_existing_database_recorded_keeps_its_name_and_order() -> None:
    # Later steps of a domain may come between (a fresh database runs them in list order, an
    # existing one after everything it has), but none of these is renamed, dropped or moved.
    versions = [version for version, _ in MIGRATIONS]
    assert [v for v in versions if v in RECORDED] == RECORDED


async def test_a_database_migrated_by_the_earlier_layout_is_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.db'}"
    # What the earlier code left: every step it had, run and recorded under its name.
    await migrate(url, [(version, step) for version, step in MIGRATIONS if version in RECORDED])
    later = [version for version, _ in MIGRATIONS if version not in RECORDED]
    assert await migrate(url) == later


def test_every_step_lives_in_one_layout() -> None:
    """`<package>/migrations/mNNNN_name.py` with an `upgrade`, NNNN the number of its version."""
    for version, step in MIGRATIONS:
        *_, folder, name = step.__module__.split(".")
        words = version.split("_")
        number = words[1] if words[0].isalpha() else words[0]
        assert (folder, name[:5], step.__name__) == ("migrations", f"m{number}", "upgrade"), \
            (version, step.__module__)
