"""`/admin/members`: admins find a member, grant or take away expert and moderator, and
suspend or restore them, through the same account rules as the API."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from collab import db
from collab.accounts.auth import current_user
from collab.accounts.credentials import end_everything
from collab.accounts.models import User
from collab.accounts.service import set_roles, set_suspended, user_by_name
from collab.errors import CollabError, Forbidden, NotFound
from collab.searching import like_pattern
from collab.web import check_csrf, hub_of, page_param, render, sign_in_redirect

PER_PAGE = 50
GRANTED = ("expert", "moderator")


async def _admin(request: Request) -> User | Response:
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    if not user.has_role("admin"):
        raise Forbidden("Only admins manage members.")
    return user


async def members_page(request: Request) -> Response:
    admin = await _admin(request)
    if isinstance(admin, Response):
        return admin
    q = request.query_params.get("q", "")[:100].replace("\x00", "").strip()
    page = page_param(request)
    users = User.ormar_config.table
    query = sa.select(users.c.id).order_by(users.c.username_key)
    if q:
        pattern = like_pattern(q.lower())
        query = query.where(sa.or_(users.c.username_key.like(pattern, escape="\\"),
                                   sa.func.lower(users.c.display_name).like(pattern,
                                                                            escape="\\")))
    async with db.database.connection() as conn:
        ids = list((await conn.execute(query.offset((page - 1) * PER_PAGE)
                                       .limit(PER_PAGE + 1))).scalars())
    found = {u.id: u for u in await User.objects.filter(id__in=ids).all()} if ids else {}
    rows = [found[i] for i in ids if i in found]
    return render(request, "community/admin_members.html", {
        "rows": rows[:PER_PAGE], "q": q, "page": page, "has_next": len(rows) > PER_PAGE,
        "query": urlencode({"q": q}) if q else "", "granted": GRANTED,
        "done": request.query_params.get("done", "")[:80], "error": None})


async def change_member(request: Request) -> Response:
    """POST `/admin/members/{username}`: `action` roles (with the roles ticked) or suspend or
    unsuspend; back to the list, where it says what happened."""
    admin = await _admin(request)
    if isinstance(admin, Response):
        return admin
    await check_csrf(request)
    form = await request.form()
    user = await user_by_name(request.path_params["username"])
    if user is None:
        raise NotFound("no such member")
    action = form.get("action")
    back = str(form.get("q", ""))[:100]
    try:
        if action == "roles":
            roles = [r for r in GRANTED if form.get(r)] + (["admin"] if user.has_role("admin")
                                                            else [])
            await set_roles(admin, user, roles)
            done = f"Roles of {user.username} saved."
        elif action in ("suspend", "unsuspend"):
            await set_suspended(admin, user, action == "suspend")
            if action == "suspend":
                await end_everything(user)
            done = f"{user.username} {'suspended' if action == 'suspend' else 'restored'}."
        else:
            raise NotFound("no such action")
    except CollabError as exc:
        if isinstance(exc, NotFound):
            raise
        rows = await User.objects.filter(id=user.id).all()
        return render(request, "community/admin_members.html", {
            "rows": rows, "q": back, "page": 1, "has_next": False, "query": "",
            "granted": GRANTED, "done": "", "error": exc.message}, status_code=exc.status)
    await hub_of(request).access_changed(user.id)
    return RedirectResponse(f"/admin/members?q={quote(back)}&done={quote(done)}",
                            status_code=303)


routes: list[Any] = [
    Route("/admin/members", members_page, methods=["GET"]),
    Route("/admin/members/{username}", change_member, methods=["POST"]),
]
