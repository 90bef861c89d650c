"""Who may see and change a project and its board: one query, one answer, for every entry point.

A private project is invisible to anyone who is not a member: every page, API route and channel
answers `not_found`, exactly as for a project that does not exist. A public one may be read by
anyone, anonymous included; only members change it, and only owners manage it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from collab import db
from collab.errors import Forbidden, NotFound, Unauthenticated

from .models import Board, Member, Project

_projects = Project.ormar_config.table
_boards = Board.ormar_config.table
_members = Member.ormar_config.table

WRITERS = ("owner", "member")


@dataclass(frozen=True, slots=True)
class Access:
    """A viewer's standing on one project: the grant a `board:ID` join returns.

    `role` is "owner", "member", "viewer", or None for a non-member reading a public project.
    """

    project_id: int
    board_id: int
    name: str
    visibility: str
    role: str | None

    @property
    def can_write(self) -> bool:
        return self.role in WRITERS

    @property
    def is_owner(self) -> bool:
        return self.role == "owner"

    def require_write(self, viewer: Any) -> None:
        if viewer is None:
            raise Unauthenticated("sign in to change this board")
        if not self.can_write:
            raise Forbidden("viewers and non-members cannot change this board"
                            if self.role is None or self.role == "viewer" else "not allowed")

    def require_owner(self, viewer: Any) -> None:
        if viewer is None:
            raise Unauthenticated("sign in first")
        if not self.is_owner:
            raise Forbidden("only the project's owners may do this")


def _query(viewer: Any) -> sa.Select[Any]:
    uid = viewer.id if viewer is not None else 0
    return (sa.select(_projects.c.id, _boards.c.id.label("board_id"), _projects.c.name,
                      _projects.c.visibility, _members.c.role)
            .select_from(_projects.join(_boards, _boards.c.project_id == _projects.c.id)
                         .outerjoin(_members, sa.and_(_members.c.project_id == _projects.c.id,
                                                      _members.c.user_id == uid))))


async def _one(query: sa.Select[Any], what: str) -> Access:
    async with db.database.connection() as conn:
        row = (await conn.execute(query)).first()
    if row is None or (row.visibility != "public" and row.role is None):
        raise NotFound(f"no {what}")
    return Access(int(row.id), int(row.board_id), row.name, row.visibility, row.role)


async def board_access(board_id: int, viewer: Any, asked: str | None = None) -> Access:
    """The viewer's access to board `board_id`; `not_found` when it is not visible to them.

    `asked`: what the request named when the board was found from it ("card 7"), so that a
    hidden board's card is "no card 7", like a card that does not exist, not "no board 3"."""
    return await _one(_query(viewer).where(_boards.c.id == board_id),
                      asked or f"board {board_id}")


async def project_access(project_id: int, viewer: Any) -> Access:
    return await _one(_query(viewer).where(_projects.c.id == project_id),
                      f"project {project_id}")
