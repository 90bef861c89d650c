"""The webinars' browser pages: schedule, webinar page, live room, host console, forms.

Every action of the live room works without JavaScript: its forms post to
`/webinars/{id}/act` with the same fields a `ws-send` puts on the socket, and that route hands
them to the channel kind's handler, so one set of rules serves both.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from collab.accounts.auth import actor_of, current_user, require_user
from collab.accounts.models import User
from collab.errors import CollabError, Forbidden
from collab.web import check_csrf, form_text, hub_of, page_param, render, sign_in_redirect
from collab.web.forms import again_on, form_action, form_fields, send_form
from collab.zones import choices, in_zone

from . import room, service
from .channels import ATTENDEES_SHOWN
from .live import MAX_OPTIONS
from .models import Webinar

PER_PAGE = 20
CHAT_ON_PAGE = 100
FORM_FIELDS = ("title", "description", "starts_at", "ends_at", "timezone", "speakers",
               "visibility", "capacity", "link", "premoderation")



# -- schedule -----------------------------------------------------------------------------------
async def schedule(request: Request) -> Response:
    """Upcoming webinars (soonest first) or, with `?when=past`, past ones; paged."""
    user = await current_user(request)
    when = "past" if request.query_params.get("when") == "past" else "upcoming"
    page = page_param(request)
    found, total = await service.list_webinars(user, when, (page - 1) * PER_PAGE, PER_PAGE)
    mine = await service.registered_ids(user, [w.id for w in found])
    return render(request, "webinars/list.html", {
        "webinars": [service.webinar_dict(w, user, w.id in mine) for w in found],
        "when": when, "page": page, "has_next": page * PER_PAGE < total, "total": total,
        "can_create": user is not None and user.has_role(*service.CREATOR_ROLES),
    })


def _form_data(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {k: form_text(form, k) for k in FORM_FIELDS}
    data["speakers"] = [s.strip() for s in data["speakers"].splitlines() if s.strip()]
    data["premoderation"] = form_text(form, "premoderation") in ("on", "true")
    return data


def _form_of(webinar: Webinar | None) -> dict[str, Any]:
    if webinar is None:
        return {"title": "", "description": "", "starts_at": "", "ends_at": "",
                "timezone": "UTC", "speakers": "", "visibility": "public", "capacity": "",
                "link": "", "premoderation": False}
    start = in_zone(webinar.starts_at, webinar.timezone)
    end = in_zone(webinar.ends_at, webinar.timezone)
    return {"title": webinar.title, "description": webinar.description,
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"), "ends_at": end.strftime("%Y-%m-%dT%H:%M"),
            "timezone": webinar.timezone, "speakers": "\n".join(service.speakers_of(webinar)),
            "visibility": webinar.visibility,
            "capacity": "" if webinar.capacity is None else str(webinar.capacity),
            "link": webinar.link, "premoderation": webinar.premoderation}


def _form_again(request: Request, context: dict[str, Any], form: FormData, data: dict[str, Any]
                ) -> Callable[[CollabError], Awaitable[Response]]:
    """The webinar form again, as typed, with the refused field marked."""
    async def page(status: int) -> Response:
        return render(request, "webinars/form.html", context, status_code=status)

    return again_on(page, context, form={**data, "speakers": form_text(form, "speakers")})


async def new_webinar(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    service.check_may_create(user)
    context: dict[str, Any] = {"form": _form_of(None), "editing": None, "zones": choices()}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        data = _form_data(form)

        async def action() -> str:
            webinar = await service.create_webinar(user, data)
            return f"/webinars/{webinar.id}"

        return await form_action(action, _form_again(request, context, form, data))
    return render(request, "webinars/form.html", context)


async def edit_webinar(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    webinar = await service.get_webinar(request.path_params["id"], user)
    if not (user.id == webinar.host.id or user.has_role("moderator", "admin")):
        raise Forbidden("Only the host or a moderator may edit this webinar.")
    context: dict[str, Any] = {"form": _form_of(webinar), "editing": webinar,
                               "zones": choices()}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        data = _form_data(form)

        async def action() -> str:
            await service.update_webinar(hub_of(request), user, webinar.id, data)
            return f"/webinars/{webinar.id}"

        return await form_action(action, _form_again(request, context, form, data))
    return render(request, "webinars/form.html", context)


# -- the webinar page ----------------------------------------------------------------------------
async def _details(request: Request, user: User | None, webinar_id: int) -> dict[str, Any]:
    webinar = await service.get_webinar(webinar_id, user)
    registered = await service.is_registered(webinar.id, user)
    seat = service.seat_for(webinar.id, webinar.host.id, user, False)
    return {"webinar": service.webinar_dict(webinar, user, registered),
            "starts_local": in_zone(webinar.starts_at, webinar.timezone),
            "ends_local": in_zone(webinar.ends_at, webinar.timezone),
            "can_edit": seat.moderates, "seat": seat,
            "notice": {"registered": "You are registered.",
                       "cancelled": "Your registration was cancelled."}.get(
                           request.query_params.get("done", ""), "")}


async def webinar_page(request: Request) -> Response:
    user = await current_user(request)
    return render(request, "webinars/webinar.html",
                  await _details(request, user, request.path_params["id"]))


async def register(request: Request) -> Response:
    await check_csrf(request)
    user = await require_user(request)
    webinar_id = request.path_params["id"]

    async def action() -> str:
        await service.register(user, webinar_id)
        return f"/webinars/{webinar_id}?done=registered"

    async def again(exc: CollabError) -> Response:
        context = await _details(request, user, webinar_id)  # no such webinar: its 404
        context["error"] = exc.message
        return render(request, "webinars/webinar.html", context, status_code=exc.status)

    return await form_action(action, again)


async def cancel(request: Request) -> Response:
    await check_csrf(request)
    user = await require_user(request)
    webinar_id = request.path_params["id"]
    await service.cancel_registration(user, webinar_id)
    return RedirectResponse(f"/webinars/{webinar_id}?done=cancelled", status_code=303)


# -- the live room and the console -----------------------------------------------------------------
async def _room_context(request: Request, user: User | None, webinar_id: int,
                        console: bool) -> dict[str, Any]:
    webinar = await service.get_webinar(webinar_id, user)
    hub = hub_of(request)
    channel = f"webinar:{webinar.id}"
    seat = await service.room_seat(webinar.id, user)
    if console and not seat.moderates:
        raise Forbidden("Only the host and moderators may open the console.")
    # Head first, then the rows: what is written in between is both on the page and replayed
    # over the socket, and the page drops the copy by id (the other order would lose it).
    head = await hub.head(channel)
    backstage = await hub.head(f"backstage:{webinar.id}") if console else None
    questions = await room.questions(webinar.id, seat)
    members = await hub.members(channel)
    context = {
        "webinar": service.webinar_dict(webinar, user,
                                        await service.is_registered(webinar.id, user)),
        "seat": seat, "console": console, "ended": service.has_ended(webinar),
        "seq": head.seq, "epoch": head.epoch,
        "backstage_seq": backstage.seq if backstage else 0,
        "backstage_epoch": backstage.epoch if backstage else "",
        "questions": [x for x in questions if x["state"] != "pending"],
        "pending": [x for x in questions if x["state"] == "pending"],
        "messages": await room.messages(webinar.id, limit=CHAT_ON_PAGE),
        "polls": await room.polls(webinar.id),
        "my_votes": await room.my_votes(webinar.id, user),
        "my_poll_votes": await room.my_poll_votes(webinar.id, user),
        "members": members, "shown": ATTENDEES_SHOWN,
        "muted_ids": await room.muted_ids(webinar.id) if console else set(),
        "option_slots": MAX_OPTIONS, "back": "console" if console else "live",
    }
    return context


async def live_page(request: Request) -> Response:
    user = await current_user(request)
    return render(request, "webinars/live.html",
                  await _room_context(request, user, request.path_params["id"], False))


async def console_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    return render(request, "webinars/live.html",
                  await _room_context(request, user, request.path_params["id"], True))


async def present_page(request: Request) -> Response:
    """`/webinars/{id}/present`: the presenter's screen of top questions and open polls."""
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    context = await _room_context(request, user, request.path_params["id"], True)
    # Shown as to an attendee who has not voted: the screen carries no one's own state.
    context.update(seat=service.Seat(context["webinar"]["id"], None), my_votes=set(),
                   my_poll_votes={}, polls=[p for p in context["polls"] if not p["closed"]])
    return render(request, "webinars/present.html", context)


