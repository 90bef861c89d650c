"""The forum: a post may answer another post of its thread ("in reply to", jump to it)."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE posts ADD COLUMN reply_to INTEGER")
