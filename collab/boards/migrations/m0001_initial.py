"""The boards' first schema, frozen: later model changes get a step of their own.

Ranks compare byte by byte: `COLLATE "C"` on PostgreSQL (a locale collation would sort `a`
before `B`), SQLite's default BINARY elsewhere. SQLite does not enforce the foreign keys
(collab does not turn them on), so the service deletes children itself on both databases.
"""

from __future__ import annotations

import sqlalchemy as sa


def _rank() -> sa.types.TypeEngine[str]:
    return sa.String(length=255).with_variant(sa.String(length=255, collation="C"), "postgresql")


def tables(md: sa.MetaData) -> list[sa.Table]:
    users = sa.Table("users", md, sa.Column("id", sa.Integer(), primary_key=True))
    return [users,
        sa.Table(
            "projects", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("name", sa.String(length=120), nullable=False),
            sa.Column("description", sa.Text()),
            sa.Column("visibility", sa.String(length=10)),
            sa.Column("created_by", sa.Integer()),
            sa.Column("created_at", sa.DateTime()),
        ),
        sa.Table(
            "boards", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("created_at", sa.DateTime()),
            sa.UniqueConstraint("project_id", name="uq_boards_project_id"),
        ),
        sa.Table(
            "project_members", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("project_id", sa.Integer(),
                      sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
            sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("role", sa.String(length=10), nullable=False),
            sa.Column("added_at", sa.DateTime()),
            sa.UniqueConstraint("project_id", "user_id", name="uq_project_members"),
            sa.Index("ix_project_members_user_id", "user_id"),
        ),
        sa.Table(
            "board_columns", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("board_id", sa.Integer(), sa.ForeignKey("boards.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("title", sa.String(length=100), nullable=False),
            sa.Column("rank", _rank(), nullable=False),
            sa.Column("card_count", sa.Integer(), nullable=False, server_default="0"),
            sa.Column("created_at", sa.DateTime()),
            sa.UniqueConstraint("board_id", "rank", name="uq_board_columns_rank"),
        ),
        sa.Table(
            "cards", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("board_id", sa.Integer(), sa.ForeignKey("boards.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("column_id", sa.Integer(),
                      sa.ForeignKey("board_columns.id", ondelete="CASCADE"), nullable=False),
            sa.Column("rank", _rank(), nullable=False),
            sa.Column("title", sa.String(length=200), nullable=False),
            sa.Column("description", sa.Text()),
            sa.Column("description_html", sa.Text()),
            sa.Column("due", sa.Date()),
            sa.Column("labels", sa.Text()),
            sa.Column("checklist", sa.Text()),
            sa.Column("version", sa.Integer()),
            sa.Column("comment_count", sa.Integer()),
            sa.Column("created_by", sa.Integer()),
            sa.Column("created_at", sa.DateTime()),
            sa.Column("updated_at", sa.DateTime()),
            # Also the index every neighbour lookup of a move walks (column, rank).
            sa.UniqueConstraint("column_id", "rank", name="uq_cards_column_rank"),
            sa.Index("ix_cards_board_id", "board_id"),
        ),
        sa.Table(
            "card_assignees", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("card_id", sa.Integer(), sa.ForeignKey("cards.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"),
                      nullable=False),
            sa.UniqueConstraint("card_id", "user_id", name="uq_card_assignees"),
            sa.Index("ix_card_assignees_user_id", "user_id"),
        ),
        sa.Table(
            "card_comments", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("card_id", sa.Integer(), sa.ForeignKey("cards.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("board_id", sa.Integer(), nullable=False),
            sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
            sa.Column("body_html", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime()),
            sa.Index("ix_card_comments_card_id", "card_id"),
        ),
        sa.Table(
            "card_done_log", md,
            sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
            sa.Column("board_id", sa.Integer(), sa.ForeignKey("boards.id", ondelete="CASCADE"),
                      nullable=False),
            sa.Column("at", sa.DateTime()),
            sa.Column("done_delta", sa.Integer()),
            sa.Column("total_delta", sa.Integer()),
            sa.Index("ix_card_done_log_board_at", "board_id", "at"),
        ),
    ]


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    _users, *mine = tables(md)
    md.create_all(conn, tables=mine)
