"""The event store: per-channel seq and epoch, persisted events, redaction, pruning, send keys.

Only `realtime` writes these tables; domains reach them through the door (`Hub.write`) and
`Hub.transaction()`, never by SQL of their own.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from collab import db

from .events import Event, now_iso

channels_table = sa.Table(
    "rt_channels",
    db.metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("epoch", sa.String(24), nullable=False, server_default=""),
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
    # What the event is about ("post:12"), so that deleting or editing it can redact it.
    sa.Column("subject", sa.String(80), nullable=True),
    sa.UniqueConstraint("channel", "seq", name="uq_rt_events_channel_seq"),
    sa.Index("ix_rt_events_subject", "channel", "subject"),
)

meta_table = sa.Table(
    "rt_meta",
    db.metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
)

send_keys_table = sa.Table(
    "rt_send_keys",
    db.metadata,
    sa.Column("user_id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("ack", sa.Text, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False, index=True),
)

# Raw SQL for the door's hot path (both dialects accept it with their own placeholders).
UPSERT_SEQ = ("INSERT INTO rt_channels (name, seq, epoch) VALUES ({0}, {1}, {2}) "
              "ON CONFLICT (name) DO UPDATE SET seq = rt_channels.seq + {1} RETURNING seq")
INSERT_EVENT = ("INSERT INTO rt_events (channel, seq, type, data, actor, ts, subject) "
                "VALUES ({0}, {1}, {2}, {3}, {4}, {5}, {6})")
SELECT_KEY = "SELECT ack FROM rt_send_keys WHERE user_id = {0} AND key = {1}"
INSERT_KEY = "INSERT INTO rt_send_keys (user_id, key, ack, created_at) VALUES ({0}, {1}, {2}, {3})"
# What `redact` below does, for the door's raw connections.
REDACT_SQLITE = ("UPDATE rt_events SET data = json_patch(data, {2}) "
                 "WHERE channel = {0} AND subject = {1}")
REDACT_POSTGRES = ("UPDATE rt_events SET data = CAST(CAST(data AS JSONB) || CAST({2}::text AS JSONB) "
                   "AS TEXT) WHERE channel = {0} AND subject = {1}")


# A statement that does nothing, to begin a transaction that has run none yet.
NOTHING = sa.text("SELECT 1")


def sqlite_sql(template: str) -> str:
    return template.format(*(f"?{n}" for n in range(1, 8)))


def postgres_sql(template: str) -> str:
    return template.format(*(f"${n}" for n in range(1, 8)))


def new_epoch() -> str:
    return secrets.token_hex(6)


def _dialect() -> Any:
    return sqlite if db.is_sqlite() else postgresql


# -- positions ---------------------------------------------------------------------------------
async def database_epoch() -> str:
    """The epoch new channels start with: made by the migration, rotated by `reset-epochs`."""
    async with db.database.connection() as conn:
        row = (await conn.execute(sa.select(meta_table.c.value)
                                  .where(meta_table.c.key == "epoch"))).first()
    return row[0] if row else ""


async def rotate_epochs() -> str:
    """Give the database and every channel a new epoch (after restoring a backup)."""
    epoch = new_epoch()
    async with db.write_transaction():
        conn = db.database.get_transaction_connection()
        await conn.execute(meta_table.delete().where(meta_table.c.key == "epoch"))
        await conn.execute(meta_table.insert().values(key="epoch", value=epoch))
        await conn.execute(channels_table.update().values(epoch=epoch))
    return epoch


async def position(channel: str, default_epoch: str) -> tuple[int, str]:
    """The latest seq of `channel` (0 when it has none) and its epoch."""
    async with db.database.connection() as conn:
        row = (await conn.execute(
            sa.select(channels_table.c.seq, channels_table.c.epoch)
            .where(channels_table.c.name == channel)
        )).first()
    return (int(row[0]), row[1] or default_epoch) if row else (0, default_epoch)


async def head(channel: str) -> int:
    return (await position(channel, ""))[0]


async def heads(channels: Sequence[str]) -> dict[str, int]:
    if not channels:
        return {}
    async with db.database.connection() as conn:
        rows = (await conn.execute(
            sa.select(channels_table.c.name, channels_table.c.seq)
            .where(channels_table.c.name.in_(list(channels)))
        )).all()
    return {name: int(seq) for name, seq in rows}


# -- writing (inside a transaction) -------------------------------------------------------------
async def take_write_lock(conn: Any) -> None:
    """On SQLite, take the write lock first so a later write never fails on a stale snapshot."""
    if db.is_sqlite():
        await conn.execute(sa.text("UPDATE rt_channels SET seq = seq WHERE 1 = 0"))


async def next_seq(conn: Any, channel: str, epoch: str) -> int:
    stmt = _dialect().insert(channels_table).values(name=channel, seq=1, epoch=epoch)
    stmt = stmt.on_conflict_do_update(
        index_elements=[channels_table.c.name], set_={"seq": channels_table.c.seq + 1}
    ).returning(channels_table.c.seq)
    return int((await conn.execute(stmt)).scalar_one())


async def append(conn: Any, event: Event, epoch: str = "", subject: str | None = None) -> Event:
    """Store `event` on the transaction's connection, giving it the next seq unless it has one."""
    if event.seq is None:
        event.seq = await next_seq(conn, event.channel, epoch)
    await conn.execute(
        events_table.insert().values(
            channel=event.channel, seq=event.seq, type=event.type,
            data=orjson.dumps(event.data).decode(),
            actor=orjson.dumps(event.actor).decode() if event.actor else None, ts=event.ts,
            subject=subject,
        )
    )
    return event


