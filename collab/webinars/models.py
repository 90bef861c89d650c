"""Webinars, their registrations, and the live room's rows: chat, questions, votes, polls.

The live room's tables are written on hot paths by declared statements through the hub's door
(`live.py`), so their columns are plain ids (`webinar_id`, `user_id`) that Core reads easily.
"""

from __future__ import annotations

import datetime as dt

import ormar

from collab.accounts.models import User
from collab.clock import utcnow
from collab.db import base_config


class Webinar(ormar.Model):
    ormar_config = base_config.copy(tablename="webinars")

    id: int = ormar.Integer(primary_key=True)
    title: str = ormar.String(max_length=200)
    description: str = ormar.Text(default="")
    description_html: str = ormar.Text(default="")
    # The same as text (calendars, search snippets), written with it (plain.py).
    description_text: str = ormar.Text(default="")
    # Stored in UTC (naive, as every time here); `timezone` is the IANA zone it is shown in.
    starts_at: dt.datetime = ormar.DateTime(index=True)
    ends_at: dt.datetime = ormar.DateTime(index=True)
    timezone: str = ormar.String(max_length=64, default="UTC")
    speakers: str = ormar.Text(default="[]")  # a JSON list of names
    host: User = ormar.ForeignKey(User, name="host_id", related_name="webinars_hosted")
    visibility: str = ormar.String(max_length=10, default="public")
    capacity: int | None = ormar.Integer(nullable=True)
    registered_count: int = ormar.Integer(default=0)
    link: str = ormar.String(max_length=500, default="")
    premoderation: bool = ormar.Boolean(default=False)
    slow_mode_seconds: int = ormar.Integer(default=0)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    updated_at: dt.datetime = ormar.DateTime(default=utcnow)


class Registration(ormar.Model):
    ormar_config = base_config.copy(
        tablename="webinar_registrations",
        constraints=[ormar.UniqueColumns("webinar_id", "user_id",
                                         name="uq_webinar_registrations")],
    )

    id: int = ormar.Integer(primary_key=True)
    webinar_id: int = ormar.Integer()
    user_id: int = ormar.Integer(index=True)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)


class Participant(ormar.Model):
    """A member's state in a live room: muted, and when they last chatted (slow mode).

    Written by the chat's gate statement in the same commit as the message, so every process
    agrees on mutes and on slow mode.
    """

    ormar_config = base_config.copy(
        tablename="webinar_participants",
        constraints=[ormar.UniqueColumns("webinar_id", "user_id",
                                         name="uq_webinar_participants")],
    )

    id: int = ormar.Integer(primary_key=True)
    webinar_id: int = ormar.Integer()
    user_id: int = ormar.Integer()
    muted: bool = ormar.Boolean(default=False)
    muted_by_id: int | None = ormar.Integer(nullable=True)
    # Milliseconds since the epoch (0: never): plain arithmetic in SQL on both databases.
    last_chat_ms: int = ormar.BigInteger(default=0)


class ChatMessage(ormar.Model):
    ormar_config = base_config.copy(
        tablename="webinar_messages",
        constraints=[ormar.IndexColumns("webinar_id", "id", name="ix_webinar_messages_recent")],
    )

    id: int = ormar.Integer(primary_key=True)
    webinar_id: int = ormar.Integer()
    author_id: int = ormar.Integer()
    body: str = ormar.Text()
    seq: int = ormar.BigInteger(default=0)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    deleted: bool = ormar.Boolean(default=False)


class Question(ormar.Model):
    ormar_config = base_config.copy(
        tablename="webinar_questions",
        constraints=[ormar.IndexColumns("webinar_id", "state", name="ix_webinar_questions")],
    )

    id: int = ormar.Integer(primary_key=True)
    webinar_id: int = ormar.Integer()
    author_id: int = ormar.Integer()
    body: str = ormar.Text()
    # pending (awaiting approval), open, answered, dismissed
    state: str = ormar.String(max_length=10, default="open")
    votes: int = ormar.Integer(default=0)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    answered_at: dt.datetime | None = ormar.DateTime(nullable=True)


class QuestionVote(ormar.Model):
    """One upvote: the unique pair is what makes a second upvote not count."""

    ormar_config = base_config.copy(
        tablename="webinar_question_votes",
        constraints=[ormar.UniqueColumns("question_id", "user_id",
                                         name="uq_webinar_question_votes")],
    )

    id: int = ormar.Integer(primary_key=True)
    question_id: int = ormar.Integer()
    user_id: int = ormar.Integer()
    created_at: dt.datetime = ormar.DateTime(default=utcnow)


class Poll(ormar.Model):
    ormar_config = base_config.copy(tablename="webinar_polls")

    id: int = ormar.Integer(primary_key=True)
    webinar_id: int = ormar.Integer(index=True)
    question: str = ormar.String(max_length=300)
    options: str = ormar.Text()  # a JSON list of 2 to 6 strings
    option_count: int = ormar.Integer()
    closed: bool = ormar.Boolean(default=False)
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
    closed_at: dt.datetime | None = ormar.DateTime(nullable=True)


class PollVote(ormar.Model):
    ormar_config = base_config.copy(
        tablename="webinar_poll_votes",
        constraints=[ormar.UniqueColumns("poll_id", "user_id", name="uq_webinar_poll_votes")],
    )

    id: int = ormar.Integer(primary_key=True)
    poll_id: int = ormar.Integer()
    user_id: int = ormar.Integer()
    option: int = ormar.Integer()
    created_at: dt.datetime = ormar.DateTime(default=utcnow)
