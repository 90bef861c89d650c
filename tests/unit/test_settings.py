"""Settings come from the environment; platform database URLs get their async driver."""

from __future__ import annotations

from pathlib import Path

import pytest

from collab.settings import SettingsError, from_env, normalise_database_url


@pytest.mark.parametrize(("given", "expected"), [
    ("sqlite:///./collab.db", "sqlite+aiosqlite:///./collab.db"),
    ("postgres://u:p@db:5432/c", "postgresql+asyncpg://u:p@db:5432/c"),
    ("postgresql://u@db/c", "postgresql+asyncpg://u@db/c"),
    ("postgresql+asyncpg://u@db/c", "postgresql+asyncpg://u@db/c"),
])
def test_platform_database_urls_get_the_async_driver(given: str, expected: str) -> None:
    assert normalise_database_url(given) == expected


def test_unsupported_database_url_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL"):
        normalise_database_url("mysql://x")


def test_embedded_default_is_sqlite_and_memory(tmp_path: Path) -> None:
    settings = from_env({"SECRET_FILE": str(tmp_path / "secret")})
    assert settings.database_url == "sqlite+aiosqlite:///./collab.db"
    assert settings.broadcast_url == "memory://"
    assert settings.ws_outbox_frames == 1000 and settings.replay_max_events == 1000


def test_development_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    env = {"SECRET_FILE": str(tmp_path / "secret")}
    first = from_env(env).secret_key
    assert len(first) > 40 and from_env(env).secret_key == first


def test_production_requires_a_secret_key(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        from_env({"COLLAB_ENV": "production", "SECRET_FILE": str(tmp_path / "s")})


def test_limits_must_be_integers() -> None:
    with pytest.raises(SettingsError, match="WS_SEND_RATE"):
        from_env({"WS_SEND_RATE": "fast", "SECRET_KEY": "k"})
