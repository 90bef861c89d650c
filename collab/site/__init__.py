"""Site-wide pages that ask every domain through the plug: the front door, search, audit log.

The site is built on the same `Domain` hooks a product uses (as Datasette writes its built-in
features as plugins): it owns no table and knows no product; it loops over the app's domains.
`create_app` always adds it after the configured domains.
"""

from starlette.routing import Route

from collab.domain import Domain, NavEntry

from . import audit, home, search
from .openapi import PATHS

SITE = Domain(
    name="site",
    routes=[
        Route("/", home.home, methods=["GET"]),
        Route("/search", search.search_page, methods=["GET"]),
        Route("/api/search", search.api_search, methods=["GET"]),
        Route("/admin/audit", audit.audit_page, methods=["GET"]),
        Route("/moderation/audit", audit.old_address, methods=["GET"]),
    ],
    nav=[NavEntry("Audit log", "/admin/audit", roles=("moderator", "admin"), order=91)],
    openapi_paths=PATHS,
)
