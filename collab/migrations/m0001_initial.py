"""The first schema: accounts, the event store and the forum.

Frozen here on purpose: later model changes get a migration of their own, and
tests/unit/test_migrations.py fails when the models and the migrated schema differ.
"""

from __future__ import annotations

import sqlalchemy as sa


def tables(md: sa.MetaData) -> list[sa.Table]:
    return [
    sa.Table(
        "audit_log", md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("actor_id", sa.Integer()),
        sa.Column("actor_username", sa.String(length=40)),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("target", sa.String(length=120), nullable=False),
        sa.Column("details", sa.Text()),
        sa.Column("created_at", sa.DateTime()),
    ),
    sa.Table(
        "rooms", md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("visibility", sa.String(length=10)),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("thread_count", sa.Integer()),
        sa.UniqueConstraint("name", name="uq_rooms_name"),
    ),
    sa.Table(
        "rt_channels", md,
        sa.Column("name", sa.String(length=200), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False, server_default="0"),
    ),
    sa.Table(
        "rt_events", md,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("channel", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text()),
        sa.Column("ts", sa.String(length=40), nullable=False),
        sa.UniqueConstraint("channel", "seq", name="uq_rt_events_channel_seq"),
    ),
    sa.Table(
        "users", md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("roles", sa.String(length=100)),
        sa.Column("created_at", sa.DateTime()),
        sa.Index("ix_users_username", "username", unique=True),
    ),
    sa.Table(
        "api_tokens", md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime()),
        sa.Index("ix_api_tokens_token_hash", "token_hash", unique=True),
    ),
    sa.Table(
        "threads", md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("room", sa.Integer(), sa.ForeignKey("rooms.id", ondelete="CASCADE")),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("author", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("last_post_at", sa.DateTime()),
        sa.Column("post_count", sa.Integer()),
        sa.Column("locked", sa.Boolean()),
        sa.Column("pinned", sa.Boolean()),
        sa.Index("ix_threads_last_post_at", "last_post_at"),
        sa.Index("ix_threads_room_recent", "room", "last_post_at"),
    ),
    sa.Table(
        "posts", md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("thread", sa.Integer(), sa.ForeignKey("threads.id", ondelete="CASCADE")),
        sa.Column("author", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("seq", sa.Integer()),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("edited_at", sa.DateTime()),
        sa.Column("deleted", sa.Boolean()),
        sa.Index("ix_posts_seq", "seq"),
        sa.Index("ix_posts_thread_seq", "thread", "seq"),
    ),
    sa.Table(
        "post_flags", md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("post", sa.Integer(), sa.ForeignKey("posts.id", ondelete="CASCADE")),
        sa.Column("reporter", sa.Integer(), sa.ForeignKey("users.id")),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("resolved", sa.Boolean()),
        sa.Column("resolution", sa.String(length=20)),
        sa.Column("resolved_by_id", sa.Integer()),
        sa.Index("ix_post_flags_resolved", "resolved"),
    )
,
    ]


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    tables(md)
    md.create_all(conn)
