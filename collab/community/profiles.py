"""Members' profiles: what they fill in, how it is checked, how the directory finds them.

The areas of interest are the library's topics, read from `library_topics` by name (domains
never import each other): a slug that is not a topic there is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from collab import db
from collab.accounts.models import User
from collab.clock import utcnow
from collab.errors import Invalid
from collab.fields import check_storable, string_list, text_field
from collab.searching import like_pattern
from collab.web import iso

LEVELS = ("municipal", "regional", "national", "international")
LEVEL_LABELS = {"municipal": "Municipal", "regional": "Regional", "national": "National",
                "international": "International"}
LIMITS = {"organisation": 120, "title": 120, "jurisdiction": 120, "bio": 2000}
MAX_TOPICS = 20
MAX_QUERY = 200
PER_PAGE = 20

profiles = sa.table(
    "member_profiles", sa.column("user_id"), sa.column("organisation"), sa.column("title"),
    sa.column("level"), sa.column("jurisdiction"), sa.column("bio"), sa.column("updated_at"))
member_topics = sa.table("member_topics", sa.column("user_id"), sa.column("topic"))
users = User.ormar_config.table
topics_table = sa.table("library_topics", sa.column("slug"), sa.column("name"),
                        sa.column("position"))


async def topics() -> list[tuple[str, str]]:
    """The library's topics as (slug, name), in its own order."""
    async with db.database.connection() as conn:
        rows = (await conn.execute(sa.select(topics_table.c.slug, topics_table.c.name)
                                   .order_by(topics_table.c.position, topics_table.c.name))).all()
    return [(r.slug, r.name) for r in rows]


def check_level(value: Any, name: str = "level") -> str:
    if value in (None, ""):
        return ""
    if value not in LEVELS:
        raise Invalid(f"{name} must be one of {', '.join(LEVELS)} (or empty)",
                      extra={"field": name})
    return str(value)


async def validate(data: dict[str, Any]) -> dict[str, Any]:
    """The fields given in `data` (a JSON object or a form), checked; those left out stay."""
    out: dict[str, Any] = {}
    for name, limit in LIMITS.items():
        if name in data and data[name] is not None:
            out[name] = text_field(data, name, limit, required=False)
    if "level" in data:
        out["level"] = check_level(data["level"])
    if "topics" in data and data["topics"] is not None:
        chosen = string_list(data, "topics", max_items=MAX_TOPICS, max_length=40)
        known = {slug for slug, _ in await topics()}
        unknown = [slug for slug in chosen if slug not in known]
        if unknown:
            raise Invalid(f"topics: {unknown[0]!r} is not one of the library's topics "
                          "(GET /api/library/topics)", extra={"field": "topics"})
        out["topics"] = chosen
    return out


async def save(user_id: int, fields: dict[str, Any]) -> None:
    """Write the checked fields of a member's profile (made on first save)."""
    columns = {k: v for k, v in fields.items() if k != "topics"}
    async with db.write_transaction():
        conn = db.database.get_transaction_connection()
        exists = (await conn.execute(sa.select(profiles.c.user_id)
                                     .where(profiles.c.user_id == user_id))).first()
        if exists is None:
            row = {"organisation": "", "title": "", "level": "", "jurisdiction": "", "bio": "",
                   **columns, "user_id": user_id, "updated_at": utcnow()}
            await conn.execute(profiles.insert().values(**row))
        else:
            await conn.execute(profiles.update().where(profiles.c.user_id == user_id)
                               .values(**columns, updated_at=utcnow()))
        if "topics" in fields:
            await conn.execute(member_topics.delete().where(member_topics.c.user_id == user_id))
            if fields["topics"]:
                await conn.execute(member_topics.insert(), [
                    {"user_id": user_id, "topic": slug} for slug in fields["topics"]])


