"""Tokens and sessions end on the server; user names fold to one key; the sign-in limiter is
bounded; migrations backfill the key (issue 7, items 3-5)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

import collab.app  # noqa: F401  (every model on the metadata)
from collab import db, logs
from collab.accounts import credentials
from collab.accounts.auth import actor_of, reauthenticate
from collab.accounts.migrations import MIGRATIONS as ACCOUNT_STEPS
from collab.accounts.models import ApiToken
from collab.accounts.service import create_user, user_by_name
from collab.accounts.signin import SignInLimiter
from collab.errors import RateLimited
from collab.migrations import CORE, migrate

pytestmark = pytest.mark.anyio


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'accounts.db'}"
    await migrate(url)
    db.configure(url)
    await db.connect()
    try:
        yield url
    finally:
        await db.disconnect()


async def test_a_revoked_or_expired_token_signs_nobody_in(database: str) -> None:
    user = await create_user("tok.user", "long enough password")
    secret, row = await credentials.issue_token(user, ttl_days=1, name="ci")
    found = await credentials.token_and_user(secret)
    assert found is not None and found[1].id == user.id
    actor = actor_of(user, f"token:{found[0]}")
    assert (await reauthenticate(actor)) is not None
    await credentials.revoke_token(user, row.id)
    assert await credentials.token_and_user(secret) is None
    assert await reauthenticate(actor) is None
    # A new token that happens to get the same id does not revive the old credential.
    secret2, row2 = await credentials.issue_token(user, ttl_days=1)
    assert await reauthenticate(actor) is None
    await ApiToken.objects.filter(id=row2.id).update(
        expires_at=dt.datetime(2001, 1, 1))
    assert await credentials.token_and_user(secret2) is None
    assert await credentials.list_tokens(user) == []
    for bogus in ("", "x" * 201, "caf\u00e9", "\x00", "\ud800", None, 5):
        assert await credentials.token_and_user(bogus) is None


async def test_a_crowd_of_tokens_is_checked_without_a_write_each(
    database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A webinar's opening minute: 200 fresh tokens used at once are 200 reads and one batch
    of writes, and the listing still shows when each was last used."""
    users = [await create_user(f"crowd.{n}", "long enough password") for n in range(200)]
    tokens = [(await credentials.issue_token(u, ttl_days=1))[0] for u in users]
    writes: list[str] = []

    def seen(conn: object, cursor: object, statement: str, *args: object) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            writes.append(statement)

    engine = db.database.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        monkeypatch.setattr(credentials, "TOUCH_BATCH_SECONDS", 3600.0)
        for token in tokens:
            assert await credentials.token_and_user(token) is not None
        assert writes == [], "checking a token wrote to the database"
        listed = await credentials.list_tokens(users[7])
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert len(writes) == 1, writes
    assert listed[0].last_used_at is not None
    rows = await ApiToken.objects.filter(last_used_at__isnull=True).count()
    assert rows == 0


async def test_an_ended_session_signs_nobody_in(database: str) -> None:
    user = await create_user("sess.user", "long enough password")
    secret = await credentials.start_session(user)
    found = await credentials.session_user(secret)
    assert found is not None and found[1].id == user.id
    assert found[0] != secret, "the server keeps only the secret's hash"
    actor = actor_of(user, f"session:{found[0]}")
    assert (await reauthenticate(actor)) is not None
    assert await credentials.end_session(secret) == user.id
    assert await credentials.session_user(secret) is None
    assert await reauthenticate(actor) is None
    assert await credentials.end_session(secret) is None, "ending twice changes nothing"


async def test_user_names_fold_to_one_key_and_patterns_match_nothing(database: str) -> None:
    jo = await create_user("Jo.Chen", "long enough password")
    assert jo.username == "Jo.Chen" and jo.username_key == "jo.chen"
    assert (await user_by_name("JO.CHEN")).id == jo.id  # type: ignore[union-attr]
    for pattern in ("%", "jo%", "jo_chen", "Jo.Che_", "jo.chen%", "", None, "\x00"):
        assert await user_by_name(pattern) is None, pattern
    other = await create_user("jo_chen", "long enough password")
    assert other.id != jo.id


