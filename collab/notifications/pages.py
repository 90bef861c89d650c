"""`/notifications`: a member's notifications, newest first, read from their rows."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from collab import db
from collab.accounts.auth import current_user, require_user
from collab.web import check_csrf, hub_of, positive_param, render, sign_in_redirect

from . import reading
from .models import notifications as _n
from .notify import KINDS

PER_PAGE = 50


async def page(request: Request) -> Response:
    """Fifty a page (`?before=ID` for older ones); new ones also arrive live in the header's
    list, through `user:ID`."""
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    before = positive_param(request, "before")
    kind = request.query_params.get("kind", "")
    kind = kind if kind in KINDS else None
    query = (sa.select(_n.c.id, _n.c.kind, _n.c.text, _n.c.url, _n.c.created_at, _n.c.read_at)
             .where(_n.c.user_id == user.id).order_by(_n.c.id.desc()).limit(PER_PAGE))
    if before is not None:
        query = query.where(_n.c.id < before)
    if kind is not None:
        query = query.where(_n.c.kind == kind)
    async with db.database.connection() as conn:
        notes = (await conn.execute(query)).all()
    older = notes[-1].id if len(notes) == PER_PAGE else None
    return render(request, "notifications/notifications.html",
                  {"user": user, "notes": notes, "older": older, "paged": before is not None,
                   "kind": kind, "kinds": KINDS, "unread": await reading.unread_count(user.id)})


async def read_all(request: Request) -> Response:
    """The page's "Mark all read" (a plain form): every notification read, on every page."""
    await check_csrf(request)
    user = await require_user(request)
    await reading.mark_read(hub_of(request), user, None)
    return RedirectResponse("/notifications", status_code=303)


routes = [Route("/notifications", page, methods=["GET"]),
          Route("/notifications/read", read_all, methods=["POST"])]
