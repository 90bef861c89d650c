"""Reading the library: an entry as the API and pages show it, and the lists (my drafts, the
review queue, the home's newest and featured, topic counts, the showcase's figures).

Who may see what is decided here with the same rules as the workflow (`service`): drafts
and revisions in review only to their author, experts and admins; published revisions to
everyone.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from collab import db
from collab.errors import Forbidden, NotFound
from collab.people import person
from collab.web import iso

from . import content as c
from .service import (
    Loaded,
    Person,
    entries,
    entry_topics,
    history,
    is_expert,
    load_in,
    revision_row,
    revisions,
    row_content,
    sees_unpublished,
    topic_map,
    users,
)


def visible_revision(entry: Loaded, viewer: Person | None, number: int,
                     published_at: Any) -> bool:
    """Revisions that were published are public; the others (the one in the works, and one an
    expert asked changes on, kept as it was read) only to the author and reviewers."""
    if sees_unpublished(viewer, entry.author_id):
        return number <= entry.row.latest_revision
    published = entry.row.published_revision
    return published is not None and number <= published and published_at is not None


async def entry_view(entry_id: int, viewer: Person | None, number: int | None = None, *,
                     newest: bool = False) -> dict[str, Any]:
    """An entry as `GET /api/library/{id}` answers: the published revision (or, to its author
    and reviewers, the newest one if never published), its revisions and, to them, its
    history.

    `newest`: the newest revision the viewer may see, as a workflow step answers: the one in
    the works for its author and reviewers, the published one for anyone else (a moderator
    featuring an entry under revision). Asking for the newest by number told such a moderator
    that a draft revision exists ("no revision 2 you may see")."""
    async with db.database.connection() as conn:
        entry = await load_in(conn, entry_id, viewer)
        row = entry.row
        privileged = sees_unpublished(viewer, entry.author_id)
        if number is None:
            number = row.latest_revision if newest and privileged \
                or row.published_revision is None else row.published_revision
        rev = await revision_row(conn, entry_id, number)
        if rev is None or not visible_revision(entry, viewer, number, rev.published_at):
            raise NotFound(f"entry {entry_id} has no revision {number}")
        rev_query = (sa.select(revisions.c.number, revisions.c.published_at,
                               revisions.c.created_at, revisions.c.editor, users.c.username,
                               users.c.display_name)
                     .select_from(revisions.join(users, users.c.id == revisions.c.editor))
                     .where(revisions.c.entry == entry_id).order_by(revisions.c.number))
        all_revs = (await conn.execute(rev_query)).all()
        hist = await _history(conn, entry_id) if privileged else []
        # Who approved the revision shown: readers see that an expert reviewed it.
        approved = (await conn.execute(
            sa.select(users.c.id, users.c.username, users.c.display_name)
            .select_from(history.join(users, users.c.id == history.c.actor))
            .where(history.c.entry == entry_id, history.c.revision == number,
                   history.c.action == "approve")
            .order_by(history.c.id.desc()).limit(1))).first()
        reviewer = None
        if row.reviewer_id is not None:
            found = (await conn.execute(sa.select(users.c.id, users.c.username,
                                                  users.c.display_name)
                                        .where(users.c.id == row.reviewer_id))).first()
            reviewer = person(found) if found else None
    content = row_content(row.kind, rev)
    topics = await topic_map()
    state, latest, updated_at = row.state, row.latest_revision, row.updated_at
    if not privileged and row.published_revision is not None \
            and row.latest_revision > row.published_revision:
        # The revision in the works exists only for its author and reviewers: to anyone else
        # the entry is its published revision, without the newer one's number, state or edits.
        state, latest, updated_at = "published", row.published_revision, row.published_at
    view: dict[str, Any] = {
        "id": row.id, "kind": row.kind, "state": state, "featured": bool(row.featured),
        "url": f"/library/{row.id}", "author": entry.author,
        "created_at": iso(row.created_at), "updated_at": iso(updated_at),
        "first_published_at": iso(row.first_published_at), "published_at": iso(row.published_at),
        "published_revision": row.published_revision, "latest_revision": latest,
        "revision": number, "revision_published_at": iso(rev.published_at),
        "reviewed_by": person(approved) if approved else None,
        "editor": person(rev, rev.editor),
        **content,
        "topic_names": [topics.get(t, t) for t in content["topics"]],
        **c.stored_fields(row.kind, content, rev.rendered),
        "revisions": [{"number": r.number, "published_at": iso(r.published_at),
                       "created_at": iso(r.created_at),
                       "editor": person(r, r.editor)}
                      for r in all_revs
                      if visible_revision(entry, viewer, r.number, r.published_at)],
    }
    if privileged:
        view["reviewer"] = reviewer
        view["history"] = hist
    return view


async def _history(conn: Any, entry_id: int) -> list[dict[str, Any]]:
    query = (sa.select(history, users.c.username, users.c.display_name)
             .select_from(history.outerjoin(users, users.c.id == history.c.actor))
             .where(history.c.entry == entry_id).order_by(history.c.id))
    return [{"revision": h.revision, "action": h.action, "from_state": h.from_state,
             "to_state": h.to_state, "comment": h.comment or "", "created_at": iso(h.created_at),
             "actor": (person(h, h.actor)
                       if h.actor is not None else None)}
            for h in (await conn.execute(query)).all()]


async def revision_content(entry: Loaded, viewer: Person | None, number: int
                           ) -> dict[str, Any]:
    async with db.database.connection() as conn:
        rev = await revision_row(conn, entry.id, number)
    if rev is None or not visible_revision(entry, viewer, number, rev.published_at):
        raise NotFound(f"entry {entry.id} has no revision {number}")
    return row_content(entry.row.kind, rev)


# -- lists ---------------------------------------------------------------------------------
def _list_item(row: Any) -> dict[str, Any]:
    return {"id": row.id, "kind": row.kind, "state": row.state,
            "title": row.rev_title, "summary": row.rev_summary,
            "latest_revision": row.latest_revision,
            "published_revision": row.published_revision, "updated_at": iso(row.updated_at),
            "author": person(row, row.author),
            "reviewer_id": row.reviewer_id}


def _working_query() -> Any:
    return (sa.select(entries.c.id, entries.c.kind, entries.c.state, entries.c.latest_revision,
                      entries.c.published_revision, entries.c.updated_at, entries.c.author,
                      entries.c.reviewer_id, revisions.c.title.label("rev_title"),
                      revisions.c.summary.label("rev_summary"), users.c.username,
                      users.c.display_name)
            .select_from(entries
                         .join(revisions, sa.and_(revisions.c.entry == entries.c.id,
                                                  revisions.c.number
                                                  == entries.c.latest_revision))
                         .join(users, users.c.id == entries.c.author)))


async def my_entries(actor: Person, limit: int = 200) -> list[dict[str, Any]]:
    """Everything `actor` wrote, newest change first (drafts and published)."""
    query = (_working_query().where(entries.c.author == actor.id)
             .order_by(entries.c.updated_at.desc()).limit(limit))
    async with db.database.connection() as conn:
        return [_list_item(r) for r in (await conn.execute(query)).all()]


async def review_queue(actor: Person, limit: int = 200) -> dict[str, list[dict[str, Any]]]:
    """For experts: revisions waiting for a reviewer (oldest first), and those in review."""
    if not is_expert(actor):
        raise Forbidden("the review queue is for experts")
    query = (_working_query().where(entries.c.state.in_(("submitted", "in_review")))
             .order_by(entries.c.updated_at).limit(limit))
    async with db.database.connection() as conn:
        rows = [_list_item(r) for r in (await conn.execute(query)).all()]
    return {
        "waiting": [r for r in rows if r["state"] == "submitted"],
        "mine": [r for r in rows if r["state"] == "in_review" and r["reviewer_id"] == actor.id],
        "others": [r for r in rows if r["state"] == "in_review" and r["reviewer_id"] != actor.id],
    }


async def published_list(kind: str | None = None, featured: bool | None = None,
                         limit: int = 10) -> list[dict[str, Any]]:
    """The newest published entries (the library's home)."""
    query = (sa.select(entries.c.id, entries.c.kind, entries.c.title, entries.c.summary,
                       entries.c.published_at, entries.c.jurisdiction, entries.c.level,
                       entries.c.year, entries.c.featured)
             .where(entries.c.published_revision.is_not(None))
             .order_by(entries.c.published_at.desc(), entries.c.id.desc()).limit(limit))
    if kind is not None:
        query = query.where(entries.c.kind == kind)
    if featured is not None:
        query = query.where(entries.c.featured == featured)
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    return [{"id": r.id, "kind": r.kind, "title": r.title, "summary": r.summary,
             "published_at": iso(r.published_at), "jurisdiction": r.jurisdiction,
             "level": r.level, "year": r.year, "featured": bool(r.featured),
             "url": f"/library/{r.id}"} for r in rows]


async def topic_counts() -> list[dict[str, Any]]:
    """Every topic with its number of published entries (the library's home)."""
    query = (sa.select(entry_topics.c.topic, sa.func.count().label("n"))
             .select_from(entry_topics.join(entries, entries.c.id == entry_topics.c.entry))
             .where(entries.c.published_revision.is_not(None))
             .group_by(entry_topics.c.topic))
    async with db.database.connection() as conn:
        counts = {r.topic: r.n for r in (await conn.execute(query)).all()}
    return [{"slug": slug, "name": name, "count": counts.get(slug, 0)}
            for slug, name in (await topic_map()).items()]


async def published_details(ids: list[int]) -> dict[int, dict[str, Any]]:
    """The published revision's content of each entry (the showcase's headline figures)."""
    if not ids:
        return {}
    query = (sa.select(entries.c.id, entries.c.kind, revisions.c.title, revisions.c.summary,
                       revisions.c.body, revisions.c.topics, revisions.c.details)
             .select_from(entries.join(revisions, sa.and_(
                 revisions.c.entry == entries.c.id,
                 revisions.c.number == entries.c.published_revision)))
             .where(entries.c.id.in_(ids)))
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    return {r.id: c.content_of(r.kind, r.title, r.summary or "", r.body or "", r.topics,
                               r.details) for r in rows}