@dataclass(frozen=True)
class Search:
    """What the directory was asked: all optional; `page` from 1."""

    q: str = ""
    organisation: str = ""
    level: str = ""
    topic: str = ""
    page: int = 1

    @property
    def filters(self) -> dict[str, str]:
        return {k: v for k, v in (("organisation", self.organisation), ("level", self.level),
                                  ("topic", self.topic)) if v}


def search_of(params: Any) -> Search:
    """A directory search from query parameters; `invalid` names the bad one."""
    values: dict[str, str] = {}
    for name in ("q", "organisation", "topic"):
        value = params.get(name) or ""
        if len(value) > MAX_QUERY:
            raise Invalid(f"{name} must be at most {MAX_QUERY} characters", extra={"field": name})
        values[name] = check_storable(value.strip(), name)
    return Search(q=values["q"], organisation=values["organisation"],
                  level=check_level(params.get("level") or ""), topic=values["topic"])


def _where(search: Search) -> list[Any]:
    clauses: list[Any] = [users.c.suspended_at.is_(None)]
    for word in search.q.lower().split()[:10]:
        pattern = like_pattern(word)
        clauses.append(sa.or_(*(sa.func.lower(col).like(pattern, escape="\\") for col in (
            users.c.username, users.c.display_name, profiles.c.organisation, profiles.c.title,
            profiles.c.jurisdiction))))
    if search.organisation:
        clauses.append(sa.func.lower(profiles.c.organisation)
                       .like(like_pattern(search.organisation.lower()), escape="\\"))
    if search.level:
        clauses.append(profiles.c.level == search.level)
    if search.topic:
        clauses.append(sa.exists().where(member_topics.c.user_id == users.c.id,
                                         member_topics.c.topic == search.topic))
    return clauses


_JOINED = users.outerjoin(profiles, profiles.c.user_id == users.c.id)
_FIELDS = (users.c.id, users.c.username, users.c.display_name, users.c.created_at,
           profiles.c.organisation, profiles.c.title, profiles.c.level, profiles.c.jurisdiction,
           profiles.c.bio)


async def _topics_of(conn: Any, user_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {uid: [] for uid in user_ids}
    if user_ids:
        rows = (await conn.execute(sa.select(member_topics.c.user_id, member_topics.c.topic)
                                   .where(member_topics.c.user_id.in_(user_ids))
                                   .order_by(member_topics.c.topic))).all()
        for row in rows:
            out[row.user_id].append(row.topic)
    return out


def _card(row: Any, member_topics_: list[str]) -> dict[str, Any]:
    return {"username": row.username, "display_name": row.display_name or row.username,
            "organisation": row.organisation or "", "title": row.title or "",
            "level": row.level or "", "jurisdiction": row.jurisdiction or "",
            "topics": member_topics_, "badges": []}


async def directory(search: Search) -> tuple[int, list[dict[str, Any]]]:
    """How many members match, and page `search.page` of them (by name)."""
    where = _where(search)
    async with db.database.connection() as conn:
        total = int((await conn.execute(sa.select(sa.func.count()).select_from(_JOINED)
                                        .where(*where))).scalar_one())
        rows = (await conn.execute(
            sa.select(*_FIELDS).select_from(_JOINED).where(*where)
            .order_by(sa.func.lower(users.c.display_name), users.c.username_key)
            .offset((search.page - 1) * PER_PAGE).limit(PER_PAGE))).all()
        chosen = await _topics_of(conn, [r.id for r in rows])
    return total, [_card(r, chosen[r.id]) for r in rows]


async def profile(user_id: int) -> dict[str, Any] | None:
    """One member's card with `bio` and `joined_at` (None: no such member)."""
    async with db.database.connection() as conn:
        row = (await conn.execute(sa.select(*_FIELDS).select_from(_JOINED)
                                  .where(users.c.id == user_id))).first()
        if row is None:
            return None
        chosen = await _topics_of(conn, [user_id])
    return {**_card(row, chosen[user_id]), "bio": row.bio or "", "joined_at": iso(row.created_at)}
