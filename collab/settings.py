"""Configuration from the environment, with embedded defaults (SQLite file + memory://)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

ENVIRONMENTS = ("development", "test", "production")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


def normalise_database_url(url: str) -> str:
    """Add the async driver that ormar needs to the URL forms platforms hand out."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        return "postgresql+asyncpg://" + url[len("postgresql://"):]
    if url.startswith("sqlite://") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite://" + url[len("sqlite://"):]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return url
    raise SettingsError(
        f"DATABASE_URL {url!r} is not supported: use sqlite:///path or postgresql://…"
    )


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


# Keys seen in examples, tests and tutorials: anyone could sign cookies with them.
WEAK_SECRET_KEYS = frozenset({
    "secret", "secret-key", "secret_key", "changeme", "change-me", "development-only-secret",
    "test-secret", "bench", "collab", "collab-demo", "password", "your-secret-key",
    "please-change-me", "django-insecure", "notsecret", "supersecret",
})
MIN_SECRET_KEY_LENGTH = 32


def _strong_enough(key: str) -> bool:
    return (len(key) >= MIN_SECRET_KEY_LENGTH and key.strip().lower() not in WEAK_SECRET_KEYS
            and len(set(key)) >= 10)  # "aaaa…" or "abab…" is long but guessable


def _secret_key(env: Mapping[str, str], environment: str, secret_file: Path) -> str:
    key = env.get("SECRET_KEY", "")
    if environment == "production":
        if not key:
            raise SettingsError("SECRET_KEY is required when COLLAB_ENV=production")
        if not _strong_enough(key):
            raise SettingsError(
                f"SECRET_KEY is too weak for COLLAB_ENV=production: use at least "
                f"{MIN_SECRET_KEY_LENGTH} random characters, e.g. the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
        return key
    if key:
        return key
    # Development keeps one generated key on disk so sessions survive a restart.
    if secret_file.exists():
        return secret_file.read_text().strip()
    key = secrets.token_urlsafe(48)
    secret_file.write_text(key)
    secret_file.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite+aiosqlite:///./collab.db"
    broadcast_url: str = "memory://"
    secret_key: str = "development-only-secret"
    environment: str = "development"
    ws_max_frame_bytes: int = 65536
    ws_outbox_frames: int = 1000
    ws_send_rate: int = 10
    ws_bad_frames_per_minute: int = 100
    replay_max_events: int = 1000
    event_retention_days: int = 7
    login_attempts_per_minute: int = 10
    login_attempts_per_address_per_minute: int = 30
    token_ttl_days: int = 90
    http_writes_per_minute: int = 120
    allowed_origins: tuple[str, ...] = field(default_factory=tuple)
    presence_ttl_seconds: int = 30
    ws_direct_writes: bool = True
    max_mentions_per_text: int = 10
    notifications_per_sender_per_hour: int = 300
    metrics_allow: tuple[str, ...] = ("127.0.0.0/8", "::1")
    loop_stall_log: str = ""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def uses_memory_broadcast(self) -> bool:
        return self.broadcast_url.startswith("memory://")

    @property
    def secure_cookies(self) -> bool:
        return self.environment == "production"

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed (tests build apps from explicit settings)."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _networks(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of addresses or networks (`10.0.0.0/8`), each checked here."""
    raw = env.get(name)
    if raw is None or not raw.strip():
        return default
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise SettingsError(f"{name}: {item!r} is not an IP address or network "
                                "(e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    return items


def from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Read every setting from the environment; unset ones take the embedded defaults."""
    env = os.environ if env is None else env
    environment = env.get("COLLAB_ENV", "")
    if environment and environment not in ENVIRONMENTS:
        raise SettingsError(f"COLLAB_ENV must be one of {', '.join(ENVIRONMENTS)}")
    origins = tuple(o.strip() for o in env.get("ALLOWED_ORIGINS", "").split(",") if o.strip())
    broadcast_url = env.get("BROADCAST_URL") or "memory://"
    if not broadcast_url.startswith(("memory://", "redis://", "rediss://")):
        raise SettingsError(f"BROADCAST_URL {broadcast_url!r} is not supported: "
                            "use memory:// or redis://host:port/db")
    database_url = normalise_database_url(env.get("DATABASE_URL") or "sqlite:///./collab.db")
    if not environment:
        # PostgreSQL or Redis means a deployment: silently falling back to development there
        # gave insecure cookies and a secret generated per machine (sessions signed by one
        # process were refused by the next).
        if database_url.startswith("postgresql") or not broadcast_url.startswith("memory://"):
            raise SettingsError(
                "COLLAB_ENV must be set when DATABASE_URL is PostgreSQL or BROADCAST_URL is "
                "Redis: COLLAB_ENV=production (with a strong SECRET_KEY) for a deployment, or "
                "COLLAB_ENV=development to run it locally")
        environment = "development"
    return Settings(
        database_url=database_url,
        broadcast_url=broadcast_url,
        secret_key=_secret_key(env, environment, Path(env.get("SECRET_FILE", ".collab-secret"))),
        environment=environment,
        ws_max_frame_bytes=_int(env, "WS_MAX_FRAME_BYTES", 65536, minimum=256),
        ws_outbox_frames=_int(env, "WS_OUTBOX_FRAMES", 1000, minimum=1),
        ws_send_rate=_int(env, "WS_SEND_RATE", 10),
        ws_bad_frames_per_minute=_int(env, "WS_BAD_FRAMES_PER_MINUTE", 100, minimum=1),
        replay_max_events=_int(env, "REPLAY_MAX_EVENTS", 1000, minimum=1),
        event_retention_days=_int(env, "EVENT_RETENTION_DAYS", 7),
        login_attempts_per_minute=_int(env, "LOGIN_ATTEMPTS_PER_MINUTE", 10),
        login_attempts_per_address_per_minute=_int(
            env, "LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE", 30),
        token_ttl_days=_int(env, "TOKEN_TTL_DAYS", 90, minimum=1),
        http_writes_per_minute=_int(env, "HTTP_WRITES_PER_MINUTE", 120),
        allowed_origins=origins,
        presence_ttl_seconds=_int(env, "PRESENCE_TTL_SECONDS", 30, minimum=3),
        ws_direct_writes=env.get("WS_DIRECT_WRITES", "1") not in ("0", "false", "no"),
        max_mentions_per_text=_int(env, "MAX_MENTIONS_PER_TEXT", 10),
        notifications_per_sender_per_hour=_int(env, "NOTIFICATIONS_PER_SENDER_PER_HOUR", 300),
        metrics_allow=_networks(env, "METRICS_ALLOW", Settings.metrics_allow),
        loop_stall_log=env.get("LOOP_STALL_LOG", ""),
    )
