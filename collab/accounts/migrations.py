"""Accounts' schema steps after the core's `0001_initial` (frozen: later changes get new steps)."""

from __future__ import annotations

import datetime as dt
import logging

import sqlalchemy as sa

log = logging.getLogger("collab.migrations")

_users = sa.table("users", sa.column("id"), sa.column("username"), sa.column("username_key"))


def _datetime(conn: sa.Connection) -> str:
    return str(sa.DateTime().compile(dialect=conn.dialect))


def username_key(conn: sa.Connection) -> None:
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


def token_expiry(conn: sa.Connection) -> None:
    """API tokens get a name, a last use and an expiry; tokens issued before expire in 90 days
    (TOKEN_TTL_DAYS's default) rather than never."""
    when = _datetime(conn)
    conn.execute(sa.text("ALTER TABLE api_tokens ADD COLUMN name VARCHAR(80)"))
    conn.execute(sa.text(f"ALTER TABLE api_tokens ADD COLUMN last_used_at {when}"))
    conn.execute(sa.text(f"ALTER TABLE api_tokens ADD COLUMN expires_at {when}"))
    expires = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=90)
    conn.execute(sa.text("UPDATE api_tokens SET expires_at = :expires"), {"expires": expires})
    conn.execute(sa.text('CREATE INDEX ix_api_tokens_user ON api_tokens ("user")'))


def sessions(conn: sa.Connection) -> None:
    """Server-side sessions: the cookie names a row; signing out ends it for every copy."""
    md = sa.MetaData()
    sa.Table("users", md, sa.Column("id", sa.Integer(), primary_key=True))
    table = sa.Table(
        "sessions", md,
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("user", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column("created_at", sa.DateTime()),
        sa.Column("last_seen_at", sa.DateTime()),
        sa.Column("ended_at", sa.DateTime()),
        sa.Index("ix_sessions_user", "user"),
    )
    table.create(conn)


MIGRATIONS = [
    ("accounts_0002_username_key", username_key),
    ("accounts_0003_token_expiry", token_expiry),
    ("accounts_0004_sessions", sessions),
]
