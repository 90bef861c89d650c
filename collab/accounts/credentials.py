"""What signs a member in: API tokens (bearer) and browser sessions (the cookie names a row).

Both are random secrets of which only the SHA-256 is stored, both end on the server (a revoked
token, a signed-out session), and both record their last use at most once a minute. A token's
use is written in batches (`TOUCH_BATCH_SECONDS`): a thousand attendees opening their sockets
at once are a thousand reads and one write, not a thousand writes queued on the database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import secrets
from typing import Any, NamedTuple

import sqlalchemy as sa

from collab import db
from collab.clock import utcnow
from collab.errors import NotFound

from .models import ApiToken, Session, User

# A last-use time to the minute is all a member needs to recognise a token or a session; a
# write per request would double the cost of every authenticated call.
TOUCH_EVERY = dt.timedelta(minutes=1)
# A session unused for this long is dead on the server, as its cookie is in the browser
# (Starlette's SessionMiddleware keeps the cookie 14 days after the last response).
SESSION_IDLE = dt.timedelta(days=14)
MAX_SECRET = 200
TOUCH_BATCH_SECONDS = 5.0
TOUCH_BATCH_ROWS = 500  # ids per UPDATE (well inside SQLite's bound parameters)

log = logging.getLogger("collab.accounts")
# Token row id -> when it was used, waiting for the next batch.
_touched: dict[int, dt.datetime] = {}
_flush_task: asyncio.Task[None] | None = None


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _plausible(secret: Any) -> bool:
    # Secrets are URL-safe ASCII; anything else (NUL, surrogates, 10 MB) matches nothing.
    return isinstance(secret, str) and 0 < len(secret) <= MAX_SECRET and secret.isascii()


# -- API tokens ----------------------------------------------------------------------------------
async def issue_token(user: User, ttl_days: int, name: str | None = None
                      ) -> tuple[str, ApiToken]:
    """A new token for `user` (the secret is returned once, never stored)."""
    now = utcnow()
    # Expired tokens go as new ones are made, so a member's list stays short.
    await ApiToken.objects.filter(user=user.id, expires_at__lt=now).delete()
    token = secrets.token_urlsafe(32)
    row = await ApiToken.objects.create(user=user, token_hash=secret_hash(token), name=name,
                                        created_at=now, expires_at=now + dt.timedelta(days=ttl_days))
    return token, row


def _live_token(row: ApiToken | None, now: dt.datetime) -> bool:
    # A suspended member's tokens are deleted as they are suspended; checking the owner too
    # covers a token issued by a sign-in that was already past its password check then.
    return row is not None and row.expires_at is not None and row.expires_at > now \
        and (row.user is None or row.user.suspended_at is None)


async def token_and_user(token: Any) -> tuple[str, User] | None:
    """The token's hash (what names it for good: SQLite reuses the id of a deleted last row)
    and its user, for a token that exists and has not expired."""
    if not _plausible(token):
        return None
    token_hash = secret_hash(token)
    row = await ApiToken.objects.select_related("user").get_or_none(token_hash=token_hash)
    now = utcnow()
    if row is None or not _live_token(row, now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_EVERY:
        _touch(row.id, now)
    return token_hash, row.user


def _touch(row_id: int, now: dt.datetime) -> None:
    global _flush_task
    _touched[row_id] = now
    if _flush_task is None or _flush_task.done():
        _flush_task = asyncio.get_running_loop().create_task(_flush_later())


async def _flush_later() -> None:
    await asyncio.sleep(TOUCH_BATCH_SECONDS)
    try:
        await flush_touches()
    except Exception:  # the database is away: a last-use time is not worth an error
        log.warning("recording tokens' last use failed", exc_info=True)


async def flush_touches() -> None:
    """Write the tokens' last use that is waiting (before listing tokens, and at shutdown)."""
    if not _touched:
        return
    pending = sorted(_touched.items())
    _touched.clear()
    table = ApiToken.ormar_config.table
    async with db.write_transaction():
        conn = db.database.get_transaction_connection()
        for start in range(0, len(pending), TOUCH_BATCH_ROWS):
            chunk = pending[start:start + TOUCH_BATCH_ROWS]
            # One time per batch: the latest use in it, to the minute the column promises.
            await conn.execute(sa.update(table).where(table.c.id.in_([i for i, _ in chunk]))
                               .values(last_used_at=max(when for _, when in chunk)))


