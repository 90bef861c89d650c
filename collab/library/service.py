"""The library's rules: who may see, write, review and publish what, and every state change.

The workflow of an entry's newest revision:

    draft ──submit──▶ submitted ──claim (an expert, not the author)──▶ in_review
      ▲                  │ withdraw                                      │
      └──────────────────┘◀── changes_requested ◀──request_changes───────┤
                              (edit, submit again)                       └──approve──▶ published

Editing a published entry starts revision N+1 as a draft; it goes through the same steps
while revision N stays what everyone sees. Every step is a compare-and-set on the entry's
state (two experts claiming at once: one wins, the other gets `conflict`), and writes a
history row in the same transaction. Publishing emits `entry.published` on `library:0`, and a
review's decision notifies the author (`notify`, in the same transaction).
"""

from __future__ import annotations

import time
import unicodedata
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from collab import db
from collab.accounts.models import User
from collab.clock import utcnow
from collab.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from collab.fields import bool_field, text_field
from collab.notifications import notify
from collab.realtime import Actor, Hub
from collab.web import iso, person

from . import content as c
from .models import Entry, EntryTopic, HistoryItem, Revision, Topic

FEED_CHANNEL = "library:0"
STATES = ("draft", "submitted", "in_review", "changes_requested", "published")
STATE_LABELS = {"draft": "Draft", "submitted": "Waiting for a reviewer", "in_review": "In review",
                "changes_requested": "Changes requested", "published": "Published"}
EDITABLE = ("draft", "changes_requested", "published")
MAX_COMMENT = 5_000
MAX_ENTRY_ID = 2**31 - 1

entries = Entry.ormar_config.table
revisions = Revision.ormar_config.table
entry_topics = EntryTopic.ormar_config.table
history = HistoryItem.ormar_config.table
topics_table = Topic.ormar_config.table
users = User.ormar_config.table

Person = User | Actor


# -- roles ---------------------------------------------------------------------------------
def is_expert(person: Person | None) -> bool:
    return person is not None and person.has_role("expert")


def sees_unpublished(person: Person | None, author_id: int) -> bool:
    """Drafts and revisions in review: their author, experts (reviewers) and admins."""
    return person is not None and (person.id == author_id or person.has_role("expert", "admin"))


# -- topics --------------------------------------------------------------------------------
# slug -> name, read once a minute per process: every search and form asks for it.
_TOPICS_TTL = 60.0
_topics: tuple[float, dict[str, str]] = (0.0, {})


async def topic_map() -> dict[str, str]:
    global _topics
    if _topics[0] > time.monotonic():
        return _topics[1]
    async with db.database.connection() as conn:
        rows = (await conn.execute(sa.select(topics_table.c.slug, topics_table.c.name)
                                   .order_by(topics_table.c.position, topics_table.c.name))).all()
    _topics = (time.monotonic() + _TOPICS_TTL, {r.slug: r.name for r in rows})
    return _topics[1]


async def add_topic(actor: Person, data: dict[str, Any]) -> dict[str, str]:
    """Experts, moderators and admins extend the list of topics."""
    global _topics
    if not actor.has_role("expert", "moderator", "admin"):
        raise Forbidden("only experts, moderators and admins add topics")
    name = text_field(data, "name", 80)
    # Accents go (Énergie: energie); a name with no Latin letters or digits has no slug.
    plain = "".join(ch for ch in unicodedata.normalize("NFKD", name.lower())
                    if not unicodedata.combining(ch))
    slug = "-".join("".join(ch if ch.isalnum() else " " for ch in plain).split())[:40]
    slug = slug.strip("-")
    if not slug or not slug.isascii():
        raise Invalid("the name needs some letters or digits (a-z, 0-9)", extra={"field": "name"})
    description = text_field(data, "description", 500, required=False)
    existing = await topic_map()
    if slug in existing or name.lower() in (n.lower() for n in existing.values()):
        raise Conflict(f"there is a topic {name!r} already")
    async with db.write_transaction():
        conn = db.database.get_transaction_connection()
        await conn.execute(topics_table.insert().values(
            slug=slug, name=name, description=description, position=len(existing) + 1))
    _topics = (0.0, {})
    return {"slug": slug, "name": name, "description": description}


# -- reading -------------------------------------------------------------------------------
@dataclass
class Loaded:
    """An entry row with its author, as the rules read it."""

    row: Any
    author: dict[str, Any]

    @property
    def id(self) -> int:
        return int(self.row.id)

    @property
    def state(self) -> str:
        return str(self.row.state)

    @property
    def author_id(self) -> int:
        return int(self.row.author)


