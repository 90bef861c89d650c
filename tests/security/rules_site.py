"""Matrix rules of the site's own pages: the front door, the site-wide search, the audit log."""

from __future__ import annotations

from .matrix import ALL, MODERATORS, HttpRule
from .rules_core import api

HTTP = [
    HttpRule("GET", "/", ALL, lambda w, p: p.http.get("/")),
    HttpRule("GET", "/search", ALL, lambda w, p: p.http.get("/search?q=matrix")),
    HttpRule("GET", "/api/search", ALL, lambda w, p: api(p, "GET", "/api/search?q=matrix")),
    HttpRule("GET", "/admin/audit", MODERATORS, lambda w, p: p.http.get("/admin/audit")),
    # The log's old address only redirects to /admin/audit, which checks who asks.
    HttpRule("GET", "/moderation/audit", ALL, lambda w, p: p.http.get("/moderation/audit")),
]
SENDS: list = []
