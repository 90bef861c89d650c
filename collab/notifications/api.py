"""`GET /api/notifications` and `POST /api/notifications/read` (PROTOCOL.md, Notifications)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from collab.accounts.auth import require_user
from collab.errors import Invalid
from collab.web import hub_of, id_param, parse_id, read_json

from . import reading


async def listing(request: Request) -> JSONResponse:
    """Newest first, fifty a page (`before`: an id), `unread=1` for the unread ones only."""
    before = id_param(request, "before")  # a bad cursor is refused before who asks matters
    user = await require_user(request)
    unread = request.query_params.get("unread", "") in ("1", "true")
    return JSONResponse({"unread": await reading.unread_count(user.id),
                         "results": await reading.listing(user.id, before, unread)})


async def mark_read(request: Request) -> JSONResponse:
    """`{"ids":[…]}` (the caller's own; others' are left alone) or `{"all":true}`."""
    user = await require_user(request)
    data = await read_json(request)
    if data.get("all") is True:
        ids = None
    else:
        raw = data.get("ids")
        if not isinstance(raw, list) or not raw or len(raw) > reading.MAX_IDS:
            raise Invalid(f'give "ids" (1 to {reading.MAX_IDS} notification ids) or '
                          '"all": true', extra={"field": "ids"})
        ids = [parse_id(v) for v in raw]
        if None in ids:
            raise Invalid("every id must be a notification id", extra={"field": "ids"})
    unread = await reading.mark_read(hub_of(request), user, ids)  # type: ignore[arg-type]
    return JSONResponse({"unread": unread})


routes = [
    Route("/api/notifications", listing, methods=["GET"]),
    Route("/api/notifications/read", mark_read, methods=["POST"]),
]
