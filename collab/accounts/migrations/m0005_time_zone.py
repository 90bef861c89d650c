"""Accounts: a member's saved time zone (pages show times in it; none: the browser's)."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE users ADD COLUMN time_zone VARCHAR(64)")
