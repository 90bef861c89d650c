"""The board's statements, declared once, and how a change runs: through the door or a transaction.

A change is a `Plan`: checks (which may refuse), writes, and how the event's data follows from
what they returned. The hot ones (moving, creating, editing without new text) go through the
hub's door (`hub.write`, group commit); one that must also redact earlier events or notify a
mentioned member runs the same steps inside `hub.transaction()`, so both paths share every
statement and rule.

Ranks are computed inside the write, from the neighbours read in the same transaction (a
callable parameter runs between statements): on SQLite, where a group is one serial
transaction, two moves can never pick the same rank. On PostgreSQL, processes write
concurrently; if two of them choose one rank, the unique index on (column, rank) refuses the
second, and `retrying` runs it again with fresh neighbours.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from collab.errors import Conflict, Invalid, NotFound
from collab.realtime import Actor, Change, Event, Hub, Step, Stmt

from . import ranks
from .models import Assignee, Board, Card, Column, DoneLog

log = logging.getLogger("collab.boards")
T = TypeVar("T")
Results = dict[str, Any]

_cards = Card.ormar_config.table
_cols = Column.ormar_config.table
_log = DoneLog.ormar_config.table
_assignees = Assignee.ormar_config.table
_boards = Board.ormar_config.table

# A rank collision (only between processes on PostgreSQL) is retried this often.
RANK_RETRIES = 5
MAX_CARDS_PER_BOARD = 10_000


def _p(name: str, type_: Any = None) -> sa.BindParameter[Any]:
    return sa.bindparam(name, type_=type_)


class Stale(Conflict):
    """The card is not at the version the change was made against (or is gone)."""


class Busy(Conflict):
    """A domain conflict that retrying would not resolve (not a rank collision)."""


# -- the board's lock ----------------------------------------------------------------------------
# Every change to a board first locks its row (PostgreSQL; SQLite has one writer anyway). Without
# it two processes deadlocked: a group that had taken the channel's seq row went on to lock a
# card another process held, which waited for the seq row. Locked first, and in the same
# statement as the change's first check (a sub-select runs before the rows it filters are
# locked), writers of one board queue on one row and read their neighbours after the previous
# writer committed. NO KEY UPDATE: inserting rows that refer to the board still only needs a
# key-share lock, which it does not block.
def _locked_board() -> sa.ScalarSelect[Any]:
    return (sa.select(_boards.c.id).where(_boards.c.id == _p("b_board"))
            .with_for_update(key_share=True).scalar_subquery())


LOCK_BOARD = Stmt(sa.select(_boards.c.id).where(_boards.c.id == _p("b_board"))
                  .with_for_update(key_share=True))


@asynccontextmanager
async def board_transaction(hub: Hub, board_id: int) -> AsyncIterator[Any]:
    """`hub.transaction()` that takes the board's lock first (every change to a board uses it
    or the door, whose first check takes the same lock)."""
    async with hub.transaction() as tx:
        await tx.conn.execute(LOCK_BOARD.statement, {"b_board": board_id})
        yield tx


# -- checks --------------------------------------------------------------------------------------
# The destination column, on this board, and how many cards it holds (kept on the column row:
# it tells a move whether to find its place from the top or from the bottom of the column).
# Not where the lock is taken: a PostgreSQL statement that waited for the lock still reads what
# it saw when it started (READ COMMITTED re-reads only the locked row), so the count would be
# the one before the change it waited for. The lock comes first, in a statement of its own
# (LOCK_BOARD) or in the card's version check.
COLUMN_OF_BOARD = Stmt(sa.select(_cols.c.id, _cols.c.card_count)
                       .where(_cols.c.id == _p("to_column"), _cols.c.board_id == _p("b_board")))
BOARD_HAS_ROOM = Stmt(
    sa.select(sa.literal_column("1").label("ok")).where(
        sa.select(sa.func.count()).select_from(_cards)
        .where(_cards.c.board_id == _p("b_board", sa.Integer)).scalar_subquery()
        < _p("max_cards", sa.Integer)))
IN_RANGE = Stmt(sa.select(sa.literal_column("1").label("ok"))
                .where(_p("index", sa.Integer) <= _p("others", sa.Integer)))
# The card just above a place, counted from the top or from the bottom, whichever is nearer
# (`take` is 1 for the direction used, 0 for the other): walking a 1,000-card column's index
# from one end cost 0.2 µs a card, 0.1 ms for a move to the middle. The card itself is left
# out (card_id 0 for a new card).
NTH_RANK = Stmt(sa.select(_cards.c.rank)
                .where(_cards.c.column_id == _p("to_column"), _cards.c.id != _p("b_card"))
                .order_by(_cards.c.rank).limit(_p("take", sa.Integer))
                .offset(_p("offset", sa.Integer)))
NTH_RANK_FROM_END = Stmt(sa.select(_cards.c.rank)
                         .where(_cards.c.column_id == _p("to_column"),
                                _cards.c.id != _p("b_card"))
                         .order_by(_cards.c.rank.desc()).limit(_p("take_end", sa.Integer))
                         .offset(_p("offset_end", sa.Integer)))
RANK_AFTER = Stmt(sa.select(sa.func.min(_cards.c.rank).label("rank"))
                  .where(_cards.c.column_id == _p("to_column"), _cards.c.id != _p("b_card"),
                         _cards.c.rank > _p("before_rank")))
FIRST_RANK = Stmt(sa.select(sa.func.min(_cards.c.rank).label("rank"))
                  .where(_cards.c.column_id == _p("to_column"), _cards.c.id != _p("b_card")))
LAST_RANK = Stmt(sa.select(sa.func.max(_cards.c.rank).label("rank"))
                 .where(_cards.c.column_id == _p("to_column"), _cards.c.id != _p("b_card")))
# The version check of every change to a card: it touches no row when the card moved on.
BUMP_VERSION = Stmt(
    sa.update(_cards)
    .where(_cards.c.id == _p("b_card"), _cards.c.board_id == _locked_board(),
           _cards.c.version == _p("b_version"))
    .values(version=_cards.c.version + 1, updated_at=_p("now"))
    .returning(_cards.c.column_id.label("from_column"), _cards.c.version))
UPDATE_CARD = Stmt(
    sa.update(_cards)
    .where(_cards.c.id == _p("b_card"), _cards.c.board_id == _locked_board(),
           _cards.c.version == _p("b_version"))
    .values(title=_p("new_title"), description=_p("new_description"),
            description_html=_p("new_description_html"), due=_p("new_due"),
            labels=_p("new_labels"), checklist=_p("new_checklist"),
            version=_cards.c.version + 1, updated_at=_p("now"))
    .returning(_cards.c.version))

# -- writes --------------------------------------------------------------------------------------
PLACE_CARD = Stmt(sa.update(_cards).where(_cards.c.id == _p("b_card"))
                  .values(column_id=_p("to_column"), rank=_p("new_rank"))
                  .returning(_cards.c.rank))
INSERT_CARD = Stmt(
    sa.insert(_cards).values(
        board_id=_p("b_board"), column_id=_p("to_column"), rank=_p("new_rank"),
        title=_p("new_title"), description=_p("new_description"),
        description_html=_p("new_description_html"), due=_p("new_due"),
        labels=_p("new_labels"), checklist=_p("new_checklist"), version=1, comment_count=0,
        created_by=_p("actor_id"), created_at=_p("now"), updated_at=_p("now"))
    .returning(_cards.c.id, _cards.c.rank, _cards.c.version))
# A card arrives in `to_column` (and leaves `from_column`, if it came from another one).
COUNT_ARRIVAL = Stmt(
    sa.update(_cols)
    .where(_cols.c.id.in_([_p("from_column", sa.Integer), _p("to_column", sa.Integer)]),
           sa.func.coalesce(_p("from_column", sa.Integer), 0) != _p("to_column", sa.Integer))
    .values(card_count=_cols.c.card_count
            + sa.case((_cols.c.id == _p("to_column", sa.Integer), 1), else_=-1)))
UNASSIGN_ALL = Stmt(sa.delete(_assignees).where(_assignees.c.card_id == _p("b_card")))
ASSIGN = Stmt(sa.insert(_assignees).values(card_id=_p("the_card"), user_id=_p("the_user")))

# Cards done are the cards of the last column: a card entering it counts +1, leaving it -1.
_last_column = (sa.select(_cols.c.id).where(_cols.c.board_id == _p("b_board", sa.Integer))
                .order_by(_cols.c.rank.desc()).limit(1).scalar_subquery())
_done_delta = (sa.case((_p("to_column", sa.Integer) == _last_column, 1), else_=0)
               - sa.case((_p("from_column", sa.Integer) == _last_column, 1), else_=0))
LOG_DONE = Stmt(sa.insert(_log).from_select(
    ["board_id", "at", "done_delta", "total_delta"],
    sa.select(_p("b_board", sa.Integer), _p("now", sa.DateTime), _done_delta,
              _p("total_delta", sa.Integer))
    .where(sa.or_(_done_delta != 0, _p("total_delta", sa.Integer) != 0))))


def others_in(to_column: int, moving_from: Callable[[Results], Any] | None
              ) -> Callable[[Results], int]:
    """How many other cards the destination column holds (COLUMN_OF_BOARD's count, less the
    moving card if it is already there)."""
    def others(r: Results) -> int:
        count = int(r["column"]["card_count"])
        return count - 1 if moving_from is not None and moving_from(r) == to_column else count
    return others


def neighbour_steps(to_column: int, card_id: int, index: int | None,
                    moving_from: Callable[[Results], Any] | None = None) -> list[Step]:
    """Read the ranks either side of place `index` (None: the end) of a column; needs
    COLUMN_OF_BOARD's result (`column`) first."""
    params: dict[str, Any] = {"to_column": to_column, "b_card": card_id}
    if index is None:
        return [Step(LAST_RANK, params, name="before")]
    others = others_in(to_column, moving_from)
    steps = [Step(IN_RANGE, {"index": index, "others": others},
                  refuse=Invalid(f"index {index} is out of range: 0 ≤ index ≤ the number of "
                                 "other cards in that column", extra={"field": "index"}))]
    if index == 0:
        return [*steps, Step(FIRST_RANK, params, name="after")]

    def from_top(r: Results) -> bool:
        return index - 1 <= others(r) - index

    return [*steps,
            Step(NTH_RANK, {**params, "take": lambda r: int(from_top(r)), "offset": index - 1},
                 name="before"),
            Step(NTH_RANK_FROM_END, {**params, "take_end": lambda r: int(not from_top(r)),
                                     "offset_end": lambda r: others(r) - index},
                 name="before"),
            Step(RANK_AFTER, {**params, "before_rank": lambda r: r["before"]["rank"]},
                 name="after")]


