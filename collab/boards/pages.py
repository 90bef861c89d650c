"""The boards' browser pages: project list, project page (members, progress), my tasks.

The board and card pages are in `board_pages.py`. Every rule lives in the service; these
handlers read forms, call it, and answer with a page, a redirect, or the form again with the
error on it. Without JavaScript everything works through these plain forms.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from collab.accounts.auth import current_user, require_user
from collab.accounts.models import User
from collab.errors import CollabError, Invalid, NotFound
from collab.web import (
    check_csrf,
    form_text,
    hub_of,
    page_param,
    parse_id,
    render,
    sign_in_redirect,
)
from collab.web.forms import form_action, post_form

from . import board_pages, invitations, progress, reads, service
from .access import Access, project_access
from .models import ROLES, Project

TASKS_PER_PAGE = 50


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# -- projects ----------------------------------------------------------------------------------
async def projects_page(request: Request) -> Response:
    user = await current_user(request)
    context: dict[str, Any] = {"form": {"name": "", "description": "", "visibility": "private"}}

    async def page(status: int = 200) -> Response:
        context["projects"] = await reads.visible_projects(user)
        return render(request, "boards/projects.html", context, status_code=status)

    if request.method != "POST":
        return await page()

    async def create(data: dict[str, str]) -> str:
        made = await service.create_project(hub_of(request), await require_user(request), data)
        return f"/boards/{made['board_id']}"

    return await post_form(request, ("name", "description", "visibility"), create, page, context)


async def _project_context(access: Access, user: User | None) -> dict[str, Any]:
    project = await Project.objects.get(id=access.project_id)
    figures = await progress.progress(access.board_id)
    uid = user.id if user is not None else None
    return {"project": service.project_dict(project, access.board_id, access.role),
            "access": access, "members": await reads.members(access.project_id),
            "progress": figures, "chart": progress.chart(figures["burnup"]),
            "roles": ROLES, "today": progress.today().isoformat(),
            "invitation": await invitations.pending(access.project_id, uid),
            "muted": uid is not None and await invitations.is_muted(access.project_id, uid)}


NOTICES = {"invited": "They left this project before: they are invited back, and become a "
                      "member when they accept.",
           "joined": "You accepted the invitation: you are a member again.",
           "muted": "Muted: this project's notifications no longer reach you.",
           "unmuted": "Unmuted: this project's notifications reach you again."}


async def project_page(request: Request) -> Response:
    """A project: its progress (burn-up chart), its members, and owners' settings; to someone
    invited back to a private project, only the invitation (name, role, accept or decline)."""
    user = await current_user(request)
    try:
        access = await project_access(request.path_params["id"], user)
    except NotFound:
        invitation = await invitations.pending(request.path_params["id"],
                                               user.id if user else None)
        if invitation is None:
            raise
        return render(request, "boards/invitation.html", {"invitation": invitation})
    context = await _project_context(access, user)
    context["notice"] = NOTICES.get(request.query_params.get("done", ""), "")
    return render(request, "boards/project.html", context)


async def _project_form(request: Request, action: Any) -> Response:
    """An owner's form on the project page: do it, or show the page again with the error."""
    await check_csrf(request)
    user = await require_user(request)
    project_id = request.path_params["id"]
    form = await request.form()

    async def act() -> str:
        return await action(user, project_id, form) or f"/projects/{project_id}"

    async def again(exc: CollabError) -> Response:
        access = await project_access(project_id, user)  # no such project: its 404
        context = await _project_context(access, user)
        context["error"] = exc.message
        return render(request, "boards/project.html", context, status_code=exc.status)

    return await form_action(act, again)


async def project_settings(request: Request) -> Response:
    async def action(user: User, project_id: int, form: Any) -> None:
        data = {k: form_text(form, k) for k in ("name", "description", "visibility")
                if k in form}
        await service.update_project(hub_of(request), user, project_id, data)

    return await _project_form(request, action)


async def project_members(request: Request) -> Response:
    async def action(user: User, project_id: int, form: Any) -> str:
        _, state = await service.set_member(hub_of(request), user, project_id,
                                            {"username": form_text(form, "username").strip(),
                                             "role": form_text(form, "role") or "member"})
        done = "?done=invited" if state == "invited" else ""
        return f"/projects/{project_id}{done}#members"

    return await _project_form(request, action)


