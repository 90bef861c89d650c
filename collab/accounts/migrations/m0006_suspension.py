"""Accounts: a suspended member (`users.suspended_at`): no sign-in, no session, no token."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    when = str(sa.DateTime().compile(dialect=conn.dialect))
    conn.exec_driver_sql(f"ALTER TABLE users ADD COLUMN suspended_at {when}")
