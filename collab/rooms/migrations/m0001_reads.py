"""The forum: how far each member has read each thread (unread counts, "new since your last
visit"). One row per member and thread, only for threads they opened."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "thread_reads", md,
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.Integer(), nullable=False),
        sa.Column("last_read_seq", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("read_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "thread_id", name="uq_thread_reads"),
        sa.Index("ix_thread_reads_thread_id", "thread_id"),
    ).create(conn)