async def load_in(conn: Any, entry_id: int, viewer: Person | None) -> Loaded:
    if entry_id > MAX_ENTRY_ID:  # ids are 32-bit integers; PostgreSQL refuses larger ones
        raise NotFound(f"no library entry {entry_id}")
    query = (sa.select(entries, users.c.username, users.c.display_name)
             .select_from(entries.join(users, users.c.id == entries.c.author))
             .where(entries.c.id == entry_id))
    row = (await conn.execute(query)).first()
    if row is None or (row.published_revision is None and not sees_unpublished(viewer,
                                                                                row.author)):
        # Another member's draft does not exist, as far as they can tell.
        raise NotFound(f"no library entry {entry_id}")
    return Loaded(row, person(row, row.author))


async def load(entry_id: int, viewer: Person | None) -> Loaded:
    async with db.database.connection() as conn:
        return await load_in(conn, entry_id, viewer)


async def revision_row(conn: Any, entry_id: int, number: int) -> Any:
    query = (sa.select(revisions, users.c.username, users.c.display_name)
             .select_from(revisions.join(users, users.c.id == revisions.c.editor))
             .where(revisions.c.entry == entry_id, revisions.c.number == number))
    return (await conn.execute(query)).first()


def row_content(kind: str, rev: Any) -> dict[str, Any]:
    return c.content_of(kind, rev.title, rev.summary or "", rev.body or "", rev.topics,
                        rev.details)


# -- writing -------------------------------------------------------------------------------
async def _record(conn: Any, entry_id: int, revision: int, actor: Person | None, action: str,
                  from_state: str, to_state: str, comment: str = "") -> None:
    await conn.execute(history.insert().values(
        entry=entry_id, revision=revision, actor=actor.id if actor else None, action=action,
        from_state=from_state, to_state=to_state, comment=comment, created_at=utcnow()))


async def _decided_on(conn: Any, entry_id: int, number: int) -> bool:
    """Whether an expert approved or asked for changes on revision `number`."""
    query = sa.select(history.c.id).where(
        history.c.entry == entry_id, history.c.revision == number,
        history.c.action.in_(("approve", "request_changes"))).limit(1)
    return (await conn.execute(query)).first() is not None


async def _move(conn: Any, entry: Loaded, allowed: tuple[str, ...], values: dict[str, Any],
                extra_where: Any = None) -> None:
    """Compare-and-set the entry's state: refused with `conflict` if it moved meanwhile."""
    where = [entries.c.id == entry.id, entries.c.state.in_(allowed)]
    if extra_where is not None:
        where.append(extra_where)
    result = await conn.execute(entries.update().where(*where).values(**values))
    if result.rowcount != 1:
        raise Conflict(f"entry {entry.id} is {STATE_LABELS[entry.state].lower()} now; "
                       "reload it and try again", extra={"state": entry.state})


def _refuse_state(entry: Loaded, action: str, allowed: tuple[str, ...]) -> None:
    if entry.state not in allowed:
        names = " or ".join(STATE_LABELS[s].lower() for s in allowed)
        raise Conflict(f"cannot {action} entry {entry.id}: it is "
                       f"{STATE_LABELS[entry.state].lower()}, not {names}",
                       extra={"state": entry.state})


def _check_actor(actor: Person | None) -> Person:
    if actor is None:
        raise Unauthenticated("sign in first")
    return actor


async def create_entry(hub: Hub, actor: Person, data: dict[str, Any]) -> int:
    """A new entry as a draft (revision 1); returns its id."""
    _check_actor(actor)
    kind = c.check_kind(data.get("kind"))
    content = c.read_content(kind, data, await topic_map())
    now = utcnow()
    async with hub.transaction() as tx:
        result = await tx.conn.execute(entries.insert().values(
            kind=kind, author=actor.id, state="draft", latest_revision=1, featured=False,
            created_at=now, updated_at=now, title="", summary="", body_text="", topics_text="",
            topic_slugs="[]", jurisdiction="", level=""))
        entry_id = int(result.inserted_primary_key[0])
        await tx.conn.execute(revisions.insert().values(_revision_values(
            entry_id, 1, actor.id, kind, content, now)))
        await _record(tx.conn, entry_id, 1, actor, "create", "", "draft")
    return entry_id


