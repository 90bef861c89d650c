"""Matrix rules of the library (knowledge base): its API, its pages and the site-wide search.

Entries are written by `World.owner` (a member none of the principals is) and reviewed by a
`reviewer`, an expert none of the principals is either, so every cell asks: may this role act
on someone else's entry in this state? What the code and docs/protocol.md (Library) decide:

- published revisions are public; a never-published entry and the revision in the works of a
  published one exist only for their author, experts and admins (anyone else: 404);
- only the author edits, submits and withdraws (none of the principals);
- claiming is for an expert who is not the author; reviewing for the expert who claimed it;
- featuring and adding topics: experts, moderators and admins; the review queue: experts.

The library's one channel kind, `library:0`, is a feed without `send` types: SENDS is empty.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx2
from support.api import User, unique_name

from .matrix import ALL, MEMBERS, NOBODY, HttpRule, Principal, SendRule, World

EXPERTS = frozenset({"expert"})
READERS_OF_DRAFTS = frozenset({"expert", "admin"})  # besides the author (sees_unpublished)
CURATORS = frozenset({"expert", "moderator", "admin"})  # featuring, topics


# -- entries in each workflow state, made through the API as `owner` and `reviewer` --------
def reviewer(world: World) -> User:
    """An expert who is none of the principals: claims and reviews the owner's entries."""
    def make(w: World) -> User:
        user = w.api.register(unique_name("reviewer"))
        r = w.api.http.put(f"/api/users/{user.username}/roles", json={"roles": ["expert"]},
                           headers=w.admin.auth)
        assert r.status_code == 200, r.text
        return user
    return world.once("library reviewer", make)


def _as(world: World, user: User, method: str, path: str, body: Any = None,
        status: int = 200) -> dict[str, Any]:
    r = world.api.http.request(method, path, json=body, headers=user.auth)
    assert r.status_code == status, f"{method} {path}: {r.status_code} {r.text[:300]}"
    return dict(r.json())


def _article() -> dict[str, Any]:
    word = uuid.uuid4().hex[:10]
    return {"kind": "article", "title": f"Matrix article {word}",
            "summary": f"An entry the matrix acts on ({word}).",
            "body": f"Body of the entry, marker {word}.", "topics": ["procurement"]}


def entry_in(world: World, state: str) -> int:
    """A new entry of `owner`'s whose newest (and only) revision is in `state`."""
    owner, expert = world.owner, reviewer(world)
    entry_id = int(_as(world, owner, "POST", "/api/library", _article(), 201)["id"])
    path = f"/api/library/{entry_id}"
    steps = {
        "draft": [],
        "submitted": [(owner, "submit", None)],
        "in_review": [(owner, "submit", None), (expert, "claim", None)],
        "changes_requested": [(owner, "submit", None), (expert, "claim", None),
                              (expert, "review", {"decision": "request_changes",
                                                  "comment": "Say more."})],
        "published": [(owner, "submit", None), (expert, "claim", None),
                      (expert, "review", {"decision": "approve"})],
    }[state]
    for who, step, body in steps:
        _as(world, who, "POST", f"{path}/{step}", body)
    assert _as(world, owner, "GET", path)["state"] == state
    return entry_id


def revised(world: World, state: str) -> int:
    """A published entry whose revision 2 is in `state` (revision 1 stays the public one)."""
    owner, expert = world.owner, reviewer(world)
    entry_id = entry_in(world, "published")
    path = f"/api/library/{entry_id}"
    _as(world, owner, "PUT", path, {"title": f"Matrix article, revised {uuid.uuid4().hex[:6]}"})
    if state in ("submitted", "in_review"):
        _as(world, owner, "POST", f"{path}/submit")
    if state == "in_review":
        _as(world, expert, "POST", f"{path}/claim")
    shown = _as(world, owner, "GET", path)
    assert (shown["state"], shown["latest_revision"], shown["published_revision"]) \
        == (state, 2, 1), shown
    return entry_id


def draft(world: World) -> int:
    return world.once("library draft", lambda w: entry_in(w, "draft"))


def revision_in_review(world: World) -> int:
    return world.once("library revision in review", lambda w: revised(w, "in_review"))


def claimed_by(world: World, who: Principal) -> int:
    """A submitted entry claimed by `who` when they may claim it, else by the reviewer."""
    entry_id = entry_in(world, "submitted")
    path = f"/api/library/{entry_id}/claim"
    if who.user is None or world.api.http.post(path, headers=who.auth).status_code != 200:
        _as(world, reviewer(world), "POST", path)
    return entry_id


# -- calls -----------------------------------------------------------------------------------
def api(who: Principal, method: str, path: str, body: Any = None) -> httpx2.Response:
    return who.http.request(method, path, json=body, headers=who.auth)


def form(who: Principal, path: str, data: dict[str, Any] | None = None) -> httpx2.Response:
    return who.http.post(path, data={"csrf_token": who.csrf, **(data or {})})


def _article_form() -> dict[str, Any]:
    content = _article()
    return {k: content[k] for k in ("title", "summary", "body", "topics")}


