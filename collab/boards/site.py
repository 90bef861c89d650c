"""What boards tell the site: the member's boards on the front door, cards in the search, and
project changes in the audit log in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from collab import db
from collab.domain import (
    ActionText,
    AuditRow,
    Contribution,
    HomeBlock,
    HomeItem,
    SearchHit,
    SearchSource,
    target_id,
)
from collab.searching import like_pattern, query_words, score, snippet
from collab.web import iso

from . import progress, reads
from .models import Assignee, Board, Card, Column, Member, Project

HOME_PROJECTS = 6
HOME_TASKS = 6
CANDIDATES = 50
_projects, _boards = Project.ormar_config.table, Board.ormar_config.table
_members, _cards = Member.ormar_config.table, Card.ormar_config.table


def _readable(viewer: Any) -> Any:
    """Projects the viewer may read: public ones, and the viewer's own."""
    public = _projects.c.visibility == "public"
    if viewer is None:
        return public
    mine = sa.select(_members.c.project_id).where(_members.c.user_id == viewer.id)
    return sa.or_(public, _projects.c.id.in_(mine))


async def whats_new(viewer: Any) -> list[HomeBlock]:
    """The member's open tasks by due date, and their projects, the most recently changed
    first (nothing for visitors)."""
    if viewer is None:
        return []
    return [await _tasks_due(viewer), await _projects_of(viewer)]


async def _tasks_due(viewer: Any) -> HomeBlock:
    today = progress.today().isoformat()
    tasks = await reads.tasks(viewer.id, open_only=True, limit=HOME_TASKS)
    items = [HomeItem(title=t["title"], url=f"/cards/{t['id']}",
                      summary=f"{t['project']['name']} · {t['column']['title']}"
                              + (f" · due {t['due']}" if t["due"] else ""),
                      tag="overdue" if t["due"] and t["due"] < today else "")
             for t in tasks]
    return HomeBlock("Your tasks", items, more_label="All your tasks", more_url="/me/tasks",
                     order=2, empty="Nothing is assigned to you.")


async def _projects_of(viewer: Any) -> HomeBlock:
    latest = (sa.select(_cards.c.board_id, sa.func.max(_cards.c.updated_at).label("at"))
              .group_by(_cards.c.board_id).subquery())
    query = (sa.select(_projects.c.id, _projects.c.name, _boards.c.id.label("board_id"),
                       _members.c.role, latest.c.at)
             .select_from(_projects.join(_members, _members.c.project_id == _projects.c.id)
                          .join(_boards, _boards.c.project_id == _projects.c.id)
                          .outerjoin(latest, latest.c.board_id == _boards.c.id))
             .where(_members.c.user_id == viewer.id)
             .order_by(sa.func.coalesce(latest.c.at, _projects.c.created_at).desc(),
                       _projects.c.id.desc())
             .limit(HOME_PROJECTS))
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    items = [HomeItem(title=r.name, url=f"/boards/{r.board_id}", summary=f"You are {r.role}",
                      date=iso(r.at)) for r in rows]
    return HomeBlock("Your boards", items, more_label="All projects", more_url="/projects",
                     order=40, empty="You are not on a project yet.")


async def search_cards(query: str, viewer: Any, limit: int) -> list[SearchHit]:
    """Cards whose title or description has every word, on boards the viewer may read."""
    asked = query_words(query)
    if not asked.words or limit < 1:
        return []

    def has(word: str) -> Any:
        return sa.or_(_cards.c.title.ilike(like_pattern(word), escape="\\"),
                      _cards.c.description.ilike(like_pattern(word), escape="\\"))

    select = (sa.select(_cards.c.id, _cards.c.title, _cards.c.description, _cards.c.updated_at,
                        _projects.c.name.label("project"))
              .select_from(_cards.join(_boards, _boards.c.id == _cards.c.board_id)
                           .join(_projects, _projects.c.id == _boards.c.project_id))
              .where(_readable(viewer), *(has(w) for w in asked.words),
                     *(sa.not_(has(w)) for w in asked.excluded))
              .order_by(_cards.c.updated_at.desc()).limit(CANDIDATES))
    async with db.database.connection() as conn:
        rows = (await conn.execute(select)).all()
    ranked = sorted(rows, key=lambda r: -score(r.title, r.description, asked.words))
    return [SearchHit(source="boards", kind="card", id=r.id, title=r.title,
                      url=f"/cards/{r.id}", summary=f"Card in {r.project}",
                      snippet_html=snippet(" ".join(r.description.split()), asked.words),
                      date=iso(r.updated_at)) for r in ranked[:limit]]


SOURCE = SearchSource(name="boards", label="Board cards", search=search_cards, order=40)


async def describe_actions(rows: Sequence[AuditRow]) -> Mapping[int, ActionText]:
    ours = [r for r in rows if r.action in ("project.delete", "project.member")]
    ids = {i for r in ours if (i := target_id(r.target, "project")) is not None}
    names = {p.id: p.name for p in await Project.objects.filter(id__in=list(ids)).all()
             } if ids else {}
    out: dict[int, ActionText] = {}
    for row in ours:
        project_id = target_id(row.target, "project")
        if row.action == "project.delete":
            # The project is gone; its name was kept in the row's details.
            out[row.id] = ActionText(f"deleted the project “{row.details}”")
        elif project_id in names:
            who, _, change = row.details.partition(": ")
            if who.startswith("user:"):
                who = "a member"
            verb = ("removed " + who if change == "removed"
                    else f"changed {who}'s role ({change.replace('->', 'to')})")
            out[row.id] = ActionText(f"{verb} in “{names[project_id]}”", f"/projects/{project_id}")
    return out


async def contributions(user_id: int, viewer: Any) -> list[Contribution]:
    """Cards assigned to the member that are done (in their board's last column), on the
    boards the viewer may see."""
    cards, assignees = Card.ormar_config.table, Assignee.ormar_config.table
    columns = Column.ormar_config.table
    members = Member.ormar_config.table
    visible = _projects.c.visibility == "public"
    if viewer is not None:
        visible = sa.or_(visible, sa.exists().where(members.c.project_id == _projects.c.id,
                                                    members.c.user_id == viewer.id))
    assigned = (sa.select(cards.c.board_id, cards.c.column_id)
                .select_from(assignees.join(cards, cards.c.id == assignees.c.card_id)
                             .join(_boards, _boards.c.id == cards.c.board_id)
                             .join(_projects, _projects.c.id == _boards.c.project_id))
                .where(assignees.c.user_id == user_id, visible))
    async with db.database.connection() as conn:
        rows = (await conn.execute(assigned)).all()
        boards = {r.board_id for r in rows}
        cols = (await conn.execute(sa.select(columns.c.board_id, columns.c.id, columns.c.rank)
                                   .where(columns.c.board_id.in_(boards)))).all() if boards else []
    last: dict[int, tuple[str, int]] = {}
    for col in cols:  # ranks compare byte by byte, as Python compares strings
        if col.board_id not in last or col.rank > last[col.board_id][0]:
            last[col.board_id] = (col.rank, col.id)
    done = sum(1 for r in rows if r.board_id in last and last[r.board_id][1] == r.column_id)
    return [Contribution("cards done", done)]
