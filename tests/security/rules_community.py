"""Matrix rules of the community: profiles, the directory, the administration of members."""

from __future__ import annotations

import httpx2
from support.api import unique_name

from .matrix import ADMINS, ALL, MEMBERS, HttpRule, Principal, World
from .rules_core import api, form


def _victim(world: World) -> str:
    """A fresh member to act on (suspending the matrix's own principals would end them)."""
    return world.api.register(unique_name("target")).username


def _profile_form(who: Principal) -> httpx2.Response:
    return form(who, "/settings/profile", {"organisation": "Matrix Council", "title": "",
                                           "level": "", "jurisdiction": "", "bio": ""})


HTTP = [
    HttpRule("PUT", "/api/me/profile", MEMBERS,
             lambda w, p: api(p, "PUT", "/api/me/profile", {"organisation": "Matrix Council"})),
    HttpRule("GET", "/api/members", MEMBERS, lambda w, p: api(p, "GET", "/api/members?q=a")),
    HttpRule("GET", "/api/members/{username}", MEMBERS,
             lambda w, p: api(p, "GET", f"/api/members/{w.owner.username}")),
    HttpRule("GET", "/members", MEMBERS, lambda w, p: p.http.get("/members?topic=procurement")),
    # The page itself is public (the forum links to it); the profile on it is for members
    # (tests/integration/test_community_profiles.py checks what a visitor sees).
    HttpRule("GET", "/members/{username}", ALL,
             lambda w, p: p.http.get(f"/members/{w.owner.username}")),
    HttpRule("GET", "/settings/profile", MEMBERS, lambda w, p: p.http.get("/settings/profile")),
    HttpRule("POST", "/settings/profile", MEMBERS, lambda w, p: _profile_form(p)),
    HttpRule("GET", "/admin/members", ADMINS, lambda w, p: p.http.get("/admin/members?q=a")),
    HttpRule("POST", "/admin/members/{username}", ADMINS, lambda w, p: form(
        p, f"/admin/members/{_victim(w)}", {"action": "suspend"})),
    HttpRule("POST", "/api/users/{username}/suspend", ADMINS,
             lambda w, p: api(p, "POST", f"/api/users/{_victim(w)}/suspend")),
    HttpRule("POST", "/api/users/{username}/unsuspend", ADMINS,
             lambda w, p: api(p, "POST", f"/api/users/{_victim(w)}/unsuspend")),
]
SENDS: list = []
