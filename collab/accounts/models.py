"""Users, API tokens and the audit log."""

from __future__ import annotations

import datetime as dt

import ormar

from collab.clock import utcnow
from collab.db import base_config
from collab.people import person
from collab.web import iso

ROLES = ("member", "expert", "moderator", "admin")


class User(ormar.Model):
    ormar_config = base_config.copy(tablename="users")

    id: int = ormar.Integer(primary_key=True)
    username: str = ormar.String(max_length=40, unique=True, index=True)
    # The name as compared: case-folded, unique, matched with plain equality (never LIKE).
    username_key: str = ormar.String(max_length=40, unique=True, index=True)
    display_name: str = ormar.String(max_length=80)
    password_hash: str = ormar.String(max_length=200)
    roles: str = ormar.String(max_length=100, default="member")
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    # The IANA zone pages show times in; None: the browser's own (times.js).
    time_zone: str | None = ormar.String(max_length=64, nullable=True)
    # Set by an admin: the member cannot sign in, and nothing they signed in with works.
    suspended_at: dt.datetime | None = ormar.DateTime(nullable=True)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    @property
    def is_moderator(self) -> bool:
        return self.has_role("moderator", "admin")

    def public(self) -> dict[str, object]:
        return person(self)

    def me(self) -> dict[str, object]:
        return {**self.public(), "roles": sorted(self.role_set, key=ROLES.index)}


class ApiToken(ormar.Model):
    ormar_config = base_config.copy(tablename="api_tokens")

    id: int = ormar.Integer(primary_key=True)
    user: User = ormar.ForeignKey(User, ondelete="CASCADE", related_name="tokens")
    token_hash: str = ormar.String(max_length=64, unique=True, index=True)
    name: str | None = ormar.String(max_length=80, nullable=True)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    # Written at most once a minute per token (a write per request would cost more than
    # the request): "when was this last used" to the minute is what a member needs.
    last_used_at: dt.datetime | None = ormar.DateTime(nullable=True)
    expires_at: dt.datetime | None = ormar.DateTime(nullable=True)

    def public(self) -> dict[str, object]:
        """What `GET /api/tokens` shows: never the secret (only its hash is stored anyway)."""
        return {"id": self.id, "name": self.name, "created_at": iso(self.created_at),
                "last_used_at": iso(self.last_used_at), "expires_at": iso(self.expires_at)}


class Session(ormar.Model):
    """A signed-in browser: the cookie carries a random secret, this row its SHA-256 (`id`).

    Signing out ends the row, so a copy of the cookie is dead on the server too.
    """

    ormar_config = base_config.copy(tablename="sessions")

    id: str = ormar.String(max_length=64, primary_key=True)
    user: User = ormar.ForeignKey(User, ondelete="CASCADE", related_name="sessions")
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    last_seen_at: dt.datetime = ormar.DateTime(default=utcnow)
    ended_at: dt.datetime | None = ormar.DateTime(nullable=True)


class AuditEntry(ormar.Model):
    """Who did what to whom: every moderation action and role change."""

    ormar_config = base_config.copy(tablename="audit_log")

    id: int = ormar.Integer(primary_key=True)
    actor_id: int = ormar.Integer(nullable=True)
    actor_username: str = ormar.String(max_length=40, default="")
    action: str = ormar.String(max_length=60)
    target: str = ormar.String(max_length=120)
    details: str = ormar.Text(default="")
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
