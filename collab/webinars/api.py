"""JSON API of webinars: schedule, registration, and the room's record (the socket changes it)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collab.accounts.auth import current_user, require_user
from collab.errors import Invalid
from collab.web import hub_of, id_param, int_param, read_json

from . import room, service
from .models import Webinar

MAX_LIMIT = 200
MAX_OFFSET = 1_000_000


def _when(request: Request) -> str:
    when = request.query_params.get("when", "upcoming")
    if when not in ("upcoming", "past"):
        raise Invalid("when must be 'upcoming' or 'past'", extra={"field": "when"})
    return when


async def webinars(request: Request) -> JSONResponse:
    if request.method == "POST":
        user = await require_user(request)
        webinar = await service.create_webinar(user, await read_json(request))
        return JSONResponse(service.webinar_dict(webinar, user), status_code=201)
    viewer = await current_user(request)
    when = _when(request)
    offset = int_param(request, "offset", 0, maximum=MAX_OFFSET) or 0
    limit = int_param(request, "limit", 50, minimum=1, maximum=MAX_LIMIT) or 50
    found, total = await service.list_webinars(viewer, when, offset, limit)
    mine = await service.registered_ids(viewer, [w.id for w in found])
    return JSONResponse({"webinars": [service.webinar_dict(w, viewer, w.id in mine)
                                      for w in found],
                         "total": total, "when": when, "offset": offset, "limit": limit})


async def full_view(request: Request, webinar: Webinar, viewer: Any) -> dict[str, Any]:
    """The webinar with its room: questions (votes, state), polls and counts, attendees."""
    hub = hub_of(request)
    channel = f"webinar:{webinar.id}"
    head = await hub.head(channel)
    seat = await service.room_seat(webinar.id, viewer)
    body = service.webinar_dict(webinar, viewer, await service.is_registered(webinar.id, viewer))
    body["questions"] = await room.questions(webinar.id, seat)
    body["polls"] = await room.polls(webinar.id)
    body["my_votes"] = sorted(await room.my_votes(webinar.id, viewer))
    body["my_poll_votes"] = {str(k): v for k, v in
                             (await room.my_poll_votes(webinar.id, viewer)).items()}
    present = await hub.present(channel)
    # The first members by username; GET /api/channels/webinar:ID/presence pages the rest.
    body["attendees"] = {"count": present.count, "members": present.members}
    body["role"] = seat.role
    body["muted"] = seat.muted
    body["seq"], body["epoch"] = head.seq, head.epoch
    return body


async def webinar(request: Request) -> JSONResponse:
    if request.method == "PATCH":
        user = await require_user(request)
        found = await service.update_webinar(hub_of(request), user,
                                             request.path_params["id"], await read_json(request))
        return JSONResponse(await full_view(request, found, user))
    viewer = await current_user(request)
    found = await service.get_webinar(request.path_params["id"], viewer)
    return JSONResponse(await full_view(request, found, viewer))


async def registration(request: Request) -> Response:
    user = await require_user(request)
    webinar_id = request.path_params["id"]
    if request.method == "DELETE":
        await service.cancel_registration(user, webinar_id)
        return Response(status_code=204)
    found, created = await service.register(user, webinar_id)
    return JSONResponse(service.webinar_dict(found, user, True),
                        status_code=201 if created else 200)


async def messages(request: Request) -> JSONResponse:
    """The chat, oldest first: the newest page, or `before`/`after` a message id."""
    viewer = await current_user(request)
    found = await service.get_webinar(request.path_params["id"], viewer)
    limit = int_param(request, "limit", 100, minimum=1, maximum=room.MAX_PAGE) or 100
    before = id_param(request, "before")
    after = id_param(request, "after", minimum=0)
    items = await room.messages(found.id, before=before, after=after, limit=limit)
    return JSONResponse({"webinar_id": found.id, "messages": items})


routes = [
    Route("/api/webinars", webinars, methods=["GET", "POST"]),
    Route("/api/webinars/{id:id}", webinar, methods=["GET", "PATCH"]),
    Route("/api/webinars/{id:id}/register", registration, methods=["POST", "DELETE"]),
    Route("/api/webinars/{id:id}/messages", messages, methods=["GET"]),
]
