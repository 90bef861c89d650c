"""The library's pages: home and search, entries, the workflow forms, diffs, the review queue,
"my drafts" and the case-study showcase.

Every page works as plain links and forms (GET searches, POST then redirect); htmx only makes
the search answer as you type, swapping the results region and keeping the address bar in
step (`hx-push-url`), so a search can be shared and the back button returns to it. Rules
live in `service`; these handlers read forms, call it, and render.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from collab.accounts.auth import current_user, require_user
from collab.accounts.models import User
from collab.errors import CollabError, Conflict, Forbidden, Invalid
from collab.searching import everywhere
from collab.web import check_csrf, form_text, hub_of, id_param, is_htmx, page_param, render
from collab.web.forms import form_action

from . import content as c
from . import diff, reading, search, service
from .api import timed
from .contents import with_contents
from .forms import form_data, form_values, raw_values

ELSEWHERE_LIMIT = 5
SHOWCASE_PER_PAGE = 12
SEARCH_KEYS = ("q", "kind", "topic", "jurisdiction", "level", "year", "sort", "page")



def _id(request: Request) -> int:
    return int(request.path_params["id"])


def _fragment_wanted(request: Request) -> bool:
    """An htmx swap wants the fragment; a history restore (back button) wants the page."""
    return is_htmx(request) and request.headers.get("hx-history-restore-request") != "true"


def _vary(response: Response) -> Response:
    # One address answers a page or a fragment: caches (and the back button) must not mix them.
    response.headers["vary"] = "HX-Request, HX-History-Restore-Request"
    return response


async def _signed_in(request: Request) -> User:
    return await require_user(request)


# -- search and home -----------------------------------------------------------------------
def url_maker(base: str, req: search.SearchRequest, omit: tuple[str, ...] = ()
              ) -> Callable[..., str]:
    """`url(kind="paper")`: this search with some parameters changed (None drops one);
    the page goes back to 1 unless it is what changes. `omit`: parameters the page sets."""
    current: dict[str, Any] = {"q": req.q, **req.filters,
                               "sort": req.sort if req.sort != "relevance" else None,
                               "page": req.page if req.page > 1 else None,
                               "per_page": req.per_page if req.per_page != search.PER_PAGE
                               else None}
    for name in omit:
        current.pop(name, None)

    def url(**changes: Any) -> str:
        params = dict(current)
        if "page" not in changes:
            params["page"] = None
        params.update(changes)
        if params.get("page") == 1:
            params["page"] = None
        query = urlencode([(k, v) for k, v in params.items() if v not in (None, "")])
        return base + ("?" + query if query else "")

    return url


async def library(request: Request) -> Response:
    """`/library`: the home (new and featured entries, topics) or, with a query or a filter,
    the search results; to htmx, just the results region."""
    started = time.perf_counter()
    user = await current_user(request)
    params = request.query_params
    # The default sort alone (what a cleared box sends) is the home: the address it pushes.
    searching = any(params.get(k, "").strip() for k in SEARCH_KEYS
                    if not (k == "sort" and params.get(k, "").strip() == "relevance"))
    topics = await service.topic_map()
    status = 200
    context: dict[str, Any] = {"topics": topics, "kind_labels": c.KIND_LABELS,
                               "kind_plurals": c.KIND_PLURALS, "level_labels": c.LEVEL_LABELS,
                               "searching": searching, "error": None, "elsewhere": [],
                               "can_edit_topics": user is not None
                               and user.has_role("expert", "moderator", "admin")}
    try:
        req = search.parse_request(params)
    except Invalid as exc:
        req = search.SearchRequest(q=(params.get("q") or "")[:search.MAX_QUERY])
        context["error"] = exc.message
        status = 422
        searching = True
    context.update(req=req, url=url_maker("/library", req), searching=searching)
    if searching and context["error"] is None:
        if req.q:
            # The other domains' sources are asked while the library searches (each on a
            # connection of its own), not after it.
            context["found"], elsewhere = await asyncio.gather(
                search.search(req), everywhere(request.app.state.domains, req.q, user,
                                               ELSEWHERE_LIMIT, leave_out="library"))
            context["elsewhere"] = [found.as_dict() for found in elsewhere]
        else:
            context["found"] = await search.search(req)
    elif not searching:
        context.update(
            featured=await reading.published_list(featured=True, limit=4),
            newest=await reading.published_list(limit=8),
            topic_counts=await reading.topic_counts(),
            totals=(await search.search(search.SearchRequest(per_page=1))).facets["kind"],
            feed=await hub_of(request).head(service.FEED_CHANNEL),
        )
    if _fragment_wanted(request):
        response = render(request, "library/_region.html", {**context, "oob": True},
                          status_code=status)
        response.headers["cache-control"] = "no-store"
        if status == 200:
            # The address bar gets the search's canonical address (no default sort, `+` for
            # spaces), the same one links and the form without JavaScript produce.
            response.headers["hx-push-url"] = (context["url"](page=req.page) if searching
                                                else "/library")
        return timed(_vary(response), started)
    return timed(_vary(render(request, "library/library.html", context, status_code=status)),
                 started)


async def add_topic(request: Request) -> Response:
    await check_csrf(request)
    user = await _signed_in(request)
    form = await request.form()
    await service.add_topic(user, {"name": form_text(form, "name"),
                                   "description": form_text(form, "description")})
    return RedirectResponse("/library#topics", status_code=303)


# -- entries -------------------------------------------------------------------------------
def _permissions(view: dict[str, Any], user: User | None) -> dict[str, bool]:
    author = user is not None and user.id == view["author"]["id"]
    state = view["state"]
    expert = service.is_expert(user)
    reviewer = view.get("reviewer") or {}
    return {
        "can_edit": author and state in service.EDITABLE,
        "can_submit": author and state in ("draft", "changes_requested"),
        "can_withdraw": author and state in ("submitted", "in_review"),
        "can_claim": expert and not author and state == "submitted",
        "can_review": expert and not author and state == "in_review"
        and reviewer.get("id") == (user.id if user else None),
        "can_feature": user is not None and user.has_role("expert", "moderator", "admin")
        and view["published_revision"] is not None,
        "privileged": user is not None and service.sees_unpublished(user, view["author"]["id"]),
    }


def _last_reviewed(view: dict[str, Any], user: User | None) -> int | None:
    """The revision this expert last decided on, when a newer one waits for review: the page
    offers the diff since then, so a re-review reads only what changed."""
    if user is None or view["state"] not in ("submitted", "in_review"):
        return None
    decided = [h["revision"] for h in view.get("history", ())
               if h["action"] in ("approve", "request_changes") and h["actor"]
               and h["actor"]["id"] == user.id and h["revision"] < view["latest_revision"]]
    return max(decided, default=None)


async def entry_page(request: Request, notice: str = "", error: str = "",
                     status: int = 200) -> Response:
    user = await current_user(request)
    number = id_param(request, "revision")
    view = await reading.entry_view(_id(request), user, number)
    view["body_html"], contents = with_contents(view.get("body_html") or "")
    context = {"entry": view, **_permissions(view, user), "notice": notice, "error": error,
               "last_reviewed": _last_reviewed(view, user), "contents": contents,
               "kind_labels": c.KIND_LABELS, "level_labels": c.LEVEL_LABELS,
               "state_labels": service.STATE_LABELS,
               "outcome_text": c.outcome_text,
               "comment": ""}
    return render(request, "library/entry.html", context, status_code=status)


async def entry(request: Request) -> Response:
    notices = {"submitted": "Submitted for review: an expert will claim it.",
               "claimed": "You are reviewing this entry now.",
               "published": "Published. The author has been told.",
               "changes_requested": "Changes requested. The author has been told.",
               "withdrawn": "Withdrawn from review: it is a draft again.",
               "saved": "Saved.", "featured": "Featured on the library's home.",
               "unfeatured": "No longer featured."}
    return await entry_page(request, notices.get(request.query_params.get("done", ""), ""))


async def _workflow(request: Request, action: str) -> Response:
    await check_csrf(request)
    user = await _signed_in(request)
    entry_id = _id(request)
    form = await request.form()
    hub = hub_of(request)

    async def act() -> str:
        done = await _step(hub, user, entry_id, action, form)
        latest = (await service.load(entry_id, user)).row
        # Back to the revision in the works for its author and reviewers; anyone else (a
        # moderator featuring an entry under revision) sees the published one.
        revision = "" if latest.published_revision == latest.latest_revision \
            or not service.sees_unpublished(user, latest.author) \
            else f"revision={latest.latest_revision}&"
        return f"/library/{entry_id}?{revision}done={done}"

    async def again(exc: CollabError) -> Response:
        return await _entry_error(request, entry_id, exc, form)

    return await form_action(act, again)


async def _step(hub: Any, user: User, entry_id: int, action: str, form: FormData) -> str:
    """One workflow step; what the entry page says was done."""
    if action == "submit":
        await service.submit(hub, user, entry_id, {"comment": form_text(form, "comment")})
        return "submitted"
    if action == "withdraw":
        await service.withdraw(hub, user, entry_id)
        return "withdrawn"
    if action == "claim":
        await service.claim(hub, user, entry_id)
        return "claimed"
    if action == "review":
        return await service.review(hub, user, entry_id,
                                    {"decision": form_text(form, "decision"),
                                     "comment": form_text(form, "comment")})
    featured = await service.set_featured(user, entry_id,
                                          {"featured": form_text(form, "featured")})
    return "featured" if featured else "unfeatured"


async def _entry_error(request: Request, entry_id: int, exc: CollabError,
                       form: FormData) -> Response:
    user = await current_user(request)
    view = await reading.entry_view(entry_id, user, newest=True)
    context = {"entry": view, **_permissions(view, user), "notice": "", "error": exc.message,
               "kind_labels": c.KIND_LABELS, "level_labels": c.LEVEL_LABELS,
               "state_labels": service.STATE_LABELS, "outcome_text": c.outcome_text,
               "comment": form_text(form, "comment")}
    return render(request, "library/entry.html", context, status_code=exc.status)


async def submit(request: Request) -> Response:
    return await _workflow(request, "submit")


async def withdraw(request: Request) -> Response:
    return await _workflow(request, "withdraw")


async def claim(request: Request) -> Response:
    return await _workflow(request, "claim")


async def review(request: Request) -> Response:
    return await _workflow(request, "review")


async def feature(request: Request) -> Response:
    return await _workflow(request, "feature")


# -- writing -------------------------------------------------------------------------------
async def _form_page(request: Request, kind: str, values: dict[str, Any], action: str,
                     heading: str, entry_view: dict[str, Any] | None = None,
                     error: str = "", status: int = 200) -> Response:
    return render(request, "library/form.html", {
        "kind": kind, "values": values, "action": action, "heading": heading,
        "entry": entry_view, "error": error, "topics": await service.topic_map(),
        "levels": c.LEVELS, "level_labels": c.LEVEL_LABELS, "kind_labels": c.KIND_LABELS,
    }, status_code=status)


async def new_entry(request: Request) -> Response:
    user = await _signed_in(request)
    if request.method == "GET":
        kind = request.query_params.get("kind", "")
        if kind not in c.KINDS:
            return render(request, "library/choose_kind.html",
                          {"kind_labels": c.KIND_LABELS})
        return await _form_page(request, kind, {"topics": []}, f"/library/new?kind={kind}",
                                f"New {c.KIND_LABELS[kind].lower()}")
    await check_csrf(request)
    form = await request.form()
    kind = request.query_params.get("kind", "") or form_text(form, "kind")
    if kind not in c.KINDS:
        raise Invalid("choose a kind: article, case_study or paper", extra={"field": "kind"})
    try:
        entry_id = await service.create_entry(hub_of(request), user,
                                              {"kind": kind, **form_data(kind, form)})
    except Invalid as exc:
        return await _form_page(request, kind, raw_values(form), f"/library/new?kind={kind}",
                                f"New {c.KIND_LABELS[kind].lower()}", error=exc.message,
                                status=exc.status)
    return RedirectResponse(f"/library/{entry_id}?done=saved", status_code=303)


async def edit_entry(request: Request) -> Response:
    user = await _signed_in(request)
    entry_id = _id(request)
    found = await service.load(entry_id, user)
    if found.author_id != user.id:
        raise Forbidden("Only the author edits an entry.")
    kind = found.row.kind
    latest = found.row.latest_revision
    view = await reading.entry_view(entry_id, user, latest)
    action = f"/library/{entry_id}/edit"
    heading = f"Edit {c.KIND_LABELS[kind].lower()}"
    if request.method == "GET":
        if found.state not in service.EDITABLE:
            raise Conflict("This entry is with a reviewer; withdraw it to edit it.")
        return await _form_page(request, kind, form_values(view), action, heading, view)
    await check_csrf(request)
    form = await request.form()

    async def save() -> str:
        number = await service.update_entry(hub_of(request), user, entry_id,
                                            form_data(kind, form))
        suffix = "" if found.row.published_revision == number else f"revision={number}&"
        return f"/library/{entry_id}?{suffix}done=saved"

    async def again(exc: CollabError) -> Response:
        return await _form_page(request, kind, raw_values(form), action, heading, view,
                                error=exc.message, status=exc.status)

    return await form_action(save, again)


# -- diffs ---------------------------------------------------------------------------------
async def diff_page(request: Request) -> Response:
    user = await current_user(request)
    found = await service.load(_id(request), user)
    view = await reading.entry_view(found.id, user)
    numbers = [r["number"] for r in view["revisions"]]
    a = id_param(request, "from")
    b = id_param(request, "to")
    if a is None or b is None:
        b = numbers[-1]
        a = numbers[-2] if len(numbers) > 1 else b
    old = await reading.revision_content(found, user, a)
    new = await reading.revision_content(found, user, b)
    changes = diff.diff_contents(found.row.kind, old, new)
    return render(request, "library/diff.html", {
        "entry": view, "numbers": numbers, "a": a, "b": b, "changes": changes,
        "ops_html": diff.ops_html})


# -- lists ---------------------------------------------------------------------------------
async def review_queue(request: Request) -> Response:
    user = await _signed_in(request)
    if not service.is_expert(user):
        raise Forbidden("The review queue is for experts.")
    return render(request, "library/review.html", {
        "queue": await reading.review_queue(user), "kind_labels": c.KIND_LABELS,
        "state_labels": service.STATE_LABELS})


async def my_entries(request: Request) -> Response:
    user = await _signed_in(request)
    items = await reading.my_entries(user)
    return render(request, "library/mine.html", {
        "drafts": [i for i in items if i["state"] != "published"],
        "published": [i for i in items if i["state"] == "published"],
        "kind_labels": c.KIND_LABELS, "state_labels": service.STATE_LABELS})


async def case_studies(request: Request) -> Response:
    """Success stories with their headline figures, by area (topic) and level of government."""
    params = {"kind": "case_study", "sort": "date",
              "topic": request.query_params.get("topic", ""),
              "level": request.query_params.get("level", ""),
              "jurisdiction": request.query_params.get("jurisdiction", ""),
              "page": str(page_param(request)), "per_page": str(SHOWCASE_PER_PAGE)}
    error = None
    try:
        req = search.parse_request(params)
    except Invalid as exc:
        error, req = exc.message, search.SearchRequest(kind="case_study", sort="date",
                                                       per_page=SHOWCASE_PER_PAGE)
    found = await search.search(req)
    details = await reading.published_details([r["id"] for r in found.results])
    context = {"found": found, "req": req, "details": details, "error": error,
               "url": url_maker("/case-studies", req, omit=("kind", "sort", "per_page")),
               "topics": await service.topic_map(),
               "level_labels": c.LEVEL_LABELS, "levels": c.LEVELS,
               "outcome_text": c.outcome_text}
    status = 422 if error else 200
    if _fragment_wanted(request):
        response = render(request, "library/_showcase.html", context, status_code=status)
        response.headers["cache-control"] = "no-store"
        if status == 200:
            response.headers["hx-push-url"] = context["url"](page=req.page)
        return _vary(response)
    return _vary(render(request, "library/case_studies.html", context, status_code=status))


routes = [
    Route("/library", library, methods=["GET"]),
    Route("/library/new", new_entry, methods=["GET", "POST"]),
    Route("/library/topics", add_topic, methods=["POST"]),
    Route("/library/review", review_queue, methods=["GET"]),
    Route("/library/mine", my_entries, methods=["GET"]),
    Route("/library/{id:id}", entry, methods=["GET"]),
    Route("/library/{id:id}/edit", edit_entry, methods=["GET", "POST"]),
    Route("/library/{id:id}/submit", submit, methods=["POST"]),
    Route("/library/{id:id}/withdraw", withdraw, methods=["POST"]),
    Route("/library/{id:id}/claim", claim, methods=["POST"]),
    Route("/library/{id:id}/review", review, methods=["POST"]),
    Route("/library/{id:id}/feature", feature, methods=["POST"]),
    Route("/library/{id:id}/diff", diff_page, methods=["GET"]),
    Route("/case-studies", case_studies, methods=["GET"]),
]