def _action_data(form: FormData, type: str) -> dict[str, Any]:
    data = form_fields(form, lists=("options",))
    if type == "poll.create":
        data["options"] = [o for o in data.get("options", []) if o.strip()]
    if type == "question.premoderation":
        data["enabled"] = form_text(form, "enabled") in ("true", "on")
    return data


async def act(request: Request) -> Response:
    """A live-room form without JavaScript: the same action a `ws-send` makes, then back."""
    await check_csrf(request)
    user = await require_user(request)
    webinar_id = request.path_params["id"]
    form = await request.form()
    type = form_text(form, "type")[:64]
    console = form_text(form, "back") == "console"

    async def action() -> str:
        await send_form(request, actor_of(user), f"webinar:{webinar_id}", type,
                        _action_data(form, type))
        anchor = {"chat.send": "#chat", "question.ask": "#questions"}.get(type, "")
        return f"/webinars/{webinar_id}/{'console' if console else 'live'}{anchor}"

    async def again(exc: CollabError) -> Response:
        # Shown on the room page, by the forms (the page itself may 404: no such webinar).
        context = await _room_context(request, user, webinar_id, console)
        context["error"] = exc.message
        return render(request, "webinars/live.html", context, status_code=exc.status)

    return await form_action(action, again)


routes = [
    Route("/webinars", schedule, methods=["GET"]),
    Route("/webinars/new", new_webinar, methods=["GET", "POST"]),
    Route("/webinars/{id:id}", webinar_page, methods=["GET"]),
    Route("/webinars/{id:id}/edit", edit_webinar, methods=["GET", "POST"]),
    Route("/webinars/{id:id}/register", register, methods=["POST"]),
    Route("/webinars/{id:id}/cancel", cancel, methods=["POST"]),
    Route("/webinars/{id:id}/live", live_page, methods=["GET"]),
    Route("/webinars/{id:id}/console", console_page, methods=["GET"]),
    Route("/webinars/{id:id}/present", present_page, methods=["GET"]),
    Route("/webinars/{id:id}/act", act, methods=["POST"]),
]
