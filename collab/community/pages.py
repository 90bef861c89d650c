"""The directory `/members`, a member's page `/members/{username}` and `/settings/profile`.

Every page works without JavaScript: the directory is a GET form, the profile a POST form.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from collab.accounts.auth import current_user
from collab.accounts.service import user_by_name
from collab.errors import CollabError, NotFound
from collab.web import check_csrf, page_param, render, sign_in_redirect

from . import profiles
from .api import contributions


async def directory(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    topics = await profiles.topics()
    context: dict[str, Any] = {"topics": topics, "topic_names": dict(topics),
                               "levels": profiles.LEVEL_LABELS, "error": None}
    try:
        search = profiles.search_of(request.query_params)
    except CollabError as exc:
        context.update(error=exc.message, search=profiles.Search(), total=0, results=[],
                       has_next=False, query="")
        return render(request, "community/members.html", context, status_code=exc.status)
    search = profiles.Search(**{**search.__dict__, "page": page_param(request)})
    total, results = await profiles.directory(search)
    query = urlencode({k: v for k, v in (("q", search.q), *search.filters.items()) if v})
    context.update(search=search, total=total, results=results, query=query,
                   has_next=search.page * profiles.PER_PAGE < total)
    return render(request, "community/members.html", context)


async def member(request: Request) -> Response:
    """Anyone sees who a member is (the forum links here); signed-in members see their
    profile and contributions too."""
    viewer = await current_user(request)
    person = await user_by_name(request.path_params["username"])
    if person is None:
        raise NotFound("no such member")
    found = await profiles.profile(person.id) if viewer is not None else None
    done = await contributions(request, person.id, viewer) if viewer is not None else []
    topics = dict(await profiles.topics()) if found else {}
    return render(request, "community/member.html", {
        "person": person, "profile": found, "contributions": done, "topic_names": topics,
        "levels": profiles.LEVEL_LABELS, "saved": request.query_params.get("saved") == "1"})


async def edit_profile(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    topics = await profiles.topics()
    current = await profiles.profile(user.id) or {}
    context: dict[str, Any] = {"topics": topics, "levels": profiles.LEVEL_LABELS,
                               "error": None, "field": None, "form": current}
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        data: dict[str, Any] = {name: form.get(name, "") for name in (*profiles.LIMITS, "level")}
        data["topics"] = [t for t in form.getlist("topics") if isinstance(t, str)]
        if any(not isinstance(v, str) for k, v in data.items() if k != "topics"):
            data = {k: (v if isinstance(v, str) or k == "topics" else "") for k, v in data.items()}
        try:
            await profiles.save(user.id, await profiles.validate(data))
        except CollabError as exc:
            context.update(error=exc.message, field=exc.extra.get("field"),
                           form={**data, **{k: _echo(v) for k, v in data.items()
                                            if k != "topics"}})
            return render(request, "community/profile_form.html", context,
                          status_code=exc.status)
        return RedirectResponse(f"/members/{user.username}?saved=1", status_code=303)
    return render(request, "community/profile_form.html", context)


def _echo(value: Any) -> str:
    """A refused value shown back in its field: text only, without U+0000, within bounds."""
    if not isinstance(value, str):
        return ""
    return value[:4000].replace("\x00", "").encode("utf-8", "replace").decode()


routes = [
    Route("/members", directory, methods=["GET"]),
    Route("/members/{username}", member, methods=["GET"]),
    Route("/settings/profile", edit_profile, methods=["GET", "POST"]),
]
