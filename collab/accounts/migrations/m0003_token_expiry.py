"""Accounts: API tokens get a name, a last use and an expiry."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa


def _datetime(conn: sa.Connection) -> str:
    return str(sa.DateTime().compile(dialect=conn.dialect))


def upgrade(conn: sa.Connection) -> None:
    """API tokens get a name, a last use and an expiry; tokens issued before expire in 90 days
    (TOKEN_TTL_DAYS's default) rather than never."""
    when = _datetime(conn)
    conn.execute(sa.text("ALTER TABLE api_tokens ADD COLUMN name VARCHAR(80)"))
    conn.execute(sa.text(f"ALTER TABLE api_tokens ADD COLUMN last_used_at {when}"))
    conn.execute(sa.text(f"ALTER TABLE api_tokens ADD COLUMN expires_at {when}"))
    expires = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(days=90)
    conn.execute(sa.text("UPDATE api_tokens SET expires_at = :expires"), {"expires": expires})
    conn.execute(sa.text('CREATE INDEX ix_api_tokens_user ON api_tokens ("user")'))