HTTP = [
    # API: search, topics, lists
    HttpRule("GET", "/api/library", ALL,
             lambda w, p: api(p, "GET", "/api/library?q=matrix&kind=article&sort=date")),
    HttpRule("GET", "/api/library/topics", ALL, lambda w, p: api(p, "GET", "/api/library/topics")),
    HttpRule("POST", "/api/library/topics", CURATORS, lambda w, p: api(
        p, "POST", "/api/library/topics", {"name": f"Matrix topic {uuid.uuid4().hex[:8]}"})),
    HttpRule("GET", "/api/library/mine", MEMBERS, lambda w, p: api(p, "GET", "/api/library/mine")),
    HttpRule("GET", "/api/library/queue", EXPERTS,
             lambda w, p: api(p, "GET", "/api/library/queue")),
    # API: entries and the workflow, on the owner's entries
    HttpRule("POST", "/api/library", MEMBERS,
             lambda w, p: api(p, "POST", "/api/library", _article())),
    HttpRule("GET", "/api/library/{id}", READERS_OF_DRAFTS,
             lambda w, p: api(p, "GET", f"/api/library/{draft(w)}")),
    HttpRule("PUT", "/api/library/{id}", NOBODY, lambda w, p: api(
        p, "PUT", f"/api/library/{entry_in(w, 'published')}", {"title": "Taken over"})),
    HttpRule("POST", "/api/library/{id}/submit", NOBODY,
             lambda w, p: api(p, "POST", f"/api/library/{entry_in(w, 'draft')}/submit")),
    HttpRule("POST", "/api/library/{id}/withdraw", NOBODY,
             lambda w, p: api(p, "POST", f"/api/library/{entry_in(w, 'submitted')}/withdraw")),
    HttpRule("POST", "/api/library/{id}/claim", EXPERTS,
             lambda w, p: api(p, "POST", f"/api/library/{entry_in(w, 'submitted')}/claim")),
    # Claimed by the reviewer: no other expert (nor the admin) approves it.
    HttpRule("POST", "/api/library/{id}/review", NOBODY, lambda w, p: api(
        p, "POST", f"/api/library/{entry_in(w, 'in_review')}/review", {"decision": "approve"})),
    HttpRule("POST", "/api/library/{id}/feature", CURATORS, lambda w, p: api(
        p, "POST", f"/api/library/{entry_in(w, 'published')}/feature", {"featured": True})),
    HttpRule("GET", "/api/library/{id}/diff", READERS_OF_DRAFTS, lambda w, p: api(
        p, "GET", f"/api/library/{revision_in_review(w)}/diff?from=1&to=2")),
    # pages
    HttpRule("GET", "/library", ALL, lambda w, p: p.http.get("/library?q=matrix")),
    HttpRule("GET", "/case-studies", ALL,
             lambda w, p: p.http.get("/case-studies?level=municipal")),
    HttpRule("GET", "/library/new", MEMBERS, lambda w, p: p.http.get("/library/new?kind=article")),
    HttpRule("POST", "/library/new", MEMBERS,
             lambda w, p: form(p, "/library/new?kind=article", _article_form())),
    HttpRule("POST", "/library/topics", CURATORS, lambda w, p: form(
        p, "/library/topics", {"name": f"Matrix page topic {uuid.uuid4().hex[:8]}"})),
    HttpRule("GET", "/library/review", EXPERTS, lambda w, p: p.http.get("/library/review")),
    HttpRule("GET", "/library/mine", MEMBERS, lambda w, p: p.http.get("/library/mine")),
    # The revision in the works of a published entry: author, experts, admins.
    HttpRule("GET", "/library/{id}", READERS_OF_DRAFTS,
             lambda w, p: p.http.get(f"/library/{revision_in_review(w)}?revision=2")),
    HttpRule("GET", "/library/{id}/diff", READERS_OF_DRAFTS,
             lambda w, p: p.http.get(f"/library/{draft(w)}/diff")),
    HttpRule("GET", "/library/{id}/edit", NOBODY,
             lambda w, p: p.http.get(f"/library/{draft(w)}/edit")),
    HttpRule("POST", "/library/{id}/edit", NOBODY, lambda w, p: form(
        p, f"/library/{entry_in(w, 'changes_requested')}/edit", _article_form())),
    HttpRule("POST", "/library/{id}/submit", NOBODY,
             lambda w, p: form(p, f"/library/{entry_in(w, 'changes_requested')}/submit")),
    HttpRule("POST", "/library/{id}/withdraw", NOBODY,
             lambda w, p: form(p, f"/library/{revised(w, 'in_review')}/withdraw")),
    # Revision 2 of a published entry: everyone may read the entry, only experts claim.
    HttpRule("POST", "/library/{id}/claim", EXPERTS,
             lambda w, p: form(p, f"/library/{revised(w, 'submitted')}/claim")),
    # Claimed by the principal when they may claim: the claiming expert approves.
    HttpRule("POST", "/library/{id}/review", EXPERTS, lambda w, p: form(
        p, f"/library/{claimed_by(w, p)}/review", {"decision": "approve", "comment": ""})),
    HttpRule("POST", "/library/{id}/feature", CURATORS, lambda w, p: form(
        p, f"/library/{revised(w, 'submitted')}/feature", {"featured": "true"})),
]

SENDS: list[SendRule] = []
