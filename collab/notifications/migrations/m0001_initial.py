"""Notifications: the rows and the preferences; the notifications kept so far as events become
rows (frozen: later changes get new steps)."""

from __future__ import annotations

import datetime as dt

import orjson
import sqlalchemy as sa


def _tables(md: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    rows = sa.Table(
        "notifications", md,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.String(300), nullable=False),
        sa.Column("url", sa.String(300), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Index("ix_notifications_user", "user_id", "id"),
        sa.Index("ix_notifications_actor_created", "actor_id", "created_at"),
        sqlite_autoincrement=True,
    )
    prefs = sa.Table(
        "notification_preferences", md,
        sa.Column("user_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(20), primary_key=True),
        sa.Column("delivery", sa.String(10), nullable=False),
    )
    return rows, prefs


def upgrade(conn: sa.Connection) -> None:
    """The tables, and the notifications kept so far as events on `user:ID` made into rows
    (the page reads rows now), oldest first so that ids keep their order."""
    md = sa.MetaData()
    rows, prefs = _tables(md)
    md.create_all(conn, tables=[rows, prefs])
    if not sa.inspect(conn).has_table("rt_events"):
        return
    events = conn.execute(sa.text(
        "SELECT channel, data, actor, ts FROM rt_events WHERE type = 'notification' "
        "AND channel LIKE 'user:%' ORDER BY id")).all()
    for channel, data, actor, ts in events:
        note, who = orjson.loads(data), orjson.loads(actor) if actor else {}
        when = dt.datetime.fromisoformat(ts).replace(tzinfo=None)
        conn.execute(rows.insert().values(
            user_id=int(channel.split(":", 1)[1]), kind=note.get("kind") or "review",
            text=str(note.get("text", ""))[:300], url=str(note.get("url", ""))[:300],
            actor_id=who.get("id"), created_at=when))

