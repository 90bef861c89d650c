"""The event store: per-channel sequence numbers and persisted events, in the domain's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from collab import db

from .events import Event

channels_table = sa.Table(
    "rt_channels",
    db.metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"),
)

events_table = sa.Table(
    "rt_events",
    db.metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("channel", sa.String(200), nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=True),
    sa.Column("ts", sa.String(40), nullable=False),
    sa.UniqueConstraint("channel", "seq", name="uq_rt_events_channel_seq"),
)


def _upsert_next_seq(channel: str) -> Any:
    dialect = postgresql if not db.is_sqlite() else sqlite
    stmt = dialect.insert(channels_table).values(name=channel, seq=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[channels_table.c.name], set_={"seq": channels_table.c.seq + 1}
    )
    return stmt.returning(channels_table.c.seq)


async def take_write_lock(conn: Any) -> None:
    """On SQLite, take the write lock first so a later write never fails on a stale snapshot."""
    if db.is_sqlite():
        await conn.execute(sa.text("UPDATE rt_channels SET seq = seq WHERE 1 = 0"))


async def next_seq(conn: Any, channel: str) -> int:
    return int((await conn.execute(_upsert_next_seq(channel))).scalar_one())


async def append(conn: Any, event: Event) -> Event:
    """Store `event` on the transaction's connection, giving it the next seq unless it has one."""
    if event.seq is None:
        event.seq = await next_seq(conn, event.channel)
    seq = event.seq
    await conn.execute(
        events_table.insert().values(
            channel=event.channel, seq=seq, type=event.type,
            data=orjson.dumps(event.data).decode(),
            actor=orjson.dumps(event.actor).decode() if event.actor else None, ts=event.ts,
        )
    )
    return event


async def head(channel: str) -> int:
    """The latest seq of `channel` (0 when it has none)."""
    async with db.database.connection() as conn:
        row = (await conn.execute(
            sa.select(channels_table.c.seq).where(channels_table.c.name == channel)
        )).first()
    return int(row[0]) if row else 0


async def heads(channels: Sequence[str]) -> dict[str, int]:
    if not channels:
        return {}
    async with db.database.connection() as conn:
        rows = (await conn.execute(
            sa.select(channels_table.c.name, channels_table.c.seq)
            .where(channels_table.c.name.in_(list(channels)))
        )).all()
    return {name: int(seq) for name, seq in rows}


async def read(channel: str, after: int, upto: int | None = None, limit: int = 5000) -> list[Event]:
    """Persisted events of `channel` with after < seq <= upto, in order."""
    query = (
        sa.select(events_table.c.seq, events_table.c.type, events_table.c.data,
                  events_table.c.actor, events_table.c.ts)
        .where(events_table.c.channel == channel, events_table.c.seq > after)
        .order_by(events_table.c.seq)
        .limit(limit)
    )
    if upto is not None:
        query = query.where(events_table.c.seq <= upto)
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    return [
        Event(channel, type_, orjson.loads(data), seq=int(seq),
              actor=orjson.loads(actor) if actor else None, ts=ts)
        for seq, type_, data, actor, ts in rows
    ]
