"""The boards' part of the demo community (`collab seed`): two projects with their cards."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from collab.accounts.auth import actor_of
from collab.clock import utcnow
from collab.domain import SeedContext

from . import cards, service
from .access import project_access
from .models import DoneLog, Project

_log = DoneLog.ormar_config.table

# (title, column, assignees, due in days (None: none), labels, checklist, description)
Task = tuple[str, int, list[str], int | None, list[str], list[str], str]
PROJECTS: list[dict[str, Any]] = [
    {"name": "Online benefits form", "visibility": "public", "owner": "maria.lopez",
     "description": "Replacing the 12-page paper form with an online service, in the open.",
     "members": [("jo.chen", "member"), ("priya.nair", "member"), ("sam.okafor", "viewer")],
     "tasks": [
         ("Map every question of the paper form", 2, ["jo.chen"], -10, ["discovery"],
          ["Sections 1–4", "Sections 5–8", "Annexes"], "The current form, question by question."),
         ("Usability test the first prototype", 1, ["priya.nair"], 3, ["research"],
          ["Recruit 6 residents", "Write the script"], ("Five sessions, one with a screen reader "
          "user. @jo.chen can you book the room?")),
         ("Accessibility audit of the date fields", 0, ["priya.nair"], 14, ["accessibility"],
          [], "Check the three date inputs against WCAG 2.1 AA."),
         ("Publish the privacy notice", 0, ["maria.lopez"], -2, ["legal"], [],
          "Agreed with the data protection officer last week."),
         ("Helpline script for the switch-over", 0, [], None, ["operations"], [], ""),
     ]},
    {"name": "Flood warning texts", "visibility": "private", "owner": "sam.okafor",
     "description": "Plain-language warnings residents act on.",
     "members": [("jo.chen", "member")],
     "tasks": [
         ("Test Welsh and Polish versions", 1, ["jo.chen"], 7, ["translation"], [],
          "With native speakers, as asked in the forum thread."),
         ("Street-level targeting pilot", 0, ["sam.okafor"], 21, ["pilot"], [], ""),
     ]},
]


async def seed(ctx: SeedContext) -> str | None:
    if await Project.objects.exists():
        return None
    users = ctx.users
    if not users:
        return None
    today = dt.datetime.now(dt.UTC).date()
    made = 0
    for spec in PROJECTS:
        owner = users.get(spec["owner"])
        if owner is None:
            continue
        project = await service.create_project(ctx.hub, owner, {
            "name": spec["name"], "description": spec["description"],
            "visibility": spec["visibility"]})
        for username, role in spec["members"]:
            if username in users:
                await service.set_member(ctx.hub, owner, project["id"],
                                         {"username": username, "role": role})
        access = await project_access(project["id"], owner)
        columns = [c["id"] for c in await service.reads.columns_of(access.board_id)]
        for title, column, people, due, labels, checklist, description in spec["tasks"]:
            await cards.create_card(ctx.hub, actor_of(owner), access, {
                "column_id": columns[column], "title": title, "description": description,
                "assignees": [p for p in people if p in users],
                "due": (today + dt.timedelta(days=due)).isoformat() if due is not None else None,
                "labels": labels, "checklist": [{"text": t, "done": column == 2}
                                                for t in checklist]})
            made += 1
        await _spread_history(ctx, access.board_id)
    return f"{len(PROJECTS)} projects with {made} cards"


async def _spread_history(ctx: SeedContext, board_id: int, days_apart: int = 3) -> None:
    """Date the demo board's history back over the last weeks, a card every few days, so its
    burn-up shows a project under way rather than one made in a second."""
    async with ctx.hub.transaction() as tx:
        ids = (await tx.conn.execute(sa.select(_log.c.id).where(_log.c.board_id == board_id)
                                     .order_by(_log.c.id))).scalars().all()
        now = utcnow()
        for i, row_id in enumerate(ids):
            at = now - dt.timedelta(days=days_apart * (len(ids) - i))
            await tx.conn.execute(sa.update(_log).where(_log.c.id == row_id).values(at=at))
