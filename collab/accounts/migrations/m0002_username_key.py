"""Accounts: `users.username_key`, the case-folded name."""

from __future__ import annotations

import logging

import sqlalchemy as sa

log = logging.getLogger("collab.migrations")

_users = sa.table("users", sa.column("id"), sa.column("username"), sa.column("username_key"))


def upgrade(conn: sa.Connection) -> None:
    """`users.username_key`: the case-folded name, unique, compared with `=`.

    User names used to be matched with `iexact`, an unescaped LIKE: `%` matched anyone. Names
    are ASCII (3–40 of `A–Z a–z 0–9 . _ -`), so SQL's `lower()` folds them as Python does.
    Two rows that fold to the same key could exist (the old check raced); the later one gets
    a key no name folds to (`…~ID`) and a warning names it, for an operator to rename.
    """
    conn.execute(sa.text("ALTER TABLE users ADD COLUMN username_key VARCHAR(40)"))
    conn.execute(sa.text("UPDATE users SET username_key = lower(username)"))
    clashes = conn.execute(sa.text(
        "SELECT id, username, username_key FROM users WHERE username_key IN "
        "(SELECT username_key FROM users GROUP BY username_key HAVING count(*) > 1) "
        "ORDER BY username_key, id")).all()
    seen: set[str] = set()
    for user_id, username, key in clashes:
        if key not in seen:
            seen.add(key)  # the oldest account keeps the name
            continue
        suffix = f"~{user_id}"
        conn.execute(_users.update().where(_users.c.id == user_id)
                     .values(username_key=key[:40 - len(suffix)] + suffix))
        log.warning("user %s (id %s) differs from an older account only in case and cannot "
                    "sign in by name until renamed", username, user_id)
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("ALTER TABLE users ALTER COLUMN username_key SET NOT NULL"))
    conn.execute(sa.text("CREATE UNIQUE INDEX ix_users_username_key ON users (username_key)"))
