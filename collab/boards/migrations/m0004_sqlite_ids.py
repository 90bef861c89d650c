"""Boards: every table whose rows are deleted gets ids that are never given twice
(collab/migrations/sqlite_ids.py)."""

from __future__ import annotations

import sqlalchemy as sa

from collab.migrations.sqlite_ids import never_reuse_ids


def upgrade(conn: sa.Connection) -> None:
    never_reuse_ids(conn, ["projects", "boards", "project_members", "board_columns", "cards",
                           "card_assignees", "card_comments", "card_done_log"])
