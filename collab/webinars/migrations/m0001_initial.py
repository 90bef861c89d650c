"""The webinars' first schema, frozen: later model changes get a step of their own."""

from __future__ import annotations

import sqlalchemy as sa


def tables(md: sa.MetaData) -> list[sa.Table]:
    return [
        sa.Table(
            "webinars", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("title", sa.String(length=200), nullable=False),
            sa.Column("description", sa.Text()),
            sa.Column("description_html", sa.Text()),
            sa.Column("starts_at", sa.DateTime(), nullable=False),
            sa.Column("ends_at", sa.DateTime(), nullable=False),
            sa.Column("timezone", sa.String(length=64)),
            sa.Column("speakers", sa.Text()),
            sa.Column("host_id", sa.Integer(), sa.ForeignKey("users.id")),
            sa.Column("visibility", sa.String(length=10)),
            sa.Column("capacity", sa.Integer()),
            sa.Column("registered_count", sa.Integer()),
            sa.Column("link", sa.String(length=500)),
            sa.Column("premoderation", sa.Boolean()),
            sa.Column("slow_mode_seconds", sa.Integer()),
            sa.Column("created_at", sa.DateTime()),
            sa.Column("updated_at", sa.DateTime()),
            sa.Index("ix_webinars_starts_at", "starts_at"),
            sa.Index("ix_webinars_ends_at", "ends_at"),
        ),
        sa.Table(
            "webinar_registrations", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("webinar_id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime()),
            sa.UniqueConstraint("webinar_id", "user_id", name="uq_webinar_registrations"),
            sa.Index("ix_webinar_registrations_user_id", "user_id"),
        ),
        sa.Table(
            "webinar_participants", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("webinar_id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("muted", sa.Boolean()),
            sa.Column("muted_by_id", sa.Integer()),
            sa.Column("last_chat_ms", sa.BigInteger()),
            sa.UniqueConstraint("webinar_id", "user_id", name="uq_webinar_participants"),
        ),
        sa.Table(
            "webinar_messages", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("webinar_id", sa.Integer(), nullable=False),
            sa.Column("author_id", sa.Integer(), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("seq", sa.BigInteger()),
            sa.Column("created_at", sa.DateTime()),
            sa.Column("deleted", sa.Boolean()),
            sa.Index("ix_webinar_messages_recent", "webinar_id", "id"),
        ),
        sa.Table(
            "webinar_questions", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("webinar_id", sa.Integer(), nullable=False),
            sa.Column("author_id", sa.Integer(), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("state", sa.String(length=10)),
            sa.Column("votes", sa.Integer()),
            sa.Column("created_at", sa.DateTime()),
            sa.Column("answered_at", sa.DateTime()),
            sa.Index("ix_webinar_questions", "webinar_id", "state"),
        ),
        sa.Table(
            "webinar_question_votes", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("question_id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime()),
            sa.UniqueConstraint("question_id", "user_id", name="uq_webinar_question_votes"),
        ),
        sa.Table(
            "webinar_polls", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("webinar_id", sa.Integer(), nullable=False),
            sa.Column("question", sa.String(length=300), nullable=False),
            sa.Column("options", sa.Text(), nullable=False),
            sa.Column("option_count", sa.Integer(), nullable=False),
            sa.Column("closed", sa.Boolean()),
            sa.Column("created_at", sa.DateTime()),
            sa.Column("closed_at", sa.DateTime()),
            sa.Index("ix_webinar_polls_webinar_id", "webinar_id"),
        ),
        sa.Table(
            "webinar_poll_votes", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("poll_id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("option", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime()),
            sa.UniqueConstraint("poll_id", "user_id", name="uq_webinar_poll_votes"),
        ),
    ]


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    # Only for the foreign key's target: `users` was created by the core's first migration.
    sa.Table("users", md, sa.Column("id", sa.Integer(), primary_key=True))
    md.create_all(conn, tables=tables(md))
