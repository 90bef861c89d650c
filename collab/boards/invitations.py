"""Leaving a project is respected, and a member can mute one (issue 21, item 5).

Adding a member stays direct (as in Trello and Planka), except for someone who left the project
themself: an owner adding them again only invites them (`invitation` notification), and they
become a member when they accept. Otherwise anyone could be re-added, and notified, at once
after leaving, again and again. A muted project's notifications (mentions, an invitation back)
do not reach the member who muted it.

Everything here runs under the board's lock (`board_transaction`), as every membership change
does, so an invitation, its answer and a removal never interleave.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from collab.accounts.models import User
from collab.accounts.service import audit
from collab.clock import utcnow
from collab.errors import NotFound
from collab.fields import bool_field
from collab.notifications import notify
from collab.people import shown_name
from collab.realtime import Actor, Hub

from . import reads
from .access import Access, project_access
from .models import Board, Departure, Member, Mute, Project
from .writes import board_transaction

_departures = Departure.ormar_config.table
_mutes = Mute.ormar_config.table
_members = Member.ormar_config.table
_boards = Board.ormar_config.table
projects = Project.ormar_config.table


def not_muted(project_id: int, user_id: Any) -> sa.ColumnElement[bool]:
    """A condition on `user_id` (a column): that member has not muted the project."""
    return ~sa.exists().where(_mutes.c.project_id == project_id, _mutes.c.user_id == user_id)


async def is_muted(project_id: int, user_id: int, conn: Any = None) -> bool:
    async with reads.connection(conn) as c:
        row = (await c.execute(sa.select(_mutes.c.id).where(
            _mutes.c.project_id == project_id, _mutes.c.user_id == user_id))).first()
    return row is not None


async def note_departure(conn: Any, project_id: int, user_id: int) -> None:
    """`user_id` left the project themself (in the removal's transaction)."""
    found = (await conn.execute(sa.select(_departures.c.id).where(
        _departures.c.project_id == project_id, _departures.c.user_id == user_id))).first()
    values = {"left_at": utcnow(), "invited_role": None, "invited_by": None, "invited_at": None}
    if found is None:
        await conn.execute(sa.insert(_departures).values(project_id=project_id,
                                                         user_id=user_id, **values))
    else:
        await conn.execute(sa.update(_departures).where(_departures.c.id == found.id)
                           .values(**values))


async def invite_back(tx: Any, access: Access, user: User, role: str, actor: Actor) -> bool:
    """If `user` left the project, invite them back with `role` instead of adding them and
    answer True; False when they never left (the caller adds them directly). Only a new
    invitation notifies: adding them again while invited changes the role, and tells nothing."""
    found = (await tx.conn.execute(sa.select(_departures.c.id, _departures.c.invited_role).where(
        _departures.c.project_id == access.project_id,
        _departures.c.user_id == user.id))).first()
    if found is None:
        return False
    await tx.conn.execute(sa.update(_departures).where(_departures.c.id == found.id).values(
        invited_role=role, invited_by=actor.id, invited_at=utcnow()))
    if found.invited_role is None:
        await tell_invited(tx, user.id, actor, access, role,
                           muted=await is_muted(access.project_id, user.id, tx.conn))
    return True


async def tell_invited(tx: Any, user_id: int, actor: Actor, access: Access, role: str,
                       muted: bool) -> None:
    """The `invitation` notification, in the invitation's transaction (none to a member who
    muted the project). Its url is the project; the notifications page answers it at that
    address plus `/invitation`."""
    who = shown_name(actor)
    await notify(tx, user_id, "invitation", f"{who} invited you back to {access.name} as {role}",
                 f"/projects/{access.project_id}", actor, muted=muted)


async def pending(project_id: int, user_id: int | None) -> dict[str, Any] | None:
    """The invitation waiting for `user_id` to this project: `{"project_id", "name", "role",
    "board_id"}`, or None."""
    if user_id is None:
        return None
    async with reads.connection() as conn:
        row = (await conn.execute(
            sa.select(_departures.c.invited_role, projects.c.name, _boards.c.id.label("board"))
            .select_from(_departures.join(projects, projects.c.id == _departures.c.project_id)
                         .join(_boards, _boards.c.project_id == projects.c.id))
            .where(_departures.c.project_id == project_id, _departures.c.user_id == user_id,
                   _departures.c.invited_role.is_not(None)))).first()
    if row is None:
        return None
    return {"project_id": project_id, "name": row.name, "role": row.invited_role,
            "board_id": int(row.board)}


async def answer(hub: Hub, user: User, project_id: int, data: dict[str, Any]
                 ) -> dict[str, Any]:
    """Accept (become a member with the invited role) or decline an invitation back.
    Without one, `not_found`, whether or not the project exists or is visible."""
    accept = bool_field(data, "accept")
    missing = NotFound(f"no invitation to project {project_id}")
    invitation = await pending(project_id, user.id)
    if invitation is None:
        raise missing
    async with board_transaction(hub, invitation["board_id"]) as tx:
        found = (await tx.conn.execute(sa.select(_departures.c.id, _departures.c.invited_role)
                                       .where(_departures.c.project_id == project_id,
                                              _departures.c.user_id == user.id))).first()
        if found is None or found.invited_role is None:
            raise missing  # answered meanwhile (another tab)
        role = str(found.invited_role)
        if accept:
            await tx.conn.execute(sa.delete(_departures).where(_departures.c.id == found.id))
            await tx.conn.execute(sa.insert(_members).values(
                project_id=project_id, user_id=user.id, role=role, added_at=utcnow()))
        else:
            await tx.conn.execute(sa.update(_departures).where(_departures.c.id == found.id)
                                  .values(invited_role=None, invited_by=None, invited_at=None))
    if not accept:
        return {"state": "declined", "project_id": project_id}
    await audit(user, "project.member", f"project:{project_id}",
                f"{user.username}: accepted an invitation as {role}")
    await hub.access_changed(user.id)
    return {"state": "member", "project_id": project_id, "role": role}


async def set_muted(hub: Hub, user: User, project_id: int, data: dict[str, Any]) -> bool:
    """Mute or unmute a project for oneself: anyone who may see it, or is invited back to it."""
    muted = bool_field(data, "muted")
    try:
        board_id = (await project_access(project_id, user)).board_id
    except NotFound:
        invitation = await pending(project_id, user.id)
        if invitation is None:
            raise
        board_id = invitation["board_id"]
    async with board_transaction(hub, board_id) as tx:
        # Under the board's lock: two tabs muting at once do not collide on the unique key.
        was = await is_muted(project_id, user.id, tx.conn)
        if muted and not was:
            await tx.conn.execute(sa.insert(_mutes).values(project_id=project_id,
                                                           user_id=user.id, muted_at=utcnow()))
        elif was and not muted:
            await tx.conn.execute(sa.delete(_mutes).where(_mutes.c.project_id == project_id,
                                                          _mutes.c.user_id == user.id))
    return muted


async def forget_project(conn: Any, project_id: int) -> None:
    """A deleted project's departures and mutes (SQLite does not cascade)."""
    for table in (_departures, _mutes):
        await conn.execute(sa.delete(table).where(table.c.project_id == project_id))