# One statement, built once: a socket's sign-in reads the token and its member in one round
# trip, without the ORM's per-call query building and model validation (most of a join's CPU
# when a webinar's crowd arrives at once).
_tokens, _users = ApiToken.ormar_config.table, User.ormar_config.table
_TOKEN_MEMBER = (
    sa.select(_tokens.c.id, _tokens.c.expires_at, _tokens.c.last_used_at, _users.c.id,
              _users.c.username, _users.c.display_name, _users.c.roles)
    .select_from(_tokens.join(_users, _users.c.id == _tokens.c.user))
    .where(_tokens.c.token_hash == sa.bindparam("token_hash")))


class Member(NamedTuple):
    """Who a socket's token names: what the hub's `Actor` is made from."""

    id: int
    username: str
    display_name: str
    role_set: frozenset[str]


async def token_member(token: Any) -> tuple[str, Member] | None:
    """`token_and_user` for sockets: the token's hash and its member, read with one prepared
    statement; its last use is recorded in the same batches."""
    if not _plausible(token):
        return None
    token_hash = secret_hash(token)
    async with db.database.connection() as conn:
        row = (await conn.execute(_TOKEN_MEMBER, {"token_hash": token_hash})).first()
    now = utcnow()
    if row is None or row[1] is None or row[1] <= now:
        return None
    if row[2] is None or now - row[2] >= TOUCH_EVERY:
        _touch(row[0], now)
    return token_hash, Member(row[3], row[4], row[5],
                              frozenset(r for r in (row[6] or "").split(",") if r))


async def user_for_token(token: Any) -> User | None:
    found = await token_and_user(token)
    return found[1] if found else None


async def token_owner(token_hash: str) -> User | None:
    """The user of a live token by hash (a socket's credential), or None once revoked/expired."""
    row = await ApiToken.objects.select_related("user").get_or_none(token_hash=token_hash)
    return row.user if row is not None and _live_token(row, utcnow()) else None


async def list_tokens(user: User) -> list[ApiToken]:
    await flush_touches()
    now = utcnow()
    rows = await ApiToken.objects.filter(user=user.id).order_by("id").all()
    return [row for row in rows if _live_token(row, now)]


async def revoke_token(user: User, token_id: int) -> None:
    """Delete one of `user`'s tokens; another member's token is `not_found`, like a missing one."""
    deleted = await ApiToken.objects.filter(id=token_id, user=user.id).delete()
    if not deleted:
        raise NotFound("you have no token with this id")


# -- sessions ------------------------------------------------------------------------------------
async def start_session(user: User) -> str:
    """A new session for a browser that just signed in; returns the secret for its cookie."""
    now = utcnow()
    await Session.objects.filter(user=user.id, ended_at__isnull=False).delete()
    await Session.objects.filter(user=user.id, last_seen_at__lt=now - SESSION_IDLE).delete()
    secret = secrets.token_urlsafe(32)
    await Session.objects.create(id=secret_hash(secret), user=user, created_at=now,
                                 last_seen_at=now)
    return secret


async def _live_session(session_id: str, touch: bool) -> User | None:
    row = await Session.objects.select_related("user").get_or_none(id=session_id)
    now = utcnow()
    if row is None or row.ended_at is not None or now - row.last_seen_at > SESSION_IDLE \
            or row.user is None or row.user.suspended_at is not None:
        return None
    if touch and now - row.last_seen_at >= TOUCH_EVERY:
        await Session.objects.filter(id=session_id).update(last_seen_at=now)
    return row.user


async def session_user(secret: Any) -> tuple[str, User] | None:
    """The session id (the secret's hash) and its user, for a session that has not ended."""
    if not _plausible(secret):
        return None
    session_id = secret_hash(secret)
    user = await _live_session(session_id, touch=True)
    return (session_id, user) if user is not None else None


async def session_owner(session_id: str) -> User | None:
    """The user of a live session by id (a socket's credential), or None once it ended."""
    return await _live_session(session_id, touch=False)


async def end_everything(user: User) -> None:
    """A suspended member: every session ends and every token goes (their sockets are told
    by the caller, through `hub.access_changed`)."""
    await Session.objects.filter(user=user.id, ended_at__isnull=True).update(ended_at=utcnow())
    await ApiToken.objects.filter(user=user.id).delete()


async def end_session(secret: Any) -> int | None:
    """Sign a browser out on the server: any copy of its cookie is dead from now on.
    Returns the session's user id (None when there was no live session)."""
    if not _plausible(secret):
        return None
    row = await Session.objects.get_or_none(id=secret_hash(secret))
    if row is None or row.ended_at is not None:
        return None
    await Session.objects.filter(id=row.id).update(ended_at=utcnow())
    return row.user.id if row.user is not None else None
