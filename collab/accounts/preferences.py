"""A member's own settings: `GET/PUT /api/me/preferences` and the `/settings` page.

For now the time zone pages show times in (PROTOCOL.md: `time_zone`); notification
preferences join these when the notification centre comes.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from collab.errors import Invalid
from collab.web import check_csrf, form_text, read_json, render, sign_in_redirect
from collab.zones import choices, zone_named

from .auth import current_user, require_user
from .models import User


def preferences_of(user: User) -> dict[str, Any]:
    return {"time_zone": user.time_zone}


async def set_time_zone(user: User, value: Any) -> None:
    """`None` or "" forgets the saved zone (pages follow the browser's again)."""
    if value is None or value == "":
        zone = None
    else:
        zone = zone_named(value) if isinstance(value, str) else None
        if zone is None:
            raise Invalid("time_zone must be a time zone such as Europe/Madrid, or its city "
                          "(Madrid)", extra={"field": "time_zone"})
    if zone != user.time_zone:
        user.time_zone = zone
        await user.update(_columns=["time_zone"])


async def api_preferences(request: Request) -> JSONResponse:
    user = await require_user(request)
    if request.method == "PUT":
        data = await read_json(request)
        if "time_zone" in data:
            await set_time_zone(user, data["time_zone"])
    return JSONResponse(preferences_of(user))


async def settings_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    context: dict[str, Any] = {"zones": choices(), "error": None,
                               "done": request.query_params.get("done") == "1",
                               "chosen": user.time_zone or ""}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        try:
            await set_time_zone(user, form_text(form, "time_zone"))
        except Invalid as exc:
            context.update(error=exc.message, chosen=form_text(form, "time_zone"))
            return render(request, "accounts/settings.html", context, status_code=422)
        return RedirectResponse("/settings?done=1", status_code=303)
    return render(request, "accounts/settings.html", context)


routes = [
    Route("/api/me/preferences", api_preferences, methods=["GET", "PUT"]),
    Route("/settings", settings_page, methods=["GET", "POST"]),
]