def new_rank(results: Results) -> str:
    before = (results.get("before") or {}).get("rank")
    after = (results.get("after") or {}).get("rank")
    return ranks.between(before, after)


def log_step(board_id: int, now: dt.datetime, to_column: int | None,
             from_column: Any, total_delta: int) -> Step:
    """Log a card entering or leaving the done column (and cards added or removed)."""
    return Step(LOG_DONE, {"b_board": board_id, "now": now, "to_column": to_column,
                           "from_column": from_column, "total_delta": total_delta})


def count_step(to_column: int | None, from_column: Any) -> Step:
    """Keep the columns' card counts: a card arriving in `to_column` from `from_column`."""
    return Step(COUNT_ARRIVAL, {"to_column": to_column, "from_column": from_column})


# -- running a plan ------------------------------------------------------------------------------
@dataclass
class Plan:
    channel: str
    type: str
    checks: list[Step]
    writes: list[Step]
    data: Callable[[Results], dict[str, Any]]
    ack: Callable[[Results], dict[str, Any]] | None = None
    subject: str | Callable[[Results], str] | None = None


async def through_door(hub: Hub, plan: Plan, actor: Actor) -> tuple[int, Results, dict[str, Any]]:
    """Commit `plan` through the door (group commit); (seq, results, ack data)."""
    written = await hub.write(Change(channel=plan.channel, type=plan.type, data=plan.data,
                                     checks=plan.checks, writes=plan.writes,
                                     actor=actor.public(), subject=plan.subject, ack=plan.ack))
    return written.seq, written.results, written.ack or {}


