"""`/notifications`: a member's notifications, newest first, read from their rows."""

from __future__ import annotations

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collab import db
from collab.accounts.auth import current_user
from collab.web import positive_param, render, sign_in_redirect

from .models import notifications as _n

PER_PAGE = 50


async def page(request: Request) -> Response:
    """Fifty a page (`?before=ID` for older ones); new ones also arrive live in the header's
    list, through `user:ID`."""
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    before = positive_param(request, "before")
    query = (sa.select(_n.c.id, _n.c.kind, _n.c.text, _n.c.url, _n.c.created_at, _n.c.read_at)
             .where(_n.c.user_id == user.id).order_by(_n.c.id.desc()).limit(PER_PAGE))
    if before is not None:
        query = query.where(_n.c.id < before)
    async with db.database.connection() as conn:
        notes = (await conn.execute(query)).all()
    older = notes[-1].id if len(notes) == PER_PAGE else None
    return render(request, "notifications/notifications.html",
                  {"user": user, "notes": notes, "older": older, "paged": before is not None})


routes = [Route("/notifications", page, methods=["GET"])]
