"""The community: a member's profile (one row per member who wrote one) and their areas of
interest (one row per topic, so the directory filters by topic through an index)."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table("users", md, sa.Column("id", sa.Integer(), primary_key=True))
    sa.Table(
        "member_profiles", md,
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("organisation", sa.String(120), nullable=False, server_default=""),
        sa.Column("title", sa.String(120), nullable=False, server_default=""),
        sa.Column("level", sa.String(20), nullable=False, server_default=""),
        sa.Column("jurisdiction", sa.String(120), nullable=False, server_default=""),
        sa.Column("bio", sa.Text(), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Index("ix_member_profiles_level", "level"),
    ).create(conn)
    sa.Table(
        "member_topics", md,
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                  primary_key=True, autoincrement=False),
        sa.Column("topic", sa.String(40), primary_key=True),
        sa.Index("ix_member_topics_topic", "topic"),
    ).create(conn)
