"""Boards: cards found by (board, id) through one index."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    """Cards found by (board, id) through one index: with an index on the board alone, a plan
    made before the cards were analyzed (a new board, and the door's plans are made once per
    connection) found a card by walking every card of its board, twice per move. Queries on
    the board alone use the same index's first column."""
    conn.execute(sa.text("CREATE INDEX ix_cards_board_card ON cards (board_id, id)"))
    conn.execute(sa.text("DROP INDEX ix_cards_board_id"))