_bind_names: dict[int, frozenset[str]] = {}


def _names(stmt: Stmt) -> frozenset[str]:
    names = _bind_names.get(id(stmt))
    if names is None:
        names = _bind_names[id(stmt)] = frozenset(stmt.statement.compile().binds)
    return names


async def run_steps(conn: Any, steps: list[Step], results: Results) -> None:
    """The door's step semantics on a transaction's connection (SQLAlchemy Core)."""
    for step in steps:
        names = _names(step.stmt)
        params = {k: v for k, v in step.bound(results).items() if k in names}
        result = await conn.execute(step.stmt.statement, params)
        if result.returns_rows:
            row = result.mappings().first()
            if row is None:
                if step.refuse is not None:
                    raise step.refuse
            elif step.name:
                results[step.name] = dict(row)
        elif step.refuse is not None and result.rowcount == 0:
            raise step.refuse


async def in_transaction(tx: Any, plan: Plan, actor: Actor) -> tuple[Event, Results]:
    """Run `plan` inside `board_transaction()` (the caller adds redactions, notifications)."""
    results: Results = {}
    await run_steps(tx.conn, plan.checks, results)
    await run_steps(tx.conn, plan.writes, results)
    subject = plan.subject(results) if callable(plan.subject) else plan.subject
    event = await tx.emit(plan.channel, plan.type, plan.data(results), actor, subject=subject)
    results["seq"] = event.seq
    tx.reply(event.seq, plan.ack(results) if plan.ack else None)
    return event, results


async def retrying(attempt: Callable[[], Awaitable[T]]) -> T:
    """Run `attempt` again when the unique index on ranks refused it (a concurrent move took
    that place); any other refusal goes to the caller."""
    for n in range(RANK_RETRIES):
        try:
            return await attempt()
        except Conflict as exc:
            if type(exc) is Conflict:
                log.info("a rank was taken by a concurrent change (attempt %d): %s", n + 1, exc)
            if type(exc) is not Conflict or n == RANK_RETRIES - 1:
                if type(exc) is Conflict:
                    raise Conflict("the board is busy: that place kept being taken by other "
                                   "moves; nothing was changed, retry") from exc
                raise
    raise AssertionError("unreachable")


def not_found_card(card_id: int) -> NotFound:
    return NotFound(f"no card {card_id} on this board", extra={"field": "card_id"})
