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


def test_metrics_allow_defaults_to_loopback_and_takes_addresses_and_networks(
        tmp_path: Path) -> None:
    env = {"SECRET_FILE": str(tmp_path / "s")}
    assert from_env(env).metrics_allow == ("127.0.0.0/8", "::1")
    chosen = from_env({**env, "METRICS_ALLOW": " 10.0.0.0/8, 192.0.2.7 ,fd00::/8"})
    assert chosen.metrics_allow == ("10.0.0.0/8", "192.0.2.7", "fd00::/8")
    with pytest.raises(SettingsError, match="METRICS_ALLOW: 'prometheus.internal'"):
        from_env({**env, "METRICS_ALLOW": "10.0.0.1,prometheus.internal"})


def test_loop_stall_log_is_off_unless_named(tmp_path: Path) -> None:
    env = {"SECRET_FILE": str(tmp_path / "s")}
    assert from_env(env).loop_stall_log == ""
    assert from_env({**env, "LOOP_STALL_LOG": "/var/log/collab/stalls"}).loop_stall_log \
        == "/var/log/collab/stalls"


def test_limits_must_be_integers() -> None:
    with pytest.raises(SettingsError, match="WS_SEND_RATE"):
        from_env({"WS_SEND_RATE": "fast", "SECRET_KEY": "k"})


STRONG = "q8N-3vTz_Lw0PpR2mYc7Hk1XsJd4FbGa9Ue6"


@pytest.mark.parametrize("env", [
    {"DATABASE_URL": "postgresql://u@db/c"},
    {"DATABASE_URL": "postgres://u@db/c"},
    {"BROADCAST_URL": "redis://cache:6379/0"},
    {"BROADCAST_URL": "rediss://cache:6380/0", "SECRET_KEY": STRONG},
])
def test_postgresql_or_redis_without_an_explicit_environment_is_refused(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A deployment that forgot COLLAB_ENV used to get insecure cookies and a per-machine key."""
    with pytest.raises(SettingsError, match="COLLAB_ENV"):
        from_env({**env, "SECRET_FILE": str(tmp_path / "s")})
    assert not (tmp_path / "s").exists(), "no secret is generated for a refused start"


@pytest.mark.parametrize("environment", ["development", "test"])
def test_postgresql_and_redis_start_with_an_explicit_environment(
    environment: str, tmp_path: Path
) -> None:
    settings = from_env({"DATABASE_URL": "postgresql://u@db/c", "COLLAB_ENV": environment,
                         "BROADCAST_URL": "redis://cache:6379/0",
                         "SECRET_FILE": str(tmp_path / "s")})
    assert settings.environment == environment and not settings.secure_cookies


@pytest.mark.parametrize("key", [
    "x", "short-but-random-9f2", "development-only-secret", "test-secret", "changeme",
    "a" * 64, "ab" * 32, "0123456789" * 3, " " * 40,
])
def test_production_refuses_a_weak_secret_key(key: str, tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        from_env({"COLLAB_ENV": "production", "SECRET_KEY": key,
                  "DATABASE_URL": "postgresql://u@db/c", "SECRET_FILE": str(tmp_path / "s")})


def test_production_accepts_a_strong_secret_key(tmp_path: Path) -> None:
    settings = from_env({"COLLAB_ENV": "production", "SECRET_KEY": STRONG,
                         "DATABASE_URL": "postgresql://u@db/c",
                         "BROADCAST_URL": "redis://cache:6379/0"})
    assert settings.secret_key == STRONG and settings.secure_cookies


def test_token_lifetime_and_sign_in_limits_are_settings() -> None:
    defaults = from_env({"SECRET_KEY": "k"})
    assert defaults.token_ttl_days == 90
    assert defaults.login_attempts_per_address_per_minute == 30
    assert defaults.login_attempts_per_minute == 10
    with pytest.raises(SettingsError, match="TOKEN_TTL_DAYS"):
        from_env({"SECRET_KEY": "k", "TOKEN_TTL_DAYS": "0"})
    custom = from_env({"SECRET_KEY": "k", "TOKEN_TTL_DAYS": "7",
                       "LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE": "0"})
    assert custom.token_ttl_days == 7 and custom.login_attempts_per_address_per_minute == 0
