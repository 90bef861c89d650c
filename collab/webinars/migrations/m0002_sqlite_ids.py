"""Webinars: registrations, their only rows that are deleted, get ids that are never given
twice (collab/migrations/sqlite_ids.py)."""

from __future__ import annotations

import sqlalchemy as sa

from collab.migrations.sqlite_ids import never_reuse_ids


def upgrade(conn: sa.Connection) -> None:
    never_reuse_ids(conn, ["webinar_registrations"])