def _revision_values(entry_id: int, number: int, editor: int, kind: str,
                     content: dict[str, Any], now: Any) -> dict[str, Any]:
    return {"entry": entry_id, "number": number, "editor": editor, "title": content["title"],
            "summary": content["summary"], "body": content["body"],
            "topics": orjson.dumps(content["topics"]).decode(),
            "details": c.details_json(kind, content),
            "rendered": orjson.dumps(c.rendered_fields(kind, content)).decode(),
            "created_at": now, "updated_at": now}


async def update_entry(hub: Hub, actor: Person, entry_id: int, data: dict[str, Any]) -> int:
    """The author edits the newest revision; on a published entry this starts the next one.

    Fields not given keep their value. Returns the number of the revision written.
    """
    _check_actor(actor)
    if "kind" in data and data["kind"] is not None:
        c.check_kind(data["kind"])
    async with hub.transaction() as tx:
        entry = await load_in(tx.conn, entry_id, actor)
        if entry.author_id != actor.id:
            raise Forbidden("only the author edits an entry")
        if data.get("kind") not in (None, entry.row.kind):
            raise Invalid("an entry's kind cannot change", extra={"field": "kind"})
        _refuse_state(entry, "edit", EDITABLE)
        latest = entry.row.latest_revision
        current = row_content(entry.row.kind, await revision_row(tx.conn, entry_id, latest))
        content = c.read_content(entry.row.kind, c.merged(current, data), await topic_map())
        now = utcnow()
        # A revision an expert decided on is kept as it was read: the first edit after a
        # request for changes starts the next one, so a re-review can show what changed since.
        if entry.state == "published" or (
                entry.state == "changes_requested"
                and await _decided_on(tx.conn, entry_id, latest)):
            number = latest + 1
            to_state = "draft" if entry.state == "published" else "changes_requested"
            await _move(tx.conn, entry, (entry.state,),
                        {"state": to_state, "latest_revision": number, "updated_at": now},
                        entries.c.latest_revision == latest)
            await tx.conn.execute(revisions.insert().values(_revision_values(
                entry_id, number, actor.id, entry.row.kind, content, now)))
            await _record(tx.conn, entry_id, number, actor, "revise", entry.state, to_state)
            return number
        values = _revision_values(entry_id, latest, actor.id, entry.row.kind, content, now)
        del values["created_at"], values["entry"], values["number"]
        await tx.conn.execute(revisions.update().where(revisions.c.entry == entry_id,
                                                       revisions.c.number == latest)
                              .values(**values))
        await _move(tx.conn, entry, (entry.state,), {"updated_at": now},
                    entries.c.latest_revision == latest)
        await _record(tx.conn, entry_id, latest, actor, "edit", entry.state, entry.state)
        return int(latest)


async def submit(hub: Hub, actor: Person, entry_id: int, data: dict[str, Any] | None = None
                 ) -> str:
    """The author asks for review (from a draft or after changes were requested)."""
    _check_actor(actor)
    comment = text_field(data or {}, "comment", MAX_COMMENT, required=False)
    async with hub.transaction() as tx:
        entry = await load_in(tx.conn, entry_id, actor)
        if entry.author_id != actor.id:
            raise Forbidden("only the author submits an entry for review")
        allowed = ("draft", "changes_requested")
        _refuse_state(entry, "submit", allowed)
        await _move(tx.conn, entry, allowed, {"state": "submitted", "reviewer_id": None,
                                              "updated_at": utcnow()})
        await _record(tx.conn, entry_id, entry.row.latest_revision, actor, "submit",
                      entry.state, "submitted", comment)
    return "submitted"


async def withdraw(hub: Hub, actor: Person, entry_id: int) -> str:
    """The author takes a submitted (or claimed) revision back to draft."""
    _check_actor(actor)
    async with hub.transaction() as tx:
        entry = await load_in(tx.conn, entry_id, actor)
        if entry.author_id != actor.id:
            raise Forbidden("only the author withdraws an entry from review")
        allowed = ("submitted", "in_review")
        _refuse_state(entry, "withdraw", allowed)
        await _move(tx.conn, entry, allowed, {"state": "draft", "reviewer_id": None,
                                              "updated_at": utcnow()})
        await _record(tx.conn, entry_id, entry.row.latest_revision, actor, "withdraw",
                      entry.state, "draft")
    return "draft"


