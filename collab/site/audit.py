"""`/admin/audit`: every moderation and admin action, newest first, in words.

Each domain puts its own rows into words (`Domain.describe_actions`, given a page of rows at
once so it reads the titles it names in one query); a row no domain knows is shown as its
code, so nothing is ever hidden from the log.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from collab.accounts.auth import current_user, require_user
from collab.accounts.models import AuditEntry, User
from collab.domain import ActionText, AuditRow
from collab.errors import Forbidden
from collab.web import is_moderator, page_param, render, shown_name, sign_in_redirect

PER_PAGE = 50


async def describe(domains: list[Any], entries: list[AuditEntry]) -> dict[int, ActionText]:
    rows = [AuditRow(e.id, e.actor_username, e.action, e.target, e.details) for e in entries]
    texts: dict[int, ActionText] = {}
    for domain in domains:
        if domain.describe_actions is not None and rows:
            for row_id, text in (await domain.describe_actions(rows)).items():
                texts.setdefault(row_id, text)
    return texts


async def _names(usernames: set[str]) -> dict[str, str]:
    if not usernames:
        return {}
    users = await User.objects.filter(username__in=list(usernames)).all()
    return {u.username: shown_name(u) for u in users}


async def audit_page(request: Request) -> Response:
    if await current_user(request) is None:
        return sign_in_redirect(request)
    if not is_moderator(await require_user(request)):
        raise Forbidden("Only moderators and admins may read the audit log.")
    page = page_param(request)
    entries = await (AuditEntry.objects.order_by("-id").offset((page - 1) * PER_PAGE)
                     .limit(PER_PAGE + 1).all())
    shown = entries[:PER_PAGE]
    texts = await describe(request.app.state.domains, shown)
    names = await _names({e.actor_username for e in shown if e.actor_username})
    rows = [{"entry": e, "actor": names.get(e.actor_username, e.actor_username),
             "text": texts.get(e.id)} for e in shown]
    return render(request, "site/audit.html",
                  {"rows": rows, "page": page, "has_next": len(entries) > PER_PAGE})


async def old_address(request: Request) -> Response:
    """The log used to live under the forum's moderation pages: links and bookmarks still work."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"/admin/audit{query}", status_code=301)
