"""The board's statements, declared once, for the changes the door runs (`hub.write`).

A change (`collab.realtime.Change`) is checks (which may refuse), writes, how the event's data
follows from what they returned, and what else it writes: earlier events it redacts (new or
deleted text) and the notifications of mentioned members. The door runs every one of them, in
group commits, with the board's lock (`lock_step`) taken once per group.

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
from typing import Any, TypeVar

import sqlalchemy as sa

from collab.errors import Conflict, Invalid, NotFound
from collab.realtime import Hub, Redaction, Step, Stmt

from . import ranks
from .models import Assignee, Board, Card, Column, Comment, DoneLog, Member

log = logging.getLogger("collab.boards")
T = TypeVar("T")
Results = dict[str, Any]

_cards = Card.ormar_config.table
_cols = Column.ormar_config.table
_log = DoneLog.ormar_config.table
_assignees = Assignee.ormar_config.table
_members = Member.ormar_config.table
_boards = Board.ormar_config.table
_comments = Comment.ormar_config.table

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


def lock_step(board_id: int) -> Step:
    """The door's lock for a change to this board (`Change.lock`)."""
    return Step(LOCK_BOARD, {"b_board": board_id}, refuse=NotFound("this board is gone"))


@asynccontextmanager
async def board_transaction(hub: Hub, board_id: int) -> AsyncIterator[Any]:
    """`hub.transaction()` that takes the board's lock first (every change to a board uses it
    or the door, whose first check takes the same lock)."""
    async with hub.transaction() as tx:
        await tx.conn.execute(LOCK_BOARD.statement, {"b_board": board_id})
        yield tx


# -- checks --------------------------------------------------------------------------------------
BOARD_HAS_ROOM = Stmt(
    sa.select(sa.literal_column("1").label("ok")).where(
        sa.select(sa.func.count()).select_from(_cards)
        .where(_cards.c.board_id == _p("b_board", sa.Integer)).scalar_subquery()
        < _p("max_cards", sa.Integer)))


def _neighbours(moving: Any = None) -> sa.Select[Any]:
    """The place `index` of a column, in one statement: how many other cards the column holds
    (`others`, NULL when the column is not on this board) and the ranks either side.

    The card above the place is found from the nearer end of the column: walking the column's
    index cost 0.2 µs a card, 0.1 ms for the middle of 1,000 cards; the count kept on the
    column says which end is nearer. `index` -1 means the end; `same_column` is 1 when the
    moving card is already in the column (it is left out, as `b_card`; 0 for a new card).
    One statement because on PostgreSQL each one is a round trip, and a move's round trips,
    one after the other within a group, bounded how many moves a board took per second.
    `moving`: the moving card's version check, as a CTE (see BUMPED_NEIGHBOURS).
    """
    index = _p("index", sa.Integer)
    count = (sa.select(_cols.c.card_count)
             .where(_cols.c.id == _p("to_column", sa.Integer),
                    _cols.c.board_id == _p("b_board", sa.Integer)).scalar_subquery())
    same_column: Any = _p("same_column", sa.Integer)
    if moving is not None:
        same_column = sa.cast(sa.select(moving.c.from_column).scalar_subquery()
                              == _p("to_column", sa.Integer), sa.Integer)
    others = count - same_column
    in_column = sa.and_(_cards.c.column_id == _p("to_column", sa.Integer),
                        _cards.c.id != _p("b_card", sa.Integer))

    def nth(order: Any, offset: Any) -> Any:
        safe = sa.case((offset < 0, 0), else_=offset)  # never negative, even if evaluated
        return (sa.select(_cards.c.rank).where(in_column).order_by(order).limit(1)
                .offset(safe).scalar_subquery())

    before = sa.case(
        (index == 0, sa.null()),
        (index < 0, nth(_cards.c.rank.desc(), 0)),
        (index - 1 <= others - index, nth(_cards.c.rank, index - 1)),
        else_=nth(_cards.c.rank.desc(), others - index))
    # MATERIALIZED: PostgreSQL would otherwise copy `before` into `after` and walk twice.
    last_column = (sa.select(_cols.c.id).where(_cols.c.board_id == _p("b_board", sa.Integer))
                   .order_by(_cols.c.rank.desc()).limit(1).scalar_subquery())
    place = (sa.select(others.label("others"), before.label("before"),
                       last_column.label("last_column")).cte("place")
             .prefix_with("MATERIALIZED", dialect="postgresql"))
    # The first rank above: '' sorts before every rank (an OR here made the databases walk the
    # column from its top), and ORDER BY … LIMIT 1 rather than min(), which PostgreSQL
    # computed over every rank above.
    after = (sa.select(_cards.c.rank).where(
        in_column, _cards.c.rank > sa.func.coalesce(place.c.before, ""))
        .order_by(_cards.c.rank).limit(1).scalar_subquery())
    columns = [place.c.others, place.c.before, after.label("after"), place.c.last_column]
    if moving is None:
        return sa.select(*columns).select_from(place)
    return sa.select(*columns, moving.c.from_column, moving.c.version).select_from(
        place.join(moving, sa.true()))


