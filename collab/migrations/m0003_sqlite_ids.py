"""SQLite: API tokens get ids that are never given twice (sqlite_ids.py).

Only tables whose rows are deleted: the forum's rows never are (a deleted post is marked), and
AUTOINCREMENT cost 3 % of a post's CPU on the publish bench.
"""

from __future__ import annotations

import sqlalchemy as sa

from .sqlite_ids import never_reuse_ids


def upgrade(conn: sa.Connection) -> None:
    never_reuse_ids(conn, ["api_tokens"])
