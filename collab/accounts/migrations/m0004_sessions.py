"""Accounts: server-side sessions."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    """Server-side sessions: the cookie names a row; signing out ends it for every copy."""
    md = sa.MetaData()
    sa.Table("users", md, sa.Column("id", sa.Integer(), primary_key=True))
    table = sa.Table(
        "sessions", md,
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("user", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("last_seen_at", sa.DateTime()),
        sa.Column("ended_at", sa.DateTime()),
        sa.Index("ix_sessions_user", "user"),
    )
    table.create(conn)