NEIGHBOURS = Stmt(_neighbours())
# SQLite's version check of a move (PostgreSQL's is inside MOVE_CARD): it touches no row when
# the card moved on. The door's lock (`lock_step`) came first.
BUMP_VERSION = Stmt(
    sa.update(_cards)
    .where(_cards.c.id == _p("b_card"), _cards.c.board_id == _p("b_board"),
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

# Deleting a card and commenting on one (cards.py).
DELETE_CARD = Stmt(sa.delete(_cards).where(
    _cards.c.id == _p("b_card"), _cards.c.board_id == _p("b_board"),
    _cards.c.version == _p("b_version")).returning(_cards.c.column_id))
COUNT_COMMENT = Stmt(sa.update(_cards).where(
    _cards.c.id == _p("b_card"), _cards.c.board_id == _p("b_board"))
    .values(comment_count=_cards.c.comment_count + 1)
    .returning(_cards.c.comment_count, _cards.c.title))
DELETE_COMMENTS = Stmt(sa.delete(_comments).where(_comments.c.card_id == _p("b_card")))
LAST_COLUMN = Stmt(sa.select(_cols.c.id).where(_cols.c.board_id == _p("b_board"))
                   .order_by(_cols.c.rank.desc()).limit(1))
COUNT_DEPARTURE = Stmt(sa.update(_cols).where(_cols.c.id == _p("b_column"))
                       .values(card_count=_cols.c.card_count - 1))
INSERT_COMMENT = Stmt(sa.insert(_comments).values(
    card_id=_p("b_card"), board_id=_p("b_board"),
    author_id=_p("b_author"), body=_p("b_body"),
    body_html=_p("b_body_html"), created_at=_p("now"))
    .returning(_comments.c.id))

# -- writes --------------------------------------------------------------------------------------
_place_card = (sa.update(_cards).where(_cards.c.id == _p("b_card"))
               .values(column_id=_p("to_column"), rank=_p("new_rank"))
               .returning(_cards.c.rank))
PLACE_CARD = Stmt(_place_card)
INSERT_CARD = Stmt(
    sa.insert(_cards).values(
        board_id=_p("b_board"), column_id=_p("to_column"), rank=_p("new_rank"),
        title=_p("new_title"), description=_p("new_description"),
        description_html=_p("new_description_html"), due=_p("new_due"),
        labels=_p("new_labels"), checklist=_p("new_checklist"), version=1, comment_count=0,
        created_by=_p("actor_id"), created_at=_p("now"), updated_at=_p("now"))
    .returning(_cards.c.id, _cards.c.rank, _cards.c.version))
# A card arrives in `to_column` (and leaves `from_column`, if it came from another one).
_count_arrival = (
    sa.update(_cols)
    .where(_cols.c.id.in_([_p("from_column", sa.Integer), _p("to_column", sa.Integer)]),
           sa.func.coalesce(_p("from_column", sa.Integer), 0) != _p("to_column", sa.Integer))
    .values(card_count=_cols.c.card_count
            + sa.case((_cols.c.id == _p("to_column", sa.Integer), 1), else_=-1)))
COUNT_ARRIVAL = Stmt(_count_arrival)
# Under the board's lock: is this person still an owner or member? A removal (or a demotion to
# viewer) takes them off every card under the same lock, so an assignment read before it and
# written after it would have left them assigned.
ASSIGNABLE = Stmt(
    sa.select(sa.literal_column("1").label("ok")).select_from(_members)
    .where(_members.c.project_id == _p("the_project", sa.Integer),
           _members.c.user_id == _p("the_user", sa.Integer),
           _members.c.role.in_([sa.literal_column("'owner'"), sa.literal_column("'member'")])))


def assignable_steps(project_id: int, people: list[tuple[int, str]]) -> list[Step]:
    """Checks that each of `people` (id, username) may still be assigned (ASSIGNABLE)."""
    return [Step(ASSIGNABLE, {"the_project": project_id, "the_user": uid},
                 refuse=Invalid(f"{name[:40]!r} is no longer an owner or member of this "
                                "project, so cannot be assigned", extra={"field": "assignees"}))
            for uid, name in people]


UNASSIGN_ALL = Stmt(sa.delete(_assignees).where(_assignees.c.card_id == _p("b_card")))
ASSIGN = Stmt(sa.insert(_assignees).values(card_id=_p("the_card"), user_id=_p("the_user")))

# Cards done are the cards of the last column: a card entering it counts +1, leaving it -1.
# The delta is worked out in Python from NEIGHBOURS' `last_column` (four sub-selects here made
# the statement cost more to plan than to run).
_log_done = sa.insert(_log).from_select(
    ["board_id", "at", "done_delta", "total_delta"],
    sa.select(_p("b_board", sa.Integer), _p("now", sa.DateTime), _p("done_delta", sa.Integer),
              _p("total_delta", sa.Integer))
    .where(sa.or_(_p("done_delta", sa.Integer) != 0, _p("total_delta", sa.Integer) != 0)))
LOG_DONE = Stmt(_log_done)




def _move_card() -> sa.Select[Any]:
    """PostgreSQL: a whole move in one statement (SQLite runs BUMP_VERSION, NEIGHBOURS and
    place_steps, which cost no round trip there). One row, whose rank is NULL when the version
    check failed or the column or the index was refused; its other columns say which
    (`cards.refused_move`).

    It reads neighbours and writes in one snapshot, so it is safe only under the board's lock
    taken before it by the door (`Change.lock`): had the statement itself waited for the lock,
    it would read the neighbours as they were before the previous writer committed. The card's
    row in that snapshot gives the column it leaves; the rank is `collab_rank_between`
    (m0002_rank_sql.py, the same ranks as ranks.py).
    """
    cur = (sa.select(_cards.c.column_id.label("from_column"), _cards.c.version)
           .where(_cards.c.id == _p("b_card"), _cards.c.board_id == _p("b_board")).cte("cur"))
    near = _neighbours(cur).cte("near")
    index = _p("index", sa.Integer)
    to_column = _p("to_column", sa.Integer)
    moved = (sa.update(_cards)
             .where(_cards.c.id == _p("b_card"), _cards.c.board_id == _p("b_board"),
                    _cards.c.version == _p("b_version"), near.c.others.is_not(None),
                    index <= near.c.others)
             .values(version=_cards.c.version + 1, updated_at=_p("now"), column_id=to_column,
                     rank=sa.func.collab_rank_between(near.c.before, near.c.after))
             .returning(_cards.c.rank, _cards.c.version).cte("moved"))
    delta = (sa.cast(to_column == near.c.last_column, sa.Integer)
             - sa.cast(near.c.from_column == near.c.last_column, sa.Integer))
    logged = sa.insert(_log).from_select(
        ["board_id", "at", "done_delta", "total_delta"],
        sa.select(_p("b_board", sa.Integer), _p("now", sa.DateTime), delta, sa.literal(0))
        .select_from(moved).join(near, sa.true()).where(delta != 0)).cte("logged")
    counted = (sa.update(_cols)
               .where(_cols.c.id.in_([near.c.from_column, to_column]),
                      near.c.from_column != to_column,
                      sa.exists(sa.select(moved.c.rank)))
               .values(card_count=_cols.c.card_count
                       + sa.case((_cols.c.id == to_column, 1), else_=-1))).cte("counted")
    # Always one row, its first column NULL when refused (`Stmt.one_row`: a group's moves then
    # go to the database in one round trip).
    one = sa.select(sa.literal(1).label("one")).subquery("one")
    return (sa.select(moved.c.rank, near.c.from_column, moved.c.version, near.c.others,
                      near.c.version.label("was_version"))
            .select_from(one.outerjoin(near, sa.true()).outerjoin(moved, sa.true()))
            .add_cte(logged).add_cte(counted))


MOVE_CARD = Stmt(_move_card(), one_row=True)


def neighbours_step(to_column: int, board_id: int, card_id: int, index: int | None,
                    moving_from: Callable[[Results], Any] | None = None) -> Step:
    """Read the column's count and the ranks either side of place `index` (None: the end)."""
    return Step(NEIGHBOURS, {
        "to_column": to_column, "b_board": board_id, "b_card": card_id,
        "index": -1 if index is None else index,
        "same_column": (lambda r: int(moving_from(r) == to_column)) if moving_from else 0,
    }, name="near")


def placed_rank(to_column: int, index: int | None) -> Callable[[Results], str]:
    """The new rank between the neighbours read by `neighbours_step`; refuses a column that is
    not on this board or an index past the column's end. (It runs as a parameter of a check,
    before the seq is taken, so a refusal leaves nothing behind.)"""
    def rank(r: Results) -> str:
        near = r["near"]
        if near["others"] is None:
            raise no_column(to_column)
        if index is not None and index > near["others"]:
            raise index_out_of_range(index, near["others"])
        return ranks.between(near["before"], near["after"])
    return rank


def no_column(column_id: int) -> NotFound:
    return NotFound(f"no column {column_id} on this board", extra={"field": "column_id"})


def index_out_of_range(index: int, others: int) -> Invalid:
    return Invalid(f"index {index} is out of range: 0 ≤ index ≤ {others}, the number of other "
                   "cards in that column", extra={"field": "index"})


def done_delta(to_column: int | None, from_column: Any) -> Callable[[Results], int]:
    """+1 for a card entering the last column, -1 for one leaving it (NEIGHBOURS' result)."""
    def delta(r: Results) -> int:
        last = r["near"]["last_column"]
        came_from = from_column(r) if callable(from_column) else from_column
        return int(to_column == last) - int(came_from == last)
    return delta


def log_step(board_id: int, now: dt.datetime, delta: Any, total_delta: int) -> Step:
    """Log cards entering or leaving the done column (and cards added or removed)."""
    return Step(LOG_DONE, {"b_board": board_id, "now": now, "done_delta": delta,
                           "total_delta": total_delta})


def count_step(to_column: int | None, from_column: Any) -> Step:
    """Keep the columns' card counts: a card arriving in `to_column` from `from_column`."""
    return Step(COUNT_ARRIVAL, {"to_column": to_column, "from_column": from_column})


def place_steps(board_id: int, card_id: int, to_column: int, index: int,
                from_column: Callable[[Results], Any], now: dt.datetime) -> list[Step]:
    """SQLite: a card's new place, the done log and the counts (PostgreSQL moves a card in one
    statement, MOVE_CARD). Checks, not writes: the rank's parameter may refuse."""
    return [Step(PLACE_CARD, {"b_card": card_id, "to_column": to_column,
                              "new_rank": placed_rank(to_column, index)}, name="placed"),
            log_step(board_id, now, done_delta(to_column, from_column), 0),
            count_step(to_column, from_column)]


# -- a card's rows and text, gone (a card or a column deleted) --------------------------------------
async def remove_card_rows(conn: Any, card_ids: list[int]) -> None:
    """A card's assignees and comments (SQLite does not cascade)."""
    await conn.execute(sa.delete(_assignees).where(_assignees.c.card_id.in_(card_ids)))
    await conn.execute(sa.delete(_comments).where(_comments.c.card_id.in_(card_ids)))


def card_redactions(channel: str, card_id: int) -> list[Redaction]:
    """Replay never brings a deleted card's text back, nor its comments."""
    return [Redaction(channel, f"card:{card_id}",
                      {"title": "", "description": "", "description_html": "", "labels": [],
                       "checklist": [], "deleted": True}),
            Redaction(channel, f"comments:{card_id}",
                      {"body": "", "body_html": "", "deleted": True})]


async def redact_card(tx: Any, channel: str, card_id: int) -> None:
    """`card_redactions`, in a transaction (a column deleted with its cards)."""
    for r in card_redactions(channel, card_id):
        await tx.redact(r.channel, r.subject, r.patch)


# -- running a change ----------------------------------------------------------------------------
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
