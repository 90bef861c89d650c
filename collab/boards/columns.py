"""Column rules: create, rename, reorder, delete (a column with cards only when confirmed).

Columns are few (at most 50 a board) and change rarely, so these run in the general
transaction, which can read the whole board's columns first. The done count is the number of
cards in the last column: a change that makes another column the last one logs the
difference, so the burn-up chart follows what the board shows.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from collab.clock import utcnow
from collab.errors import Invalid, NotFound
from collab.fields import bool_field, id_field, text_field
from collab.realtime import Actor, Hub

from . import ranks
from .access import Access
from .card_fields import index_field
from .models import Card, Column, DoneLog
from .writes import Busy, board_transaction, redact_card, remove_card_rows, retrying

MAX_COLUMNS = 50
MAX_COLUMN_TITLE = 100

_cols = Column.ormar_config.table
_cards = Card.ormar_config.table
_log = DoneLog.ormar_config.table


async def _columns(conn: Any, board_id: int) -> list[Any]:
    rows = (await conn.execute(sa.select(_cols.c.id, _cols.c.title, _cols.c.rank)
                               .where(_cols.c.board_id == board_id))).all()
    return sorted(rows, key=lambda r: r.rank)


async def done_count(conn: Any, board_id: int) -> int:
    """Cards in the board's last column."""
    columns = await _columns(conn, board_id)
    if not columns:
        return 0
    return int((await conn.execute(sa.select(sa.func.count()).select_from(_cards)
                                   .where(_cards.c.column_id == columns[-1].id))).scalar_one())


async def log(conn: Any, board_id: int, done_delta: int, total_delta: int) -> None:
    if done_delta or total_delta:
        await conn.execute(sa.insert(_log).values(board_id=board_id, at=utcnow(),
                                                  done_delta=done_delta,
                                                  total_delta=total_delta))


def _column(columns: list[Any], column_id: int) -> Any:
    for col in columns:
        if col.id == column_id:
            return col
    raise NotFound(f"no column {column_id} on this board", extra={"field": "column_id"})


def _place(others: list[Any], index: int | None) -> tuple[str, int]:
    """A rank for a column at `index` among `others` (None: at the end), and that index."""
    if index is None:
        index = len(others)
    if index > len(others):
        raise Invalid(f"index {index} is out of range: 0 ≤ index ≤ {len(others)}",
                      extra={"field": "index"})
    before = others[index - 1].rank if index > 0 else None
    after = others[index].rank if index < len(others) else None
    return ranks.between(before, after), index


async def create_column(hub: Hub, actor: Actor, access: Access, data: dict[str, Any]
                        ) -> tuple[int, dict[str, Any]]:
    access.require_write(actor)
    title = text_field(data, "title", MAX_COLUMN_TITLE)
    index = index_field(data)
    board_id = access.board_id

    async def attempt() -> tuple[int, dict[str, Any]]:
        async with board_transaction(hub, board_id) as tx:
            columns = await _columns(tx.conn, board_id)
            if len(columns) >= MAX_COLUMNS:
                raise Invalid(f"a board has at most {MAX_COLUMNS} columns")
            rank, at = _place(columns, index)
            done_before = await done_count(tx.conn, board_id)
            column_id = (await tx.conn.execute(
                sa.insert(_cols).values(board_id=board_id, title=title, rank=rank,
                                        created_at=utcnow()).returning(_cols.c.id))).scalar_one()
            await log(tx.conn, board_id, await done_count(tx.conn, board_id) - done_before, 0)
            event = await tx.emit(f"board:{board_id}", "column.created",
                                  {"id": column_id, "title": title, "rank": rank, "index": at},
                                  actor, subject=f"column:{column_id}")
            ack = {"id": column_id, "rank": rank, "index": at}
            tx.reply(event.seq, ack)
        return event.seq or 0, ack

    return await retrying(attempt)


async def rename_column(hub: Hub, actor: Actor, access: Access, data: dict[str, Any]
                        ) -> tuple[int, dict[str, Any]]:
    access.require_write(actor)
    column_id = id_field(data, "column_id")
    title = text_field(data, "title", MAX_COLUMN_TITLE)
    board_id = access.board_id
    async with board_transaction(hub, board_id) as tx:
        done = await tx.conn.execute(sa.update(_cols).where(
            _cols.c.id == column_id, _cols.c.board_id == board_id).values(title=title))
        if done.rowcount == 0:
            raise NotFound(f"no column {column_id} on this board", extra={"field": "column_id"})
        channel = f"board:{board_id}"
        await tx.redact(channel, f"column:{column_id}", {"title": title})
        event = await tx.emit(channel, "column.renamed", {"id": column_id, "title": title},
                              actor, subject=f"column:{column_id}")
        tx.reply(event.seq, {"id": column_id})
    return event.seq or 0, {"id": column_id}


async def move_column(hub: Hub, actor: Actor, access: Access, data: dict[str, Any]
                      ) -> tuple[int, dict[str, Any]]:
    access.require_write(actor)
    column_id = id_field(data, "column_id")
    index = index_field(data, required=True)
    board_id = access.board_id

    async def attempt() -> tuple[int, dict[str, Any]]:
        async with board_transaction(hub, board_id) as tx:
            columns = await _columns(tx.conn, board_id)
            _column(columns, column_id)  # type: ignore[arg-type]
            rank, at = _place([c for c in columns if c.id != column_id], index)
            done_before = await done_count(tx.conn, board_id)
            await tx.conn.execute(sa.update(_cols).where(_cols.c.id == column_id)
                                  .values(rank=rank))
            await log(tx.conn, board_id, await done_count(tx.conn, board_id) - done_before, 0)
            ack = {"id": column_id, "rank": rank, "index": at}
            event = await tx.emit(f"board:{board_id}", "column.moved", ack, actor)
            tx.reply(event.seq, ack)
        return event.seq or 0, ack

    return await retrying(attempt)


async def delete_column(hub: Hub, actor: Actor, access: Access, data: dict[str, Any]
                        ) -> tuple[int, dict[str, Any]]:
    """Delete a column; one that still holds cards only with `"force": true` (its cards go
    too), else `conflict` saying how many cards it holds."""
    access.require_write(actor)
    column_id = id_field(data, "column_id")
    force = bool_field(data, "force", False)
    board_id, channel = access.board_id, f"board:{access.board_id}"
    async with board_transaction(hub, board_id) as tx:
        columns = await _columns(tx.conn, board_id)
        _column(columns, column_id)  # type: ignore[arg-type]
        card_ids = [int(r[0]) for r in (await tx.conn.execute(
            sa.select(_cards.c.id).where(_cards.c.column_id == column_id))).all()]
        if card_ids and not force:
            raise Busy(f"this column holds {len(card_ids)} cards: confirm (force) to delete "
                       "them with it", extra={"data": {"cards": len(card_ids)}})
        done_before = await done_count(tx.conn, board_id)
        if card_ids:
            await remove_card_rows(tx.conn, card_ids)
            await tx.conn.execute(sa.delete(_cards).where(_cards.c.column_id == column_id))
            for card_id in card_ids:
                await redact_card(tx, channel, card_id)
        await tx.conn.execute(sa.delete(_cols).where(_cols.c.id == column_id))
        await tx.redact(channel, f"column:{column_id}", {"title": ""})
        await log(tx.conn, board_id, await done_count(tx.conn, board_id) - done_before,
                  -len(card_ids))
        event = await tx.emit(channel, "column.deleted", {"id": column_id, "cards": card_ids},
                              actor, subject=f"column:{column_id}")
        tx.reply(event.seq, {"id": column_id})
    return event.seq or 0, {"id": column_id}
