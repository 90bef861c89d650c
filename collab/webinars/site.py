"""What webinars tell the site: the front-door block, the search source, audit rows in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from collab import db
from collab.accounts.models import User
from collab.clock import utcnow
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
from collab.web import iso, shown_name, when

from .models import Webinar

HOME_WEBINARS = 5
CANDIDATES = 50
_w = Webinar.ormar_config.table


def _visible(query: Any, viewer: Any) -> Any:
    return query.where(_w.c.visibility == "public") if viewer is None else query


async def whats_new(viewer: Any) -> list[HomeBlock]:
    """Webinars on now, then the next to start, that the viewer may follow."""
    now = utcnow()
    query = _visible(sa.select(_w.c.id, _w.c.title, _w.c.starts_at, _w.c.ends_at,
                               _w.c.visibility).where(_w.c.ends_at > now)
                     .order_by(_w.c.starts_at, _w.c.id).limit(HOME_WEBINARS), viewer)
    async with db.database.connection() as conn:
        rows = (await conn.execute(query)).all()
    items = [HomeItem(title=r.title, url=f"/webinars/{r.id}",
                      summary=("On now, until " + when(r.ends_at)) if r.starts_at <= now
                      else "Starts " + when(r.starts_at),
                      tag="live" if r.starts_at <= now else
                      ("members only" if r.visibility == "members" else ""))
             for r in rows]
    return [HomeBlock("Upcoming webinars", items, more_label="All webinars",
                      more_url="/webinars", order=30, empty="No webinars are scheduled.")]


async def search_webinars(query: str, viewer: Any, limit: int) -> list[SearchHit]:
    """Webinars whose title or description has every word, the viewer's to follow."""
    asked = query_words(query)
    if not asked.words or limit < 1:
        return []
    text = sa.func.coalesce(_w.c.description, "")

    def has(word: str) -> Any:
        return sa.or_(_w.c.title.ilike(like_pattern(word), escape="\\"),
                      text.ilike(like_pattern(word), escape="\\"))

    select = _visible(sa.select(_w.c.id, _w.c.title, _w.c.description, _w.c.description_text,
                                _w.c.starts_at)
                      .where(*(has(w) for w in asked.words),
                             *(sa.not_(has(w)) for w in asked.excluded))
                      .order_by(_w.c.starts_at.desc()).limit(CANDIDATES), viewer)
    async with db.database.connection() as conn:
        rows = (await conn.execute(select)).all()
    ranked = sorted(rows, key=lambda r: -score(r.title, r.description or "", asked.words))
    return [SearchHit(source="webinars", kind="webinar", id=r.id, title=r.title,
                      url=f"/webinars/{r.id}", summary=when(r.starts_at),
                      snippet_html=snippet(" ".join(r.description_text.split()),
                                           asked.words),
                      date=iso(r.starts_at)) for r in ranked[:limit]]


SOURCE = SearchSource(name="webinars", label="Webinars", search=search_webinars, order=30)


async def describe_actions(rows: Sequence[AuditRow]) -> Mapping[int, ActionText]:
    ours = [r for r in rows if r.action in ("question.dismiss", "chat.delete", "member.mute")]
    webinar_ids = {i for r in ours if (i := target_id(r.details, "webinar")) is not None}
    webinars = {w.id: w for w in await Webinar.objects.filter(id__in=list(webinar_ids)).all()
                } if webinar_ids else {}
    user_ids = {i for r in ours if (i := target_id(r.target, "user")) is not None}
    users = {u.id: u for u in await User.objects.filter(id__in=list(user_ids)).all()
             } if user_ids else {}
    out: dict[int, ActionText] = {}
    for row in ours:
        webinar = webinars.get(target_id(row.details, "webinar"))
        if webinar is None:
            continue
        where, url = f"“{webinar.title}”", f"/webinars/{webinar.id}"
        if row.action == "question.dismiss":
            out[row.id] = ActionText(f"dismissed a question in {where}", url)
        elif row.action == "chat.delete":
            out[row.id] = ActionText(f"deleted a chat message in {where}", url)
        elif user := users.get(target_id(row.target, "user")):
            out[row.id] = ActionText(f"muted {shown_name(user)} in {where}", url)
    return out


async def contributions(user_id: int, viewer: Any) -> list[Contribution]:
    """The webinars the member hosts or hosted that the viewer may see."""
    query = Webinar.objects.filter(host=user_id)
    if viewer is None:
        query = query.filter(visibility="public")
    return [Contribution("webinars hosted", await query.count())]
