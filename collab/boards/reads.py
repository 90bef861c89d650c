"""Reading a board, a card, and a member's tasks: Core queries, a few per page, none per card.

A board of 1,000 cards is three queries (columns, cards, assignees) and dictionaries built
here; ranks are compared as Python strings (byte order), the order the database keeps.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
import sqlalchemy as sa

from collab import db
from collab.accounts.models import User
from collab.web import iso, person

from .models import Assignee, Board, Card, Column, Comment, Member, Project

_cards = Card.ormar_config.table
_cols = Column.ormar_config.table
_assignees = Assignee.ormar_config.table
_users = User.ormar_config.table
_comments = Comment.ormar_config.table
_members = Member.ormar_config.table
_projects = Project.ormar_config.table
_boards = Board.ormar_config.table

# The due date is read as its text (YYYY-MM-DD on both databases): parsing 1,000 dates to
# format them again cost more than the rest of a card.
CARD_COLUMNS = (_cards.c.id, _cards.c.column_id, _cards.c.rank, _cards.c.title,
                _cards.c.version, _cards.c.description, _cards.c.description_html,
                sa.cast(_cards.c.due, sa.String).label("due"),
                _cards.c.labels, _cards.c.checklist, _cards.c.comment_count)


@asynccontextmanager
async def connection(conn: Any = None) -> AsyncIterator[Any]:
    """`conn` (a transaction's, to read what it wrote) or a pooled connection."""
    if conn is not None:
        yield conn
        return
    async with db.database.connection() as fresh:
        yield fresh


def day(value: Any) -> str | None:
    """A stored date (a `date`, or SQLite's text) as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]


def card_dict(row: Any, assignees: list[str]) -> dict[str, Any]:
    """A card as the API, the events and the pages show it (`row` of CARD_COLUMNS).

    Unpacked by position: a board page builds 1,000 of these, and reading a Row's fields by
    name cost 30 µs a card."""
    (id, column_id, rank, title, version, description, description_html, due, labels,
     checklist, comments) = row[:11]
    return {"id": id, "column_id": column_id, "rank": rank, "title": title,
            "version": version, "description": description or "",
            "description_html": description_html or "", "assignees": assignees,
            "due": due[:10] if due else None, "labels": orjson.loads(labels or "[]"),
            "checklist": orjson.loads(checklist or "[]"), "comments": comments or 0}


async def _assignees_of(conn: Any, where: Any) -> dict[int, list[str]]:
    rows = (await conn.execute(
        sa.select(_assignees.c.card_id, _users.c.username)
        .select_from(_assignees.join(_users, _users.c.id == _assignees.c.user_id)
                     .join(_cards, _cards.c.id == _assignees.c.card_id))
        .where(where).order_by(_assignees.c.id))).all()
    out: dict[int, list[str]] = defaultdict(list)
    for card_id, username in rows:
        out[card_id].append(username)
    return out


async def columns_of(board_id: int) -> list[dict[str, Any]]:
    async with db.database.connection() as conn:
        rows = (await conn.execute(sa.select(_cols.c.id, _cols.c.title, _cols.c.rank)
                                   .where(_cols.c.board_id == board_id))).all()
    return [{"id": r.id, "title": r.title, "rank": r.rank} for r in sorted(rows, key=_rank)]


def _rank(row: Any) -> str:
    return row.rank


async def board(board_id: int) -> list[dict[str, Any]]:
    """The board's columns in order, each with its cards in order."""
    async with db.database.connection() as conn:
        columns = (await conn.execute(sa.select(_cols.c.id, _cols.c.title, _cols.c.rank)
                                      .where(_cols.c.board_id == board_id))).all()
        cards = (await conn.execute(sa.select(*CARD_COLUMNS)
                                    .where(_cards.c.board_id == board_id))).all()
        assigned = await _assignees_of(conn, _cards.c.board_id == board_id)
    by_column: dict[int, list[Any]] = defaultdict(list)
    for row in cards:
        by_column[row[1]].append(row)
    out = []
    none: list[str] = []
    for col in sorted(columns, key=_rank):
        rows = sorted(by_column.get(col.id, ()), key=_RANK)
        out.append({"id": col.id, "title": col.title, "rank": col.rank,
                    "cards": [card_dict(r, assigned.get(r[0], none)) for r in rows]})
    return out


_RANK = operator.itemgetter(2)


async def card(board_id: int, card_id: int, conn: Any = None) -> dict[str, Any] | None:
    """One card of a board as it is now, or None."""
    async with connection(conn) as c:
        row = (await c.execute(sa.select(*CARD_COLUMNS).where(
            _cards.c.id == card_id, _cards.c.board_id == board_id))).first()
        if row is None:
            return None
        assigned = await _assignees_of(c, _cards.c.id == card_id)
    return card_dict(row, assigned.get(card_id, []))


async def card_board(card_id: int) -> int | None:
    """The board a card is on (pages address cards by id alone)."""
    async with db.database.connection() as conn:
        row = (await conn.execute(sa.select(_cards.c.board_id)
                                  .where(_cards.c.id == card_id))).first()
    return int(row[0]) if row else None


async def column_board(column_id: int) -> int | None:
    async with db.database.connection() as conn:
        row = (await conn.execute(sa.select(_cols.c.board_id)
                                  .where(_cols.c.id == column_id))).first()
    return int(row[0]) if row else None


async def comments(card_id: int, limit: int = 500) -> list[dict[str, Any]]:
    async with db.database.connection() as conn:
        rows = (await conn.execute(
            sa.select(_comments.c.id, _comments.c.card_id, _comments.c.body,
                      _comments.c.body_html, _comments.c.created_at, _users.c.id.label("uid"),
                      _users.c.username, _users.c.display_name)
            .select_from(_comments.join(_users, _users.c.id == _comments.c.author_id))
            .where(_comments.c.card_id == card_id).order_by(_comments.c.id).limit(limit))).all()
    return [comment_dict(r.id, r.card_id, r.body, r.body_html, r.created_at,
                         person(r, r.uid)) for r in rows]


def comment_dict(comment_id: int, card_id: int, body: str, body_html: str,
                 created_at: dt.datetime, author: dict[str, Any]) -> dict[str, Any]:
    return {"id": comment_id, "card_id": card_id, "body": body, "body_html": body_html,
            "author": author, "created_at": iso(created_at)}


async def members(project_id: int) -> list[dict[str, Any]]:
    """A project's members: owners first, then members, then viewers, by username."""
    async with db.database.connection() as conn:
        rows = (await conn.execute(
            sa.select(_users.c.id, _users.c.username, _users.c.display_name, _members.c.role)
            .select_from(_members.join(_users, _users.c.id == _members.c.user_id))
            .where(_members.c.project_id == project_id))).all()
    order = {"owner": 0, "member": 1, "viewer": 2}
    return [{**person(r), "role": r.role}
            for r in sorted(rows, key=lambda r: (order.get(r.role, 3), r.username.lower()))]


def _tasks_query(user_id: int, *columns: Any) -> Any:
    """Cards assigned to `user_id` in projects they are a member of (a card of a project they
    left stays assigned, unseen, until someone changes it)."""
    last = (sa.select(_cols.c.id).where(_cols.c.board_id == _boards.c.id)
            .order_by(_cols.c.rank.desc()).limit(1).correlate(_boards).scalar_subquery())
    done = (_cards.c.column_id == last)
    return (
        sa.select(*columns, done.label("done"))
        .select_from(
            _assignees.join(_cards, _cards.c.id == _assignees.c.card_id)
            .join(_boards, _boards.c.id == _cards.c.board_id)
            .join(_projects, _projects.c.id == _boards.c.project_id)
            .join(_members, sa.and_(_members.c.project_id == _projects.c.id,
                                    _members.c.user_id == user_id))
            .join(_cols, _cols.c.id == _cards.c.column_id))
        .where(_assignees.c.user_id == user_id)), done


async def tasks(user_id: int, *, by_project: bool = False, open_only: bool = False,
                limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Every card assigned to `user_id` in projects they are a member of, by due date (cards
    without one last; done ones after open ones on the same day), or grouped by project
    first; with its project and column and whether it is done."""
    query, done = _tasks_query(
        user_id, *CARD_COLUMNS, _boards.c.id.label("board_id"),
        _projects.c.id.label("project_id"), _projects.c.name.label("project_name"),
        _cols.c.title.label("column_title"))
    if open_only:
        query = query.where(sa.not_(done))
    order = [_cards.c.due.is_(None), _cards.c.due, done, _cards.c.id]
    if by_project:
        order = [sa.func.lower(_projects.c.name), _projects.c.id, *order]
    query = query.order_by(*order).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
        ids = [r.id for r in rows]
        assigned = await _assignees_of(conn, _cards.c.id.in_(ids)) if ids else {}
    out = []
    for r in rows:
        item = card_dict(r, assigned.get(r.id, []))
        item.update(board_id=r.board_id, project={"id": r.project_id, "name": r.project_name},
                    column={"id": r.column_id, "title": r.column_title}, done=bool(r.done))
        out.append(item)
    return out


async def task_counts(user_id: int) -> dict[str, int]:
    """How many cards are assigned to `user_id` (as `tasks` finds them), and how many are done."""
    inner = _tasks_query(user_id, _cards.c.id)[0].subquery()
    query = sa.select(inner.c.done, sa.func.count().label("n")).group_by(inner.c.done)
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    counts = {bool(r.done): int(r.n) for r in rows}
    return {"all": sum(counts.values()), "done": counts.get(True, 0)}


async def visible_projects(viewer: Any) -> list[dict[str, Any]]:
    """Projects the viewer may see: public ones and those they are a member of."""
    uid = viewer.id if viewer is not None else 0
    cards_n = (sa.select(sa.func.count()).select_from(_cards)
               .where(_cards.c.board_id == _boards.c.id).correlate(_boards).scalar_subquery())
    query = (sa.select(_projects.c.id, _projects.c.name, _projects.c.description,
                       _projects.c.visibility, _projects.c.created_at,
                       _boards.c.id.label("board_id"), _members.c.role,
                       cards_n.label("cards"))
             .select_from(_projects.join(_boards, _boards.c.project_id == _projects.c.id)
                          .outerjoin(_members, sa.and_(_members.c.project_id == _projects.c.id,
                                                       _members.c.user_id == uid)))
             .where(sa.or_(_projects.c.visibility == "public", _members.c.role.is_not(None)))
             .order_by(_projects.c.name, _projects.c.id))
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    return [{"id": r.id, "name": r.name, "description": r.description or "",
             "visibility": r.visibility, "board_id": r.board_id, "role": r.role,
             "cards": r.cards, "created_at": iso(r.created_at)} for r in rows]
