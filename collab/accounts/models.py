"""Users, API tokens and the audit log."""

from __future__ import annotations

import datetime as dt

import ormar

from collab.db import base_config

ROLES = ("member", "expert", "moderator", "admin")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class User(ormar.Model):
    ormar_config = base_config.copy(tablename="users")

    id: int = ormar.Integer(primary_key=True)
    username: str = ormar.String(max_length=40, unique=True, index=True)
    display_name: str = ormar.String(max_length=80)
    password_hash: str = ormar.String(max_length=200)
    roles: str = ormar.String(max_length=100, default="member")
    created_at: dt.datetime = ormar.DateTime(default=utcnow)

    @property
    def role_set(self) -> frozenset[str]:
        return frozenset(r for r in self.roles.split(",") if r)

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    @property
    def is_moderator(self) -> bool:
        return self.has_role("moderator", "admin")

    def public(self) -> dict[str, object]:
        return {"id": self.id, "username": self.username, "display_name": self.display_name}

    def me(self) -> dict[str, object]:
        return {**self.public(), "roles": sorted(self.role_set, key=ROLES.index)}


class ApiToken(ormar.Model):
    ormar_config = base_config.copy(tablename="api_tokens")

    id: int = ormar.Integer(primary_key=True)
    user: User = ormar.ForeignKey(User, ondelete="CASCADE", related_name="tokens")
    token_hash: str = ormar.String(max_length=64, unique=True, index=True)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)


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
