"""Account rules: registration, credentials, roles, audit. Tokens and sessions: credentials.py."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from collab.clock import utcnow
from collab.errors import Conflict, Forbidden, Invalid, Unauthenticated
from collab.fields import check_storable, text_field

from .models import ROLES, AuditEntry, User

_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{3,40}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 1000
# A hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("collab-timing-equaliser")


def use_test_hashing(test: bool) -> None:
    """Under COLLAB_ENV=test only: argon2's cheapest parameters (the same code path, a
    thousandth of the cost; the suite registers hundreds of members and each hash cost about
    0.3 s of CPU). Hashes record their parameters, so either kind verifies under the other."""
    global _hasher, _DUMMY_HASH
    if test:
        _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)
        _DUMMY_HASH = _hasher.hash("collab-timing-equaliser")


def username_key(name: Any) -> str | None:
    """The form a user name is stored and compared in (case-folded), or None for a string
    that no user can have: such a name matches nobody, whatever characters it holds."""
    if not isinstance(name, str) or not USERNAME_RE.match(name):
        return None
    return name.casefold()


async def user_by_name(name: Any) -> User | None:
    """The user called `name`, ignoring case; compared with `=`, never as a pattern."""
    key = username_key(name)
    if key is None:
        return None
    return await User.objects.get_or_none(username_key=key)


def validate_registration(data: Any) -> tuple[str, str, str]:
    if not isinstance(data, dict):
        raise Invalid("expected a JSON object with username and password")
    username, password = data.get("username"), data.get("password")
    if isinstance(username, str):
        check_storable(username, "username")
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise Invalid("username must be 3–40 letters, digits, '.', '_' or '-'",
                      extra={"field": "username"})
    check_password(password)
    if data.get("display_name") in (None, ""):
        display_name = username
    else:
        display_name = text_field(data, "display_name", 80)
    return username, password, display_name


def check_password(password: Any) -> str:
    """A new password: 8–1000 characters that can be stored and hashed."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise Invalid(f"password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters",
                      extra={"field": "password"})
    return check_storable(password, "password")


async def create_user(username: str, password: str, display_name: str | None = None,
                      role: str | None = None) -> User:
    """Register a member. Registration never makes an admin, not even the first account:
    that raced (three concurrent first registrations made two admins) and handed a fresh
    deployment to whoever found it first. Admins come from `collab createuser --role admin`."""
    key = username_key(username)
    if key is None:
        raise Invalid("username must be 3–40 letters, digits, '.', '_' or '-'",
                      extra={"field": "username"})
    if role is not None and role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    if await User.objects.filter(username_key=key).exists():
        raise Conflict(f"the username {username!r} is taken", extra={"field": "username"})
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    roles = {"member"} | ({role} if role else set())
    try:
        return await User.objects.create(
            username=username, username_key=key, display_name=display_name or username,
            password_hash=password_hash, roles=",".join(r for r in ROLES if r in roles),
        )
    except Exception as exc:  # the unique index caught a concurrent registration
        if "unique" in str(exc).lower() or "duplicate" in str(exc).lower():
            raise Conflict(f"the username {username!r} is taken",
                           extra={"field": "username"}) from None
        raise


def check_sign_in_input(username: Any, password: Any) -> None:
    """Text no database stores (U+0000, lone surrogates) is `invalid`, not a failed sign-in
    (a lone surrogate used to be a 500 from the password hasher)."""
    for name, value in (("username", username), ("password", password)):
        if isinstance(value, str):
            if len(value) > MAX_PASSWORD:
                raise Invalid(f"{name} is too long", extra={"field": name})
            check_storable(value, name)


async def check_credentials(username: Any, password: Any) -> User:
    if not isinstance(username, str) or not isinstance(password, str):
        raise Unauthenticated("wrong username or password")
    check_sign_in_input(username, password)
    user = await user_by_name(username)
    stored = user.password_hash if user else _DUMMY_HASH
    try:
        await asyncio.to_thread(_hasher.verify, stored, password)
    except (VerificationError, InvalidHashError):
        raise Unauthenticated("wrong username or password") from None
    if user is None:
        raise Unauthenticated("wrong username or password")
    if user.suspended_at is not None:
        # Said only to someone who knows the password: a name alone reveals nothing.
        raise Suspended("this account is suspended; ask an administrator")
    return user


class Suspended(Forbidden):
    """A right password for a suspended account."""


async def set_suspended(actor: User, user: User, suspended: bool) -> User:
    """An admin suspends (or restores) a member; audited. Ending their sessions, tokens and
    sockets is the caller's (`credentials.end_everything`, `hub.access_changed`)."""
    if not actor.has_role("admin"):
        raise Forbidden("only admins suspend members")
    if user.id == actor.id:
        raise Conflict("admins cannot suspend themselves; ask another admin")
    if (user.suspended_at is not None) != suspended:
        user.suspended_at = utcnow() if suspended else None
        await user.update(_columns=["suspended_at"])
        await audit(actor, "user.suspend" if suspended else "user.unsuspend",
                    f"user:{user.username}")
    return user


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