async def redact(conn: Any, channel: str, subject: str, patch: dict[str, Any]) -> None:
    """Merge `patch` into the stored data of every earlier event of `channel` about `subject`.

    Deleting a post blanks its text in its `post.created` and `post.edited` events; editing
    it writes the new text there: replay then shows what is, not what was.
    """
    where = (events_table.c.channel == channel) & (events_table.c.subject == subject)
    text = orjson.dumps(patch).decode()
    if db.is_sqlite():
        value: Any = sa.func.json_patch(events_table.c.data, text)
    else:
        # The patch goes in as text and is cast there: a JSONB bind parameter would encode the
        # already-encoded text again, and `object || string` makes an array.
        value = sa.cast(sa.cast(events_table.c.data, postgresql.JSONB)
                        .op("||")(sa.cast(sa.literal(text, sa.Text), postgresql.JSONB)), sa.Text)
    await conn.execute(events_table.update().where(where).values(data=value))


async def erase(conn: Any, channel: str) -> None:
    """Drop every stored event of `channel`: what it was about is gone (a deleted board), and
    its channel is never joined again, so nothing would ever prune them."""
    await conn.execute(events_table.delete().where(events_table.c.channel == channel))


# -- reading -----------------------------------------------------------------------------------
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


async def oldest(channel: str) -> int | None:
    """The lowest seq still stored for `channel` (None when none is)."""
    async with db.database.connection() as conn:
        row = (await conn.execute(sa.select(sa.func.min(events_table.c.seq))
                                  .where(events_table.c.channel == channel))).first()
    return int(row[0]) if row and row[0] is not None else None


# -- send keys ---------------------------------------------------------------------------------
async def recall(user_id: int, key: str) -> dict[str, Any] | None:
    """The ack a keyed `send` got the first time, if it was done."""
    async with db.database.connection() as conn:
        row = (await conn.execute(sa.select(send_keys_table.c.ack).where(
            send_keys_table.c.user_id == user_id, send_keys_table.c.key == key))).first()
    return orjson.loads(row[0]) if row else None


async def remember(conn: Any, user_id: int, key: str, ack: dict[str, Any]) -> None:
    await conn.execute(send_keys_table.insert().values(
        user_id=user_id, key=key, ack=orjson.dumps(ack).decode(), created_at=now_iso()))


async def remember_after(user_id: int, key: str, ack: dict[str, Any]) -> None:
    """For a keyed send that wrote no event: remember its ack (a second one is ignored)."""
    stmt = _dialect().insert(send_keys_table).values(
        user_id=user_id, key=key, ack=orjson.dumps(ack).decode(), created_at=now_iso()
    ).on_conflict_do_nothing()
    async with db.write_transaction():
        await db.database.get_transaction_connection().execute(stmt)


# -- pruning -----------------------------------------------------------------------------------
async def prune(keep: int, retention_days: float, keys_hours: float = 48.0,
                batch: int = 500) -> int:
    """Delete events outside each channel's last `keep` that are older than the retention.

    The replay window is what a `join` may ask for; beyond it a client gets `reset` anyway,
    so those events serve nobody once the retention has passed. Send keys are kept
    `keys_hours` (the contract promises at least 24 h). Returns how many events went.
    """
    cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=retention_days)).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    removed = 0
    last = ""
    while True:
        async with db.database.connection() as conn:
            rows = (await conn.execute(
                sa.select(channels_table.c.name, channels_table.c.seq)
                .where(channels_table.c.seq > keep, channels_table.c.name > last)
                .order_by(channels_table.c.name).limit(batch))).all()
        if not rows:
            break
        async with db.write_transaction():
            conn = db.database.get_transaction_connection()
            for name, seq in rows:
                result = await conn.execute(events_table.delete().where(
                    events_table.c.channel == name, events_table.c.seq <= int(seq) - keep,
                    events_table.c.ts < cutoff))
                removed += result.rowcount or 0
        last = rows[-1][0]
    keys_cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=keys_hours)).isoformat(
        timespec="milliseconds").replace("+00:00", "Z")
    async with db.write_transaction():
        await db.database.get_transaction_connection().execute(
            send_keys_table.delete().where(send_keys_table.c.created_at < keys_cutoff))
    return removed
