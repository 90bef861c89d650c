"""What signs a member in: API tokens (bearer) and browser sessions (the cookie names a row).

Both are random secrets of which only the SHA-256 is stored, both end on the server (a revoked
token, a signed-out session), and both record their last use at most once a minute.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

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
        await ApiToken.objects.filter(id=row.id).update(last_used_at=now)
    return token_hash, row.user


async def user_for_token(token: Any) -> User | None:
    found = await token_and_user(token)
    return found[1] if found else None


async def token_owner(token_hash: str) -> User | None:
    """The user of a live token by hash (a socket's credential), or None once revoked/expired."""
    row = await ApiToken.objects.select_related("user").get_or_none(token_hash=token_hash)
    return row.user if row is not None and _live_token(row, utcnow()) else None


async def list_tokens(user: User) -> list[ApiToken]:
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