async def claim(hub: Hub, actor: Person, entry_id: int) -> str:
    """An expert other than the author takes a submitted revision for review."""
    _check_actor(actor)
    async with hub.transaction() as tx:
        entry = await load_in(tx.conn, entry_id, actor)
        if not is_expert(actor):
            raise Forbidden("only experts review library entries")
        if entry.author_id == actor.id:
            raise Forbidden("authors never review their own work; another expert will")
        _refuse_state(entry, "claim", ("submitted",))
        await _move(tx.conn, entry, ("submitted",), {"state": "in_review",
                                                     "reviewer_id": actor.id,
                                                     "updated_at": utcnow()})
        await _record(tx.conn, entry_id, entry.row.latest_revision, actor, "claim",
                      "submitted", "in_review")
    return "in_review"


async def review(hub: Hub, actor: Person, entry_id: int, data: dict[str, Any]) -> str:
    """The claiming expert approves (the revision is published) or requests changes."""
    _check_actor(actor)
    decision = data.get("decision")
    if decision not in ("approve", "request_changes"):
        raise Invalid("decision must be 'approve' or 'request_changes'",
                      extra={"field": "decision"})
    comment = text_field(data, "comment", MAX_COMMENT, required=decision == "request_changes")
    async with hub.transaction() as tx:
        entry = await load_in(tx.conn, entry_id, actor)
        if not is_expert(actor):
            raise Forbidden("only experts review library entries")
        if entry.author_id == actor.id:
            raise Forbidden("authors never approve their own work")
        _refuse_state(entry, "review", ("in_review",))
        if entry.row.reviewer_id != actor.id:
            raise Forbidden("only the expert who claimed this entry reviews it")
        number = entry.row.latest_revision
        title = (await revision_row(tx.conn, entry_id, number)).title
        if decision == "request_changes":
            await _move(tx.conn, entry, ("in_review",),
                        {"state": "changes_requested", "updated_at": utcnow()},
                        entries.c.reviewer_id == actor.id)
            await _record(tx.conn, entry_id, number, actor, "request_changes", "in_review",
                          "changes_requested", comment)
            await notify(tx, entry.author_id, "review", f"Changes requested on “{title}”",
                         f"/library/{entry_id}", actor)
            return "changes_requested"
        await _record(tx.conn, entry_id, number, actor, "approve", "in_review", "approved",
                      comment)
        published = await _publish(tx.conn, entry, number, actor,
                                   entries.c.reviewer_id == actor.id)
        await _record(tx.conn, entry_id, number, actor, "publish", "approved", "published")
        await tx.emit(FEED_CHANNEL, "entry.published", published, actor,
                      subject=f"entry:{entry_id}")
        await notify(tx, entry.author_id, "review", f"“{title}” was published",
                     f"/library/{entry_id}", actor)
    return "published"


async def _publish(conn: Any, entry: Loaded, number: int, actor: Person | None,
                   extra_where: Any = None) -> dict[str, Any]:
    """Make revision `number` the published one: the entry's copy, its topics, the time."""
    rev = await revision_row(conn, entry.id, number)
    content = row_content(entry.row.kind, rev)
    now = utcnow()
    copy = c.search_copy(entry.row.kind, content, await topic_map(), now)
    await conn.execute(revisions.update().where(revisions.c.entry == entry.id,
                                                revisions.c.number == number)
                       .values(published_at=now))
    await _move(conn, entry, ("in_review",),
                {"state": "published", "reviewer_id": None, "published_revision": number,
                 "published_at": now, "updated_at": now,
                 "first_published_at": sa.func.coalesce(entries.c.first_published_at, now),
                 **copy}, extra_where)
    await conn.execute(entry_topics.delete().where(entry_topics.c.entry == entry.id))
    await conn.execute(entry_topics.insert(), [{"entry": entry.id, "topic": t}
                                               for t in content["topics"]])
    return {"id": entry.id, "kind": entry.row.kind, "title": content["title"],
            "summary": content["summary"], "topics": content["topics"], "revision": number,
            "url": f"/library/{entry.id}", "author": entry.author,
            "reviewer": person(actor) if actor else None, "published_at": iso(now)}


async def set_featured(actor: Person, entry_id: int, data: dict[str, Any]) -> bool:
    """Experts, moderators and admins feature published entries on the library's home."""
    _check_actor(actor)
    if not actor.has_role("expert", "moderator", "admin"):
        raise Forbidden("only experts, moderators and admins feature entries")
    featured = bool_field(data, "featured", True)
    async with db.write_transaction():
        conn = db.database.get_transaction_connection()
        entry = await load_in(conn, entry_id, actor)
        if entry.row.published_revision is None:
            raise Conflict("only published entries can be featured", extra={"state": entry.state})
        await conn.execute(entries.update().where(entries.c.id == entry_id)
                           .values(featured=featured))
    return featured
