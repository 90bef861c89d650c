"""Project rules: creating, changing and deleting projects; members and their roles.

Cards and columns have their own modules (`cards`, `columns`); this one is the front every
entry point (socket, API, pages) calls for projects, and it re-exports the card and column
actions so that a handler needs one import.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from collab.accounts.auth import actor_of
from collab.accounts.models import User
from collab.accounts.service import audit
from collab.clock import utcnow
from collab.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from collab.fields import check_storable, choice_field, text_field
from collab.realtime import Actor, Hub
from collab.web import iso, person

from . import invitations, ranks, reads
from .access import Access, board_access, project_access
from .cards import (
    comment_card,
    create_card,
    delete_card,
    move_card,
    update_card,
)
from .columns import create_column, delete_column, move_column, rename_column
from .models import (
    ROLES,
    VISIBILITIES,
    Assignee,
    Board,
    Card,
    Column,
    Comment,
    DoneLog,
    Member,
    Project,
)
from .writes import board_transaction

__all__ = ["Access", "board_access", "comment_card", "create_card", "create_column",
           "create_project", "delete_card", "delete_column", "delete_project", "move_card",
           "move_column", "project_access", "remove_member", "rename_column", "set_member",
           "update_card", "update_project"]

MAX_NAME = 120
MAX_DESCRIPTION = 5000
DEFAULT_COLUMNS = ("To do", "In progress", "Done")

_members = Member.ormar_config.table
_cards = Card.ormar_config.table
_assignees = Assignee.ormar_config.table
_users = User.ormar_config.table


def project_dict(project: Project | Any, board_id: int, role: str | None) -> dict[str, Any]:
    return {"id": project.id, "board_id": board_id, "name": project.name,
            "description": project.description or "", "visibility": project.visibility,
            "created_at": iso(project.created_at), "role": role}


async def create_project(hub: Hub, actor: Actor | User, data: dict[str, Any]) -> dict[str, Any]:
    """Any member may create a project; they become its owner. It starts with three columns."""
    name = text_field(data, "name", MAX_NAME)
    description = text_field(data, "description", MAX_DESCRIPTION, required=False)
    visibility = choice_field(data, "visibility", VISIBILITIES, default="private")
    async with hub.transaction():
        now = utcnow()
        project = await Project.objects.create(name=name, description=description,
                                               visibility=visibility, created_by=actor.id,
                                               created_at=now)
        board = await Board.objects.create(project_id=project.id, created_at=now)
        await Member.objects.create(project_id=project.id, user_id=actor.id, role="owner",
                                    added_at=now)
        for title, rank in zip(DEFAULT_COLUMNS, ranks.spread(len(DEFAULT_COLUMNS)),
                               strict=True):
            await Column.objects.create(board_id=board.id, title=title, rank=rank,
                                        created_at=now)
    return project_dict(project, board.id, "owner")


async def update_project(hub: Hub, actor: Actor | User, project_id: int,
                         data: dict[str, Any]) -> dict[str, Any]:
    """Owners rename a project, change its description, or its visibility.

    Made private, its board is checked again on every socket that follows it, in every process
    (`hub.channel_access_changed`): anyone who is not a member, anonymous readers included,
    leaves it at once and sees nothing more.
    """
    access = await project_access(project_id, actor)
    access.require_owner(actor)
    project = await Project.objects.get(id=project_id)
    if "name" in data:
        project.name = text_field(data, "name", MAX_NAME)
    if "description" in data:
        project.description = text_field(data, "description", MAX_DESCRIPTION, required=False)
    closing = False
    if "visibility" in data:
        visibility = choice_field(data, "visibility", VISIBILITIES)
        closing = project.visibility == "public" and visibility == "private"
        project.visibility = visibility
    async with board_transaction(hub, access.board_id) as tx:
        await project.update(_columns=["name", "description", "visibility"])
        await tx.emit(f"board:{access.board_id}", "project.updated",
                      {"id": project.id, "name": project.name,
                       "visibility": project.visibility}, _actor(actor))
    if closing:
        await hub.channel_access_changed(f"board:{access.board_id}")
    return project_dict(project, access.board_id, access.role)


async def delete_project(hub: Hub, actor: Actor | User, project_id: int) -> None:
    """Owners delete a project with its board, cards and comments; open boards are told."""
    access = await project_access(project_id, actor)
    access.require_owner(actor)
    board_id = access.board_id
    async with board_transaction(hub, board_id) as tx:
        member_ids = [int(r[0]) for r in (await tx.conn.execute(
            sa.select(_members.c.user_id).where(_members.c.project_id == project_id))).all()]
        card_ids = sa.select(_cards.c.id).where(_cards.c.board_id == board_id)
        conn = tx.conn
        await conn.execute(sa.delete(_assignees).where(_assignees.c.card_id.in_(card_ids)))
        for model in (Comment, Card, Column, DoneLog):
            table = model.ormar_config.table
            await conn.execute(sa.delete(table).where(table.c.board_id == board_id))
        await conn.execute(sa.delete(_members).where(_members.c.project_id == project_id))
        await invitations.forget_project(conn, project_id)
        await conn.execute(sa.delete(Board.ormar_config.table)
                           .where(Board.ormar_config.table.c.id == board_id))
        await conn.execute(sa.delete(Project.ormar_config.table)
                           .where(Project.ormar_config.table.c.id == project_id))
        # The board's history held its cards' text: it goes with them.
        await tx.erase(f"board:{board_id}")
        await tx.emit(f"board:{board_id}", "board.deleted",
                      {"id": board_id, "project_id": project_id}, _actor(actor))
    await audit(actor, "project.delete", f"project:{project_id}", access.name)
    # Every socket on the board, members' and readers' of a public one, leaves it.
    await hub.channel_access_changed(f"board:{board_id}")
    for user_id in member_ids:
        await hub.access_changed(user_id)


def _actor(person: Actor | User) -> Actor:
    return person if isinstance(person, Actor) else actor_of(person)


async def _user_named(username: Any) -> User:
    """A user by name, compared exactly but ignoring case (never as a pattern)."""
    if not isinstance(username, str) or not 0 < len(username) <= 40:
        raise Invalid("username must be a member's username", extra={"field": "username"})
    check_storable(username, "username")  # U+0000 reached PostgreSQL and came back a 500
    async with reads.connection() as conn:
        row = (await conn.execute(sa.select(_users.c.id).where(
            sa.func.lower(_users.c.username) == username.lower()))).first()
    if row is None:
        raise NotFound(f"no member named {username[:40]!r}", extra={"field": "username"})
    return await User.objects.get(id=row[0])


async def _owners(conn: Any, project_id: int) -> set[int]:
    rows = (await conn.execute(sa.select(_members.c.user_id).where(
        _members.c.project_id == project_id, _members.c.role == "owner"))).all()
    return {int(r[0]) for r in rows}


async def set_member(hub: Hub, actor: Actor | User, project_id: int, data: dict[str, Any]
                     ) -> tuple[dict[str, Any], str]:
    """Owners add a member with a role, or change a member's role; (member, state), the state
    "added", "changed", "unchanged", or "invited" for someone who left the project themself
    (they become a member only by accepting: `invitations`)."""
    access = await project_access(project_id, actor)
    access.require_owner(actor)
    role = choice_field(data, "role", ROLES, default="member")
    user = await _user_named(data.get("username"))
    shown = {**person(user), "role": role}
    async with board_transaction(hub, access.board_id) as tx:
        existing = (await tx.conn.execute(sa.select(_members.c.id, _members.c.role).where(
            _members.c.project_id == project_id, _members.c.user_id == user.id))).first()
        if existing is None and await invitations.invite_back(tx, access, user, role,
                                                              _actor(actor)):
            invited = True
        elif existing is None:
            invited = False
            await tx.conn.execute(sa.insert(_members).values(
                project_id=project_id, user_id=user.id, role=role, added_at=utcnow()))
        elif existing.role != role:
            if existing.role == "owner" and await _owners(tx.conn, project_id) == {user.id}:
                raise Conflict("a project needs an owner: make someone else owner first")
            await tx.conn.execute(sa.update(_members).where(_members.c.id == existing.id)
                                  .values(role=role))
            if role == "viewer":
                await _unassign(tx, access, user.id, _actor(actor))
    if existing is None and invited:
        await audit(actor, "project.member", f"project:{project_id}",
                    f"{user.username}: invited back as {role}")
        return {"state": "invited", **shown}, "invited"
    before = existing.role if existing is not None else "none"
    if before != role:
        await audit(actor, "project.member", f"project:{project_id}",
                    f"{user.username}: {before} -> {role}")
        await hub.access_changed(user.id)
    state = "added" if existing is None else "changed" if before != role else "unchanged"
    return {"state": "member", **shown}, state


async def remove_member(hub: Hub, actor: Actor | User, project_id: int, user_id: int) -> None:
    """Owners remove anyone; a member may leave (then only an invitation they accept brings
    them back: `invitations`). The last owner stays. Their sockets on the board are checked
    again at once (a private board is then gone for them)."""
    if actor is None:
        raise Unauthenticated("sign in first")
    access = await project_access(project_id, actor)
    if not access.is_owner and actor.id != user_id:
        raise Forbidden("only the project's owners may remove members")
    async with board_transaction(hub, access.board_id) as tx:
        row = (await tx.conn.execute(sa.select(_members.c.id, _members.c.role).where(
            _members.c.project_id == project_id, _members.c.user_id == user_id))).first()
        if row is None:
            raise NotFound(f"member {user_id} is not in this project")
        if row.role == "owner" and await _owners(tx.conn, project_id) == {user_id}:
            raise Conflict("a project needs an owner: make someone else owner first")
        await tx.conn.execute(sa.delete(_members).where(_members.c.id == row.id))
        if actor.id == user_id:
            await invitations.note_departure(tx.conn, project_id, user_id)
        await _unassign(tx, access, user_id, _actor(actor))
    await audit(actor, "project.member", f"project:{project_id}", f"user:{user_id}: removed")
    await hub.access_changed(user_id)


async def _unassign(tx: Any, access: Access, user_id: int, actor: Actor) -> None:
    """Cards assigned to someone who may no longer be assigned lose that assignee; each such
    card gets a new version and a `card.updated` event, as any change does."""
    board_id = access.board_id
    card_ids = [int(r[0]) for r in (await tx.conn.execute(
        sa.select(_assignees.c.card_id)
        .select_from(_assignees.join(_cards, _cards.c.id == _assignees.c.card_id))
        .where(_assignees.c.user_id == user_id, _cards.c.board_id == board_id))).all()]
    if not card_ids:
        return
    await tx.conn.execute(sa.delete(_assignees).where(_assignees.c.user_id == user_id,
                                                      _assignees.c.card_id.in_(card_ids)))
    await tx.conn.execute(sa.update(_cards).where(_cards.c.id.in_(card_ids)).values(
        version=_cards.c.version + 1, updated_at=utcnow()))
    for card_id in card_ids:
        card = await reads.card(board_id, card_id, conn=tx.conn)
        if card is not None:
            await tx.emit(f"board:{board_id}", "card.updated", card, actor,
                          subject=f"card:{card_id}")
