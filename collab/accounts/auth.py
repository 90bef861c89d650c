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

from .models import ApiToken, User
from .service import token_and_user, user_for_token

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
        user_id = request.session.get("user_id")
        if isinstance(user_id, int):
            user = await User.objects.get_or_none(id=user_id)
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
    credential = actor.credential or ""
    if credential.startswith("token:"):
        row = await ApiToken.objects.select_related("user").get_or_none(
            id=int(credential.partition(":")[2]))
        user = row.user if row is not None else None
    else:
        user = await User.objects.get_or_none(id=actor.id)
    return actor_of(user, actor.credential) if user is not None else None


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
        user_id = session.get("user_id")
        if not isinstance(user_id, int):
            return None
        # A cookie rides along on any site's request: only our own pages may use it.
        if not _origin_allowed(conn, allowed_origins):
            raise Forbidden("this socket's Origin may not use the session cookie")
        user = await User.objects.get_or_none(id=user_id)
        return actor_of(user, f"session:{user_id}") if user else None

    return authenticate