async def project_invitation(request: Request) -> Response:
    """Accept or decline an invitation back (from the project page or the notifications
    page): a plain form, `accept` true or false."""
    await check_csrf(request)
    user = await require_user(request)
    project_id = request.path_params["id"]
    form = await request.form()
    try:
        answered = await invitations.answer(hub_of(request), user, project_id,
                                            {"accept": form_text(form, "accept")})
    except NotFound:
        # Accepted already (another tab, or the notification's form used twice): the project
        # is the answer; otherwise there is no invitation, and the page says so.
        if (await project_access(project_id, user)).role is None:
            raise
        return redirect(f"/projects/{project_id}")
    if answered["state"] == "member":
        return redirect(f"/projects/{project_id}?done=joined")
    return redirect("/projects")


async def project_mute(request: Request) -> Response:
    async def action(user: User, project_id: int, form: Any) -> str:
        muted = await invitations.set_muted(hub_of(request), user, project_id,
                                            {"muted": form_text(form, "muted")})
        return f"/projects/{project_id}?done={'muted' if muted else 'unmuted'}"

    return await _project_form(request, action)


async def project_member_remove(request: Request) -> Response:
    async def action(user: User, project_id: int, form: Any) -> str:
        user_id = parse_id(request.path_params["user_id"])
        if user_id is None:
            raise Invalid("no such member")
        await service.remove_member(hub_of(request), user, project_id, user_id)
        # Someone who left a private project can no longer see it.
        return "/projects" if user_id == user.id else f"/projects/{project_id}#members"

    return await _project_form(request, action)


async def project_delete(request: Request) -> Response:
    """Owners delete a project after a confirmation page."""
    user = await current_user(request)
    if user is None and request.method == "GET":
        return sign_in_redirect(request)
    user = await require_user(request)
    access = await project_access(request.path_params["id"], user)
    access.require_owner(user)
    if request.method == "POST":
        await check_csrf(request)
        form = await request.form()
        if form_text(form, "confirm") == "yes":
            await service.delete_project(hub_of(request), user, access.project_id)
            return redirect("/projects")
    return render(request, "boards/project_delete.html",
                  {"project": {"id": access.project_id, "name": access.name}})


# -- my tasks ----------------------------------------------------------------------------------
async def my_tasks_page(request: Request) -> Response:
    user = await current_user(request)
    if user is None:
        return sign_in_redirect(request)
    page = page_param(request)
    counts = await reads.task_counts(user.id)
    tasks = await reads.tasks(user.id, by_project=True, limit=TASKS_PER_PAGE,
                              offset=(page - 1) * TASKS_PER_PAGE)
    pages = max(1, -(-counts["all"] // TASKS_PER_PAGE))
    groups: list[dict[str, Any]] = []
    for task in tasks:
        if not groups or groups[-1]["project"]["id"] != task["project"]["id"]:
            groups.append({"project": task["project"], "board_id": task["board_id"], "tasks": []})
        groups[-1]["tasks"].append(task)
    return render(request, "boards/tasks.html",
                  {"groups": groups, "counts": counts, "page": page, "pages": pages,
                   "today": progress.today().isoformat()},
                  status_code=200 if page <= pages else 404)


routes = [
    Route("/projects", projects_page, methods=["GET", "POST"]),
    Route("/projects/{id:id}", project_page, methods=["GET"]),
    Route("/projects/{id:id}/settings", project_settings, methods=["POST"]),
    Route("/projects/{id:id}/members", project_members, methods=["POST"]),
    Route("/projects/{id:id}/members/{user_id:id}/remove", project_member_remove,
          methods=["POST"]),
    Route("/projects/{id:id}/invitation", project_invitation, methods=["POST"]),
    Route("/projects/{id:id}/mute", project_mute, methods=["POST"]),
    Route("/projects/{id:id}/delete", project_delete, methods=["GET", "POST"]),
    Route("/me/tasks", my_tasks_page, methods=["GET"]),
    *board_pages.routes,
]
