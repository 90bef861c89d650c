"""Projects, their members and board, columns, cards, comments and the log of cards done.

Foreign keys are plain integer columns here (the migration declares the constraints); the hot
paths read and write through Core statements, the rest through these models.
JSON lists (labels, checklist) are stored as text: they are always read and written whole.
"""

from __future__ import annotations

import datetime as dt

import ormar

from collab.clock import utcnow
from collab.db import base_config

ROLES = ("owner", "member", "viewer")
VISIBILITIES = ("private", "public")


class Project(ormar.Model):
    ormar_config = base_config.copy(tablename="projects")

    id: int = ormar.Integer(primary_key=True)
    name: str = ormar.String(max_length=120)
    description: str = ormar.Text(default="")
    visibility: str = ormar.String(max_length=10, default="private")
    created_by: int | None = ormar.Integer(nullable=True)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)


class Board(ormar.Model):
    """Each project has one board (its own id, so a project could later hold several)."""

    ormar_config = base_config.copy(tablename="boards")

    id: int = ormar.Integer(primary_key=True)
    project_id: int = ormar.Integer(unique=True)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)


class Member(ormar.Model):
    ormar_config = base_config.copy(
        tablename="project_members",
        constraints=[ormar.UniqueColumns("project_id", "user_id", name="uq_project_members")],
    )

    id: int = ormar.Integer(primary_key=True)
    project_id: int = ormar.Integer()
    user_id: int = ormar.Integer(index=True)
    role: str = ormar.String(max_length=10)
    added_at: dt.datetime = ormar.DateTime(default=utcnow)


class Column(ormar.Model):
    ormar_config = base_config.copy(
        tablename="board_columns",
        constraints=[ormar.UniqueColumns("board_id", "rank", name="uq_board_columns_rank")],
    )

    id: int = ormar.Integer(primary_key=True)
    board_id: int = ormar.Integer()
    title: str = ormar.String(max_length=100)
    rank: str = ormar.String(max_length=255)
    # Kept with every card that arrives or leaves: a move finds its place from the nearer end.
    card_count: int = ormar.Integer(default=0)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)


class Card(ormar.Model):
    ormar_config = base_config.copy(
        tablename="cards",
        # Two cards can never share a place: a concurrent move that computed the same rank
        # fails here and is retried with fresh neighbours.
        constraints=[ormar.UniqueColumns("column_id", "rank", name="uq_cards_column_rank"),
                     ormar.IndexColumns("board_id", "id", name="ix_cards_board_card")],
    )

    id: int = ormar.Integer(primary_key=True)
    board_id: int = ormar.Integer()
    column_id: int = ormar.Integer()
    rank: str = ormar.String(max_length=255)
    title: str = ormar.String(max_length=200)
    description: str = ormar.Text(default="")
    description_html: str = ormar.Text(default="")
    due: dt.date | None = ormar.Date(nullable=True)
    labels: str = ormar.Text(default="[]")
    checklist: str = ormar.Text(default="[]")
    version: int = ormar.Integer(default=1)
    comment_count: int = ormar.Integer(default=0)
    created_by: int | None = ormar.Integer(nullable=True)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    updated_at: dt.datetime = ormar.DateTime(default=utcnow)


class Assignee(ormar.Model):
    ormar_config = base_config.copy(
        tablename="card_assignees",
        constraints=[ormar.UniqueColumns("card_id", "user_id", name="uq_card_assignees")],
    )

    id: int = ormar.Integer(primary_key=True)
    card_id: int = ormar.Integer()
    user_id: int = ormar.Integer(index=True)


class Comment(ormar.Model):
    ormar_config = base_config.copy(tablename="card_comments")

    id: int = ormar.Integer(primary_key=True)
    card_id: int = ormar.Integer(index=True)
    board_id: int = ormar.Integer()
    author_id: int = ormar.Integer()
    body: str = ormar.Text()
    body_html: str = ormar.Text()
    created_at: dt.datetime = ormar.DateTime(default=utcnow)


class DoneLog(ormar.Model):
    """How many cards became done (entered the last column) or were added, and when.

    The burn-up chart sums these; events in rt_events are pruned, these rows are not.
    """

    ormar_config = base_config.copy(
        tablename="card_done_log",
        constraints=[ormar.IndexColumns("board_id", "at", name="ix_card_done_log_board_at")],
    )

    id: int = ormar.Integer(primary_key=True)
    board_id: int = ormar.Integer()
    at: dt.datetime = ormar.DateTime(default=utcnow)
    done_delta: int = ormar.Integer(default=0)
    total_delta: int = ormar.Integer(default=0)


class Departure(ormar.Model):
    """A member who left a project themself, and the owner's invitation back, if any.

    Adding them again is then only an invitation (`invited_role`): they become a member when
    they accept it, so leaving is respected (an owner could re-add someone at once, again and
    again). Accepting deletes the row; declining clears the invitation and keeps the row.
    """

    ormar_config = base_config.copy(
        tablename="project_departures",
        constraints=[ormar.UniqueColumns("project_id", "user_id",
                                         name="uq_project_departures")],
    )

    id: int = ormar.Integer(primary_key=True)
    project_id: int = ormar.Integer()
    user_id: int = ormar.Integer(index=True)
    left_at: dt.datetime = ormar.DateTime(default=utcnow)
    invited_role: str | None = ormar.String(max_length=10, nullable=True)
    invited_by: int | None = ormar.Integer(nullable=True)
    invited_at: dt.datetime | None = ormar.DateTime(nullable=True)


class Mute(ormar.Model):
    """A member who muted a project: none of its notifications reach them (mentions, an
    invitation back). It outlives membership, so a muted project stays quiet after leaving."""

    ormar_config = base_config.copy(
        tablename="project_mutes",
        constraints=[ormar.UniqueColumns("project_id", "user_id", name="uq_project_mutes")],
    )

    id: int = ormar.Integer(primary_key=True)
    project_id: int = ormar.Integer()
    user_id: int = ormar.Integer(index=True)
    muted_at: dt.datetime = ormar.DateTime(default=utcnow)
