"""The notification rows (read state lives here) and the members' delivery preferences."""

from __future__ import annotations

import sqlalchemy as sa

from collab import db

notifications = sa.Table(
    "notifications",
    db.metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("user_id", sa.Integer(), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("text", sa.String(300), nullable=False),
    sa.Column("url", sa.String(300), nullable=False),
    sa.Column("actor_id", sa.Integer(), nullable=True),
    sa.Column("created_at", sa.DateTime(), nullable=False),
    sa.Column("read_at", sa.DateTime(), nullable=True),
    # A member's list, newest first; and a sender's last hour, which the budget counts.
    sa.Index("ix_notifications_user", "user_id", "id"),
    sa.Index("ix_notifications_actor_created", "actor_id", "created_at"),
    sqlite_autoincrement=True,
)

# What a member chose per kind ("off", "app", "email"; no row: "app"). Nothing writes it yet:
# the preferences page (PROTOCOL.md, `/api/me/preferences`) will, and `notify` already honours
# "off".
preferences = sa.Table(
    "notification_preferences",
    db.metadata,
    sa.Column("user_id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("kind", sa.String(20), primary_key=True),
    sa.Column("delivery", sa.String(10), nullable=False),
)