async def test_the_username_key_migration_backfills_and_separates_clashes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await migrate(url, list(CORE))
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        for name in ("Bob", "alice", "bob", "BOB"):
            await conn.execute(sa.text(
                "INSERT INTO users (username, display_name, password_hash, roles) "
                "VALUES (:n, :n, 'x', 'member')"), {"n": name})
    with caplog.at_level(logging.WARNING, logger="collab.migrations"):
        await migrate(url, [*CORE, *ACCOUNT_STEPS])
    async with engine.connect() as conn:
        rows = dict((await conn.execute(sa.text(
            "SELECT username, username_key FROM users ORDER BY id"))).all())
    await engine.dispose()
    assert rows["Bob"] == "bob" and rows["alice"] == "alice"
    assert rows["bob"].startswith("bob~") and rows["BOB"].startswith("bob~")
    assert len(set(rows.values())) == 4
    assert "cannot sign in by name" in caplog.text


def test_the_sign_in_limiter_counts_failures_per_name_and_per_address() -> None:
    limiter = SignInLimiter(per_name=3, per_address=5)
    for _ in range(2):
        limiter.attempt("10.0.0.1", "Jo.Chen")
    limiter.attempt("10.0.0.1", "JO.CHEN")
    with pytest.raises(RateLimited) as refused:
        limiter.attempt("10.0.0.1", "jo.chen")
    assert refused.value.retry_after and refused.value.retry_after > 0
    limiter.attempt("10.0.0.2", "jo.chen")  # another address has its own allowance
    limiter.attempt("10.0.0.1", "sam")
    limiter.attempt("10.0.0.1", "priya")
    with pytest.raises(RateLimited):
        limiter.attempt("10.0.0.1", "someone.else")
    # A success gives its own attempt back and wipes the name's failures.
    ok = SignInLimiter(per_name=2, per_address=2)
    for _ in range(10):
        ok.attempt("10.0.0.3", "jo")
        ok.succeeded("10.0.0.3", "jo")


def test_the_sign_in_limiter_keeps_small_keys() -> None:
    limiter = SignInLimiter(per_name=10, per_address=1000)
    for n in range(50):
        limiter.attempt("10.0.0.1", f"{n:02}" + "x" * 1_000_000)
    assert all(len(key) <= len("10.0.0.1") + 41 for key in limiter.by_name._hits)
    assert limiter.by_name.max_keys <= 100_000 and limiter.by_address.max_keys <= 100_000


def test_secrets_in_logged_urls_are_redacted() -> None:
    assert logs.redact("GET /ws?token=abc.DEF-123&channel=x") == \
        "GET /ws?token=[redacted]&channel=x"
    assert logs.redact('"WebSocket /ws/html?channel=x&access_token=s3cr3t" 403') == \
        '"WebSocket /ws/html?channel=x&access_token=[redacted]" 403'
    assert logs.redact("/ws?TOKEN=abc") == "/ws?TOKEN=[redacted]"
    assert logs.redact("/rooms?page=2&notatoken=1") == "/rooms?page=2&notatoken=1"
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1,
                               '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/x?token=secret", "1.1", 200), None)
    assert logs.RedactSecrets().filter(record)
    assert record.args == ("127.0.0.1:5", "GET", "/x?token=[redacted]", "1.1", 200)
    assert "secret" not in record.getMessage()


@pytest.mark.parametrize(("given", "followed"), [
    ("/threads/3?page=2", "/threads/3?page=2"),
    ("//evil.example/x", "/rooms"),
    ("/\\evil.example", "/rooms"),
    ("https://evil.example/", "/rooms"),
    ("/rooms\r\nSet-Cookie: x=1", "/rooms"),
    ("/a\x00b", "/rooms"),
    (None, "/rooms"),
])
def test_sign_in_follows_next_only_to_a_path_on_this_site(given: object, followed: str) -> None:
    from collab.accounts.pages import _next_url

    assert _next_url(given) == followed
