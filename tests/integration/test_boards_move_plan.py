"""A move reads the moved card by its key, however many cards its board holds, and whatever
PostgreSQL's statistics say.

A new board is moved on before autovacuum has analyzed its cards, and the door runs its
statements with plans made once per connection (`force_generic_plan`). With an index on the
board alone, such a plan found the card by walking every card of the board (1,000 rows
filtered out per move on the benchmark's board, twice per move), until ANALYZE ran.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import asyncpg
import pytest

from collab.boards import ranks
from collab.boards.writes import MOVE_CARD
from collab.migrations import migrate
from collab.realtime.apply import pg_dialect
from collab.settings import normalise_database_url

pytestmark = pytest.mark.anyio

CARDS = 400


def _card_scans(node: dict[str, Any]) -> list[dict[str, Any]]:
    found = [node] if node.get("Relation Name") == "cards" and "Scan" in node["Node Type"] \
        else []
    for child in node.get("Plans", []):
        found += _card_scans(child)
    return found


async def test_a_move_reads_its_card_by_key_before_the_board_is_analyzed(
    postgres_db: str,
) -> None:
    await migrate(normalise_database_url(postgres_db))
    conn = await asyncpg.connect(postgres_db)
    try:
        await conn.execute("ALTER TABLE cards SET (autovacuum_enabled = false)")
        project = await conn.fetchval("INSERT INTO projects (name) VALUES ('p') RETURNING id")
        board = await conn.fetchval("INSERT INTO boards (project_id) VALUES ($1) RETURNING id",
                                    project)
        column = await conn.fetchval(
            "INSERT INTO board_columns (board_id, title, rank, card_count) "
            "VALUES ($1, 'c', 'a0', $2) RETURNING id", board, CARDS)
        ids = [r[0] for r in await conn.fetch(
            "INSERT INTO cards (board_id, column_id, rank, title, version) "
            "SELECT $1, $2, r, 't', 1 FROM unnest($3::text[]) AS r RETURNING id",
            board, column, ranks.spread(CARDS))]
        assert await conn.fetchval(
            "SELECT reltuples FROM pg_class WHERE relname = 'cards'") < 0  # never analyzed
        card = ids[CARDS // 2]
        sql, args, _ = MOVE_CARD.args(pg_dialect(), {
            "b_board": board, "now": dt.datetime(2026, 1, 1), "to_column": column,
            "b_card": card, "index": 0, "b_version": 1})
        async with conn.transaction():
            await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
            await conn.execute(f"PREPARE move AS {sql}")
            literal = ", ".join("NULL" if a is None else f"'{a}'" for a in args)
            plan = json.loads(await conn.fetchval(
                f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE move({literal})"))[0]["Plan"]
            moved = await conn.fetchrow(f"EXECUTE move({literal})")
        assert moved is None or moved[0] is None  # the EXPLAIN ANALYZE made the move already
        assert await conn.fetchval("SELECT version FROM cards WHERE id = $1", card) == 2
        scans = _card_scans(plan)
        assert scans
        filtered = [(s.get("Index Name"), s.get("Rows Removed by Filter", 0)) for s in scans
                    if s.get("Rows Removed by Filter", 0) > 1]
        assert not filtered, f"a move filtered other cards out of a scan: {filtered}"
    finally:
        await conn.close()
