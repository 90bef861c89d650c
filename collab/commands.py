"""What every `collab` command runs with: the settings (or a one-line refusal) and a connected,
migrated database.

Below the command line and the domains both: a domain's own command (`import-library`) uses
these without importing `collab.cli`, which imports every domain.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

from collab import settings as settings_mod

T = TypeVar("T")


def settings() -> settings_mod.Settings:
    """The settings from the environment; a bad one ends the command with its name, not a
    traceback."""
    try:
        return settings_mod.from_env()
    except settings_mod.SettingsError as exc:
        sys.exit(f"collab: {exc}")


async def with_db(coro_factory: Callable[[], Awaitable[T]]) -> T:
    """Run `coro_factory()` with the configured database connected (for commands), after
    applying pending migrations as `serve` does: an operator's first command on a new database
    is as often `seed` or `createuser` as `migrate`."""
    from collab import db
    from collab.accounts.service import use_test_hashing
    from collab.migrations import migrate

    current = settings()
    applied = await migrate(current.database_url)
    if applied:
        print("collab: applied migrations: " + ", ".join(applied), file=sys.stderr)
    db.configure(current.database_url)
    use_test_hashing(current.environment == "test")
    await db.connect()
    try:
        return await coro_factory()
    finally:
        await db.disconnect()
