"""Who is asking: bearer tokens for the API, the session cookie for pages and sockets."""

from __future__ import annotations

import json
from base64 import b64decode
from typing import Any
from urllib.parse import parse_qs, urlsplit

from itsdangerous import BadSignature, TimestampSigner
from starlette.requests import HTTPConnection, Request

from collab.errors import Forbidden, Unauthenticated
from collab.realtime import Actor

from .credentials import session_owner, session_user, token_and_user, token_owner, user_for_token
from .models import User

_UNSET = object()


def bearer_token(conn: HTTPConnection) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def current_user(request: Request) -> User | None:
    """The request's user (bearer token on /api/, session cookie on pages), cached per request."""
    cached = getattr(request.state, "user", _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    user: User | None = None
    token = bearer_token(request)
    if token is not None:
        user = await user_for_token(token)
        if user is None:
            raise Unauthenticated("the API token is not valid")
    elif not request.url.path.startswith("/api/"):
        found = await session_user(request.session.get(SESSION_KEY))
        user = found[1] if found else None
    request.state.user = user
    return user


async def require_user(request: Request) -> User:
    user = await current_user(request)
    if user is None:
        raise Unauthenticated("sign in first")
    return user


def actor_of(user: User, credential: str | None = None) -> Actor:
    return Actor(id=user.id, username=user.username, display_name=user.display_name,
                 roles=user.role_set, credential=credential)


async def reauthenticate(actor: Actor) -> Actor | None:
    """The hub's check when a socket's access may have changed: the member as they are now,
    or None when what signed the socket in was revoked."""
    kind, _, ident = (actor.credential or "").partition(":")
    user: User | None
    if kind == "token":
        user = await token_owner(ident)
    elif kind == "session":
        user = await session_owner(ident)
    elif actor.credential is None:
        user = await User.objects.get_or_none(id=actor.id)
    else:
        user = None
    if user is None or user.id != actor.id or user.suspended_at is not None:
        return None
    return actor_of(user, actor.credential)


def _origin_allowed(conn: HTTPConnection, allowed: tuple[str, ...]) -> bool:
    origin = conn.headers.get("origin")
    if origin is None:
        return False
    if origin in allowed:
        return True
    parts = urlsplit(origin)
    return parts.netloc == conn.headers.get("host", "")


SESSION_COOKIE = "collab"
SESSION_MAX_AGE = 14 * 24 * 60 * 60  # Starlette's SessionMiddleware default, which pages use
# The key in the signed cookie holding the session's secret (the server keeps its hash).
SESSION_KEY = "sid"


def read_session(conn: HTTPConnection, signer: TimestampSigner) -> dict[str, Any]:
    """The page session, decoded as Starlette's SessionMiddleware encodes it."""
    raw = conn.cookies.get(SESSION_COOKIE)
    if not raw:
        return {}
    try:
        data = json.loads(b64decode(signer.unsign(raw.encode(), max_age=SESSION_MAX_AGE)))
    except (BadSignature, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def socket_authenticator(secret_key: str, allowed_origins: tuple[str, ...]) -> Any:
    """The hub's `authenticate(scope)` hook: token (header or ?token=) or session cookie."""
    signer = TimestampSigner(secret_key)

    async def authenticate(scope: dict[str, Any]) -> Actor | None:
        conn = HTTPConnection(scope)
        token = bearer_token(conn)
        if token is None:
            query = parse_qs(scope.get("query_string", b"").decode())
            token = (query.get("token") or [None])[0]
        if token:
            found = await token_and_user(token)
            if found is None:
                raise Unauthenticated("the API token is not valid")
            return actor_of(found[1], f"token:{found[0]}")
        session = scope.get("session") or read_session(conn, signer)
        secret = session.get(SESSION_KEY)
        if not secret:
            return None
        # A cookie rides along on any site's request: only our own pages may use it.
        if not _origin_allowed(conn, allowed_origins):
            raise Forbidden("this socket's Origin may not use the session cookie")
        signed_in = await session_user(secret)
        if signed_in is None:
            return None  # signed out (on this or another copy of the cookie): anonymous
        return actor_of(signed_in[1], f"session:{signed_in[0]}")

    return authenticate
