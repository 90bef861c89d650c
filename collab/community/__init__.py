"""The community: members' profiles, the member directory and the administration of members."""

from collab.domain import Domain, NavEntry

from . import admin, api, pages, seed
from .migrations import MIGRATIONS
from .openapi import PATHS, SCHEMAS

DOMAIN = Domain(
    name="community",
    routes=[*api.routes, *pages.routes, *admin.routes],
    nav=[NavEntry("Members", "/members", signed_in=True, order=60),
         NavEntry("Manage members", "/admin/members", roles=("admin",), order=92)],
    seed=seed.seed,
    migrations=MIGRATIONS,
    openapi_paths=PATHS,
    openapi_schemas=SCHEMAS,
)
