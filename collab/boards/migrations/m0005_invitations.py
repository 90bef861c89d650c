"""Leaving a project is respected: who left (and the owner's invitation back), and who muted a
project (`models.Departure`, `models.Mute`). Both tables have rows deleted (an accepted
invitation, an unmute, a deleted project), so SQLite never gives their ids twice."""

from __future__ import annotations

import sqlalchemy as sa


def tables(md: sa.MetaData) -> list[sa.Table]:
    sa.Table("users", md, sa.Column("id", sa.Integer(), primary_key=True))
    sa.Table("projects", md, sa.Column("id", sa.Integer(), primary_key=True))
    return [
        sa.Table(
            "project_departures", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("project_id", sa.Integer(),
                      sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
            sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("left_at", sa.DateTime()),
            sa.Column("invited_role", sa.String(length=10)),
            sa.Column("invited_by", sa.Integer()),
            sa.Column("invited_at", sa.DateTime()),
            sa.UniqueConstraint("project_id", "user_id", name="uq_project_departures"),
            sa.Index("ix_project_departures_user_id", "user_id"),
            sqlite_autoincrement=True,
        ),
        sa.Table(
            "project_mutes", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("project_id", sa.Integer(),
                      sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
            sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("muted_at", sa.DateTime()),
            sa.UniqueConstraint("project_id", "user_id", name="uq_project_mutes"),
            sa.Index("ix_project_mutes_user_id", "user_id"),
            sqlite_autoincrement=True,
        ),
    ]


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    md.create_all(conn, tables=tables(md))
