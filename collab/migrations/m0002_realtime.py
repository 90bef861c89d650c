"""The hub's second schema: channel epochs, event subjects (redaction), send keys.

Frozen like every step: later changes get a migration of their own.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    conn.execute(sa.text("ALTER TABLE rt_channels ADD COLUMN epoch VARCHAR(24) "
                         "NOT NULL DEFAULT ''"))
    conn.execute(sa.text("ALTER TABLE rt_events ADD COLUMN subject VARCHAR(80)"))
    conn.execute(sa.text("CREATE INDEX ix_rt_events_subject ON rt_events (channel, subject)"))
    meta = sa.Table(
        "rt_meta", md,
        sa.Column("key", sa.String(length=40), primary_key=True),
        sa.Column("value", sa.String(length=200), nullable=False),
    )
    keys = sa.Table(
        "rt_send_keys", md,
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("key", sa.String(length=64), primary_key=True),
        sa.Column("ack", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Index("ix_rt_send_keys_created_at", "created_at"),
    )
    meta.create(conn)
    keys.create(conn)
    # Every channel so far, and every channel made later, starts in the database's epoch.
    epoch = secrets.token_hex(6)
    conn.execute(meta.insert().values(key="epoch", value=epoch))
    conn.execute(sa.text("UPDATE rt_channels SET epoch = :epoch"), {"epoch": epoch})
