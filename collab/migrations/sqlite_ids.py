"""SQLite: ids that are never given twice (`AUTOINCREMENT`).

Without it SQLite gives a new row the largest id in use plus one, so deleting the newest
project, card or post freed its id for the next one: a new public project got a deleted
private one's board, whose channel still replayed the private cards, and a client holding a
deleted card moved the new card that took its id. PostgreSQL's sequences never go back.

SQLite cannot add AUTOINCREMENT to a table, so each table is rebuilt, in the order SQLite's
documentation gives ("Making Other Kinds Of Table Schema Changes"): a copy created from the
table's own CREATE statement with the id declared `INTEGER PRIMARY KEY AUTOINCREMENT`, the
rows copied, the old table dropped, the copy renamed, its indexes and triggers created again.
Foreign keys are not enforced by collab on SQLite, so dropping a parent touches no child.
`sqlite_sequence` starts from the largest id copied, so no id in use now is given again.

It is for tables whose rows are deleted: where none ever is (posts are marked deleted, not
removed) ids cannot come back, and AUTOINCREMENT costs an update of `sqlite_sequence` per
insert (3 % of a forum post's CPU). A new table whose rows may be deleted declares it:
`sa.Table(..., sqlite_autoincrement=True)`; so does an old one before its first delete.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa

_ID_COLUMN = re.compile(r"(\(\s*)id INTEGER NOT NULL,")
_ID_KEY = re.compile(r",\s*PRIMARY KEY \(id\)")


def autoincrement_sql(create: str) -> str:
    """The CREATE TABLE statement `create` (as SQLAlchemy wrote it: `id INTEGER NOT NULL` first,
    `PRIMARY KEY (id)` among the constraints) with the id declared AUTOINCREMENT."""
    if len(_ID_COLUMN.findall(create)) != 1 or len(_ID_KEY.findall(create)) != 1:
        raise RuntimeError(f"unexpected table definition, not rebuilt: {create}")
    create = _ID_COLUMN.sub(r"\1id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,", create)
    return _ID_KEY.sub("", create)


def never_reuse_ids(conn: sa.Connection, tables: Iterable[str]) -> None:
    """Rebuild each of `tables` with an AUTOINCREMENT id (SQLite; a no-op elsewhere)."""
    if conn.dialect.name != "sqlite":
        return
    for name in tables:
        create = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).scalar()
        if create is None:
            raise RuntimeError(f"no table {name}")
        if "AUTOINCREMENT" in create.upper():
            continue
        rebuilt = f"{name}__ids"
        head = re.compile(rf'^CREATE TABLE "?{re.escape(name)}"?')
        if not head.match(create):
            raise RuntimeError(f"unexpected table definition, not rebuilt: {create}")
        companions = conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL ORDER BY type, name", (name,)).scalars().all()
        columns = ", ".join(f'"{row[1]}"' for row in
                            conn.exec_driver_sql(f'PRAGMA table_info("{name}")'))
        conn.exec_driver_sql(head.sub(f'CREATE TABLE "{rebuilt}"', autoincrement_sql(create)))
        conn.exec_driver_sql(
            f'INSERT INTO "{rebuilt}" ({columns}) SELECT {columns} FROM "{name}" ORDER BY id')
        conn.exec_driver_sql(f'DROP TABLE "{name}"')
        conn.exec_driver_sql(f'ALTER TABLE "{rebuilt}" RENAME TO "{name}"')
        for statement in companions:
            conn.exec_driver_sql(statement)
