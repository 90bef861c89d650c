"""Account rules: registration, credentials, tokens, roles, audit."""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from collab.errors import Conflict, Forbidden, Invalid, Unauthenticated

from .models import ROLES, ApiToken, AuditEntry, User

_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
MIN_PASSWORD = 8
# A hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("collab-timing-equaliser")


def validate_registration(data: Any) -> tuple[str, str, str]:
    if not isinstance(data, dict):
        raise Invalid("expected a JSON object with username and password")
    username, password = data.get("username"), data.get("password")
    display_name = data.get("display_name")
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise Invalid("username must be 3–40 letters, digits, '.', '_' or '-'",
                      extra={"field": "username"})
    if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 1000:
        raise Invalid(f"password must be at least {MIN_PASSWORD} characters",
                      extra={"field": "password"})
    if display_name is None or display_name == "":
        display_name = username
    if not isinstance(display_name, str) or len(display_name.strip()) == 0 \
            or len(display_name) > 80:
        raise Invalid("display_name must be 1–80 characters", extra={"field": "display_name"})
    return username, password, display_name.strip()


async def create_user(username: str, password: str, display_name: str | None = None,
                      role: str | None = None) -> User:
    """Register a user; the first one becomes an admin."""
    if await User.objects.filter(username__iexact=username).exists():
        raise Conflict(f"the username {username!r} is taken", extra={"field": "username"})
    if role is not None and role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    first = not await User.objects.exists()
    roles = {"member"}
    if first:
        roles.add("admin")
    if role:
        roles.add(role)
    try:
        return await User.objects.create(
            username=username, display_name=display_name or username,
            password_hash=password_hash, roles=",".join(r for r in ROLES if r in roles),
        )
    except Exception as exc:  # the unique index caught a concurrent registration
        if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
            raise Conflict(f"the username {username!r} is taken") from None
        raise


async def check_credentials(username: Any, password: Any) -> User:
    if not isinstance(username, str) or not isinstance(password, str):
        raise Unauthenticated("wrong username or password")
    user = await User.objects.get_or_none(username__iexact=username)
    stored = user.password_hash if user else _DUMMY_HASH
    try:
        await asyncio.to_thread(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("wrong username or password") from None
    if user is None:
        raise Unauthenticated("wrong username or password")
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(user: User) -> str:
    token = secrets.token_urlsafe(32)
    await ApiToken.objects.create(user=user, token_hash=_token_hash(token))
    return token


async def token_and_user(token: str) -> tuple[int, User] | None:
    """The token's id and its user, for a valid token."""
    if not token or len(token) > 200:
        return None
    row = await ApiToken.objects.select_related("user").get_or_none(token_hash=_token_hash(token))
    return (row.id, row.user) if row else None


async def user_for_token(token: str) -> User | None:
    found = await token_and_user(token)
    return found[1] if found else None


async def set_roles(actor: User, user: User, roles: Any) -> User:
    """An admin gives `user` exactly `roles` (member always stays); audited."""
    if not actor.has_role("admin"):
        raise Forbidden("only admins change roles")
    if not isinstance(roles, list) or not all(isinstance(r, str) and r in ROLES for r in roles):
        raise Invalid(f"roles must be a list drawn from {', '.join(ROLES)}",
                      extra={"field": "roles"})
    if user.id == actor.id and "admin" not in roles:
        raise Conflict("admins cannot remove their own admin role; ask another admin")
    roles = set(roles) | {"member"}
    before = user.roles
    user.roles = ",".join(r for r in ROLES if r in roles)
    await user.update(_columns=["roles"])
    await audit(actor, "user.roles", f"user:{user.username}", f"{before} -> {user.roles}")
    return user


async def audit(actor: Any, action: str, target: str, details: str = "") -> None:
    await AuditEntry.objects.create(
        actor_id=actor.id if actor else None,
        actor_username=actor.username if actor else "",
        action=action, target=target, details=details,
    )
